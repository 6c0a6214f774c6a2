package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/shopauth/shopauth/storage"
)

// CreateCustomer stores a new customer. An ID of 0 is assigned by the
// database and written back to c; an explicit ID (an operator creating
// customer 21) is kept. storage.ErrConflict on a duplicate ID or a
// duplicate (ShopKey, EmailNormalized).
func (s *Store) CreateCustomer(ctx context.Context, c *storage.Customer) error {
	m := fromCustomer(c)
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("create customer: %w", convertErr(err))
	}
	c.ID = m.ID
	c.CreatedAt = fromDB(m.CreatedAt)
	c.UpdatedAt = fromDB(m.UpdatedAt)
	return nil
}

// GetCustomer returns the customer with the given id in the given shop, or
// storage.ErrNotFound (also when the id belongs to another shop).
func (s *Store) GetCustomer(ctx context.Context, shopKey string, id uint64) (storage.Customer, error) {
	var m customerModel
	if err := s.scanOne(ctx, selectCustomer, []any{id, shopKey}, m.scanTargets()...); err != nil {
		return storage.Customer{}, err
	}
	return m.toStorage(), nil
}

// GetTokenHolder reads what checking an access token of the customer
// needs, and whether its jti was revoked, in one query; storage.ErrNotFound
// when the shop has no such customer.
func (s *Store) GetTokenHolder(ctx context.Context, shopKey string, id uint64, jti string) (storage.TokenHolder, error) {
	var h storage.TokenHolder
	if err := s.scanOne(ctx, selectTokenHolder, []any{jti, id, shopKey}, &h.Email, &h.EmailVerifiedAt, &h.DisabledAt, &h.Revoked); err != nil {
		return storage.TokenHolder{}, err
	}
	h.EmailVerifiedAt, h.DisabledAt = fromDBPtr(h.EmailVerifiedAt), fromDBPtr(h.DisabledAt)
	return h, nil
}

// GetCustomerByEmail looks a customer up by the normalized e-mail address
// within a shop; storage.ErrNotFound if there is none.
func (s *Store) GetCustomerByEmail(ctx context.Context, shopKey, emailNormalized string) (storage.Customer, error) {
	var m customerModel
	if err := s.db.WithContext(ctx).
		Where("shop_key = ? AND email_normalized = ?", shopKey, emailNormalized).
		Take(&m).Error; err != nil {
		return storage.Customer{}, convertErr(err)
	}
	return m.toStorage(), nil
}

// UpdatePasswordHash replaces the password hash only if oldHash is still
// the stored one, so a concurrent change (a rehash on login racing a
// password reset) is never overwritten: the loser gets storage.ErrConflict.
// storage.ErrNotFound if the customer does not exist.
func (s *Store) UpdatePasswordHash(ctx context.Context, id uint64, oldHash, newHash string) error {
	db := s.db.WithContext(ctx)
	res := db.Model(&customerModel{}).
		Where("id = ? AND password_hash = ?", id, oldHash).
		Updates(map[string]any{"password_hash": newHash, "updated_at": s.now()})
	if res.Error != nil {
		return fmt.Errorf("update password hash: %w", convertErr(res.Error))
	}
	if res.RowsAffected == 1 {
		return nil
	}
	if err := s.customerExists(db, id); err != nil {
		return err
	}
	return fmt.Errorf("update password hash: %w", storage.ErrConflict)
}

// SetEmailVerified sets or, with nil, clears the verification time;
// storage.ErrNotFound for an unknown id.
func (s *Store) SetEmailVerified(ctx context.Context, id uint64, at *time.Time) error {
	if err := s.setCustomerTime(ctx, id, "email_verified_at", at); err != nil {
		return fmt.Errorf("set email verified: %w", err)
	}
	return nil
}

// setCustomerTime sets or clears one nullable time column of a customer;
// storage.ErrNotFound for an unknown id.
func (s *Store) setCustomerTime(ctx context.Context, id uint64, column string, at *time.Time) error {
	res := s.db.WithContext(ctx).Model(&customerModel{}).
		Where("id = ?", id).
		Updates(map[string]any{column: dbTimePtr(at), "updated_at": s.now()})
	if res.Error != nil {
		return convertErr(res.Error)
	}
	// MySQL counts matched rows here too (clientFoundRows), so 0 means
	// the customer does not exist.
	if res.RowsAffected == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (s *Store) customerExists(db *gorm.DB, id uint64) error {
	var n int64
	if err := db.Model(&customerModel{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return convertErr(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// now is gorm's clock (UTC, whole seconds), for columns set in raw updates.
func (s *Store) now() time.Time { return s.db.NowFunc() }
