package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/shopauth/shopauth/storage"
)

// upsertInsertBatch is the rows of one multi-row INSERT (16 columns
// each). Far below SQLite's bound-variable limit on purpose: the SQLite
// driver binds parameters in time quadratic in their number, so 100 rows
// a statement import several times faster than 500.
const upsertInsertBatch = 100

// upsertLookupBatch is the e-mails of one SELECT … IN (…).
const upsertLookupBatch = 200

// UpsertCustomers writes a batch of customers of one shop in one
// transaction, matching by (ShopKey, EmailNormalized): a customer already
// stored keeps its ID, creation time and lockout state and takes every
// other field from cs (a nil EmailVerifiedAt or DisabledAt clears it);
// the others are inserted, with their ID when it is set. It reports how
// many were inserted and updated. Nothing of the batch is written when any
// row fails: storage.ErrConflict when an explicit ID belongs to another
// customer or an e-mail appears twice in cs.
//
// Matching is done with a SELECT, not the dialects' upsert statements:
// MySQL's ON DUPLICATE KEY UPDATE fires on any unique key, so a row whose
// explicit ID belongs to another customer would overwrite that customer.
func (s *Store) UpsertCustomers(ctx context.Context, cs []storage.Customer) (inserted, updated int, err error) {
	if len(cs) == 0 {
		return 0, 0, nil
	}
	now := s.now()
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		inserted, updated = 0, 0
		type key struct{ shop, email string }
		byShop := map[string][]string{}
		seen := make(map[key]bool, len(cs))
		for _, c := range cs {
			k := key{c.ShopKey, c.EmailNormalized}
			if seen[k] {
				return fmt.Errorf("e-mail %q twice in one batch: %w", c.EmailNormalized, storage.ErrConflict)
			}
			seen[k] = true
			byShop[c.ShopKey] = append(byShop[c.ShopKey], c.EmailNormalized)
		}
		existing := make(map[key]uint64, len(cs))
		for shop, emails := range byShop {
			for start := 0; start < len(emails); start += upsertLookupBatch {
				chunk := emails[start:min(start+upsertLookupBatch, len(emails))]
				var rows []struct {
					ID              uint64
					EmailNormalized string
				}
				if err := tx.Model(&customerModel{}).Select("id", "email_normalized").
					Where("shop_key = ? AND email_normalized IN ?", shop, chunk).Find(&rows).Error; err != nil {
					return err
				}
				for _, r := range rows {
					existing[key{shop, r.EmailNormalized}] = r.ID
				}
			}
		}
		var withID, withoutID []customerModel
		for i := range cs {
			c := &cs[i]
			if id, ok := existing[key{c.ShopKey, c.EmailNormalized}]; ok {
				res := tx.Model(&customerModel{}).Where("id = ?", id).Updates(map[string]any{
					"email":              c.Email,
					"name":               c.Name,
					"password_hash":      c.PasswordHash,
					"email_verified_at":  dbTimePtr(c.EmailVerifiedAt),
					"disabled_at":        dbTimePtr(c.DisabledAt),
					"account_id":         c.AccountID,
					"customer_reference": c.CustomerReference,
					"company_user_id":    c.CompanyUserID,
					"updated_at":         now,
				})
				if res.Error != nil {
					return res.Error
				}
				updated++
				continue
			}
			m := fromCustomer(c)
			if m.CreatedAt.IsZero() {
				m.CreatedAt = now
			}
			m.UpdatedAt = now
			if m.ID != 0 {
				withID = append(withID, m)
			} else {
				withoutID = append(withoutID, m)
			}
		}
		// Rows with and without an explicit ID go in separate statements:
		// in one multi-row INSERT, SQLite would store a zero ID as 0.
		for _, batch := range [][]customerModel{withID, withoutID} {
			if len(batch) == 0 {
				continue
			}
			if err := tx.CreateInBatches(batch, upsertInsertBatch).Error; err != nil {
				return err
			}
			inserted += len(batch)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("upsert customers: %w", convertErr(err))
	}
	return inserted, updated, nil
}

// SetDisabled disables the customer (at set) or enables it again (nil);
// storage.ErrNotFound for an unknown id.
func (s *Store) SetDisabled(ctx context.Context, id uint64, at *time.Time) error {
	if err := s.setCustomerTime(ctx, id, "disabled_at", at); err != nil {
		return fmt.Errorf("set disabled: %w", err)
	}
	return nil
}
