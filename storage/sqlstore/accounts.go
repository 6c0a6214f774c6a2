package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/shopauth/shopauth/storage"
)

type accountKeyModel struct {
	KeyHash    string `gorm:"column:key_hash;primaryKey"`
	Purpose    string `gorm:"column:purpose"`
	ShopKey    string `gorm:"column:shop_key"`
	CustomerID uint64 `gorm:"column:customer_id"`
	ContinueTo string `gorm:"column:continue_to"`
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	UsedAt     *time.Time
	VoidedAt   *time.Time
}

func (accountKeyModel) TableName() string { return "account_keys" }

func fromAccountKey(k storage.AccountKey) accountKeyModel {
	return accountKeyModel{
		KeyHash: k.KeyHash, Purpose: k.Purpose, ShopKey: k.ShopKey, CustomerID: k.CustomerID,
		ContinueTo: k.ContinueTo, CreatedAt: dbTime(k.CreatedAt), ExpiresAt: dbTimeOrNull(k.ExpiresAt),
		UsedAt: dbTimePtr(k.UsedAt), VoidedAt: dbTimePtr(k.VoidedAt),
	}
}

func (m accountKeyModel) toStorage() storage.AccountKey {
	return storage.AccountKey{
		KeyHash: m.KeyHash, Purpose: m.Purpose, ShopKey: m.ShopKey, CustomerID: m.CustomerID,
		ContinueTo: m.ContinueTo, CreatedAt: fromDB(m.CreatedAt), ExpiresAt: fromDBOrZero(m.ExpiresAt),
		UsedAt: fromDBPtr(m.UsedAt), VoidedAt: fromDBPtr(m.VoidedAt),
	}
}

type customerProfileModel struct {
	CustomerID uint64 `gorm:"column:customer_id;primaryKey;autoIncrement:false"`
	Salutation string `gorm:"column:salutation"`
	FirstName  string `gorm:"column:first_name"`
	LastName   string `gorm:"column:last_name"`
	Gender     string `gorm:"column:gender"`
}

func (customerProfileModel) TableName() string { return "customer_profiles" }

type outboxMailModel struct {
	ID            uint64 `gorm:"column:id;primaryKey;autoIncrement"`
	Sealed        []byte `gorm:"column:sealed"`
	NextAttemptAt *time.Time
	Attempts      int `gorm:"column:attempts"`
	CreatedAt     time.Time
	SentAt        *time.Time
	FailedAt      *time.Time
	LastError     string `gorm:"column:last_error"`
}

func (outboxMailModel) TableName() string { return "mail_outbox" }

func fromOutboxMail(m storage.OutboxMail) outboxMailModel {
	sealed := m.Sealed
	if sealed == nil {
		sealed = []byte{} // NOT NULL
	}
	return outboxMailModel{
		ID: m.ID, Sealed: sealed, NextAttemptAt: dbTimePtr(m.NextAttemptAt), Attempts: m.Attempts,
		CreatedAt: dbTime(m.CreatedAt), SentAt: dbTimePtr(m.SentAt), FailedAt: dbTimePtr(m.FailedAt),
		LastError: truncateError(m.LastError),
	}
}

func (m outboxMailModel) toStorage() storage.OutboxMail {
	return storage.OutboxMail{
		ID: m.ID, Sealed: m.Sealed, NextAttemptAt: fromDBPtr(m.NextAttemptAt), Attempts: m.Attempts,
		CreatedAt: fromDB(m.CreatedAt), SentAt: fromDBPtr(m.SentAt), FailedAt: fromDBPtr(m.FailedAt),
		LastError: m.LastError,
	}
}

// maxLastError is the width of mail_outbox.last_error.
const maxLastError = 512

// truncateError cuts an error text to the column, on a rune boundary.
func truncateError(s string) string {
	if len(s) <= maxLastError {
		return s
	}
	cut := maxLastError
	for cut > 0 && s[cut]&0xC0 == 0x80 { // inside a UTF-8 sequence
		cut--
	}
	return s[:cut]
}

// RegisterCustomer stores a new customer, their profile, their
// confirmation key and the mail carrying it, in one transaction: either
// all of it is written or nothing. storage.ErrConflict when the shop has a
// customer with the e-mail already (nothing written). The customer's ID,
// reference and account id are written back to r.Customer.
func (s *Store) RegisterCustomer(ctx context.Context, r *storage.Registration) error {
	c := r.Customer
	var registered customerModel
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		registered = fromCustomer(c)
		if err := tx.Create(&registered).Error; err != nil {
			return err
		}
		updates := map[string]any{}
		if registered.CustomerReference == "" {
			registered.CustomerReference = r.ReferencePrefix + "--" + strconv.FormatUint(registered.ID, 10)
			updates["customer_reference"] = registered.CustomerReference
		}
		if registered.AccountID == 0 {
			registered.AccountID = registered.ID
			updates["account_id"] = registered.AccountID
		}
		if len(updates) > 0 {
			if err := tx.Model(&customerModel{}).Where("id = ?", registered.ID).Updates(updates).Error; err != nil {
				return err
			}
		}
		profile := customerProfileModel{
			CustomerID: registered.ID, Salutation: r.Profile.Salutation, FirstName: r.Profile.FirstName,
			LastName: r.Profile.LastName, Gender: r.Profile.Gender,
		}
		if err := tx.Create(&profile).Error; err != nil {
			return err
		}
		key := r.Key
		key.CustomerID, key.ShopKey = registered.ID, registered.ShopKey
		return insertKeyAndMail(tx, key, r.Mail)
	})
	if err != nil {
		return fmt.Errorf("register customer: %w", convertErr(err))
	}
	c.ID, c.CustomerReference, c.AccountID = registered.ID, registered.CustomerReference, registered.AccountID
	c.CreatedAt, c.UpdatedAt = fromDB(registered.CreatedAt), fromDB(registered.UpdatedAt)
	r.Profile.CustomerID = registered.ID
	r.Key.CustomerID, r.Key.ShopKey = registered.ID, registered.ShopKey
	return nil
}

// IssueAccountKey stores a new key for its customer and purpose and the
// mail carrying it, in one transaction, and voids the customer's older
// unused keys of that purpose: only the newest link works.
func (s *Store) IssueAccountKey(ctx context.Context, key storage.AccountKey, mail storage.OutboxMail) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := voidKeys(tx, key.CustomerID, key.CreatedAt, key.Purpose); err != nil {
			return err
		}
		return insertKeyAndMail(tx, key, mail)
	})
	if err != nil {
		return fmt.Errorf("issue account key: %w", convertErr(err))
	}
	return nil
}

func insertKeyAndMail(tx *gorm.DB, key storage.AccountKey, mail storage.OutboxMail) error {
	k := fromAccountKey(key)
	if err := tx.Create(&k).Error; err != nil {
		return err
	}
	m := fromOutboxMail(mail)
	m.ID = 0
	return tx.Create(&m).Error
}

// voidKeys voids the customer's unused, unvoided keys of the given
// purposes (every purpose when none is named).
func voidKeys(tx *gorm.DB, customerID uint64, now time.Time, purposes ...string) error {
	q := tx.Model(&accountKeyModel{}).Where("customer_id = ? AND used_at IS NULL AND voided_at IS NULL", customerID)
	if len(purposes) > 0 {
		q = q.Where("purpose IN ?", purposes)
	}
	return q.Update("voided_at", dbTime(now)).Error
}

// EnqueueMail stores a mail that carries no key (a notice).
func (s *Store) EnqueueMail(ctx context.Context, mail storage.OutboxMail) error {
	m := fromOutboxMail(mail)
	m.ID = 0
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("enqueue mail: %w", convertErr(err))
	}
	return nil
}

// GetAccountKey returns the key with the given hash, usable or not, or
// storage.ErrNotFound. It decides nothing: using a key is ConfirmEmail's
// or ResetPassword's conditional update.
func (s *Store) GetAccountKey(ctx context.Context, keyHash string) (storage.AccountKey, error) {
	var m accountKeyModel
	if err := s.db.WithContext(ctx).Where("key_hash = ?", keyHash).Take(&m).Error; err != nil {
		return storage.AccountKey{}, convertErr(err)
	}
	return m.toStorage(), nil
}

// useKey spends the key in tx with one conditional UPDATE: only an unused,
// unvoided, unexpired key of the purpose matches, so of concurrent users
// exactly one wins. storage.ErrNotFound for no such key of the purpose,
// storage.ErrConflict for one that is used, voided or expired.
func useKey(tx *gorm.DB, keyHash, purpose string, now time.Time) (accountKeyModel, error) {
	now = dbTime(now)
	res := tx.Model(&accountKeyModel{}).
		Where("key_hash = ? AND purpose = ? AND used_at IS NULL AND voided_at IS NULL AND expires_at > ?", keyHash, purpose, now).
		Update("used_at", now)
	if res.Error != nil {
		return accountKeyModel{}, res.Error
	}
	var m accountKeyModel
	if err := tx.Where("key_hash = ? AND purpose = ?", keyHash, purpose).Take(&m).Error; err != nil {
		return accountKeyModel{}, err
	}
	if res.RowsAffected != 1 {
		return accountKeyModel{}, storage.ErrConflict
	}
	return m, nil
}

// ConfirmEmail uses a confirmation key and marks its customer's e-mail
// address verified (an address verified already keeps its first time), in
// one transaction. It returns the key; errors as useKey's, with nothing
// written.
func (s *Store) ConfirmEmail(ctx context.Context, keyHash string, now time.Time) (storage.AccountKey, error) {
	var key accountKeyModel
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		if key, err = useKey(tx, keyHash, storage.KeyConfirmEmail, now); err != nil {
			return err
		}
		return tx.Model(&customerModel{}).
			Where("id = ? AND email_verified_at IS NULL", key.CustomerID).
			Updates(map[string]any{"email_verified_at": dbTime(now), "updated_at": dbTime(now)}).Error
	})
	if err != nil {
		return storage.AccountKey{}, fmt.Errorf("confirm email: %w", convertErr(err))
	}
	return key.toStorage(), nil
}

// ResetPassword uses a reset key and, in the same transaction, sets the
// customer's password hash, verifies their e-mail address (the key came
// by mail), clears their failed logins, voids their other keys and ends
// every refresh family and browser session they have. It returns the key;
// errors as useKey's, with nothing written.
func (s *Store) ResetPassword(ctx context.Context, keyHash, newHash string, now time.Time) (storage.AccountKey, error) {
	var key accountKeyModel
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		if key, err = useKey(tx, keyHash, storage.KeyResetPassword, now); err != nil {
			return err
		}
		var c customerModel
		if err := tx.Where("id = ?", key.CustomerID).Take(&c).Error; err != nil {
			return err
		}
		updates := map[string]any{"password_hash": newHash, "updated_at": dbTime(now)}
		if c.EmailVerifiedAt == nil {
			updates["email_verified_at"] = dbTime(now)
		}
		if err := tx.Model(&customerModel{}).Where("id = ?", c.ID).Updates(updates).Error; err != nil {
			return err
		}
		if err := tx.Where("shop_key = ? AND email_normalized = ?", c.ShopKey, c.EmailNormalized).
			Delete(&loginFailureModel{}).Error; err != nil {
			return err
		}
		if err := voidKeys(tx, c.ID, now); err != nil {
			return err
		}
		return endCustomerSessions(tx, c.ID, c.ShopKey, now, "", "")
	})
	if err != nil {
		return storage.AccountKey{}, fmt.Errorf("reset password: %w", convertErr(err))
	}
	return key.toStorage(), nil
}

// ChangePassword replaces the password hash only if ch.OldHash is still
// the stored one, and in the same transaction voids the customer's unused
// reset keys and ends their refresh families and browser sessions except
// the ones ch names. storage.ErrConflict when the hash changed meanwhile,
// storage.ErrNotFound for an unknown customer; nothing written then.
func (s *Store) ChangePassword(ctx context.Context, ch storage.PasswordChange) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&customerModel{}).
			Where("id = ? AND password_hash = ?", ch.CustomerID, ch.OldHash).
			Updates(map[string]any{"password_hash": ch.NewHash, "updated_at": dbTime(ch.Now)})
		if res.Error != nil {
			return res.Error
		}
		var c customerModel
		if err := tx.Select("id", "shop_key").Where("id = ?", ch.CustomerID).Take(&c).Error; err != nil {
			return err
		}
		if res.RowsAffected != 1 {
			return storage.ErrConflict
		}
		if err := voidKeys(tx, c.ID, ch.Now, storage.KeyResetPassword); err != nil {
			return err
		}
		return endCustomerSessions(tx, c.ID, c.ShopKey, ch.Now, ch.KeepSessionHash, ch.KeepAccessJTI)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", convertErr(err))
	}
	return nil
}

// endCustomerSessions revokes, in tx, every live refresh family of the
// customer (with the access tokens issued from them) except the family of
// the access token keepJTI, and deletes their browser sessions except
// keepSession.
func endCustomerSessions(tx *gorm.DB, customerID uint64, shopKey string, now time.Time, keepSession, keepJTI string) error {
	now = dbTime(now)
	keepFamily := ""
	if keepJTI != "" {
		var families []string
		if err := tx.Model(&issuedAccessTokenModel{}).Where("jti = ?", keepJTI).Pluck("family_id", &families).Error; err != nil {
			return err
		}
		if len(families) == 1 {
			keepFamily = families[0]
		}
	}
	var families []string
	if err := tx.Model(&refreshTokenModel{}).Distinct("family_id").
		Where("customer_id = ? AND shop_key = ? AND revoked_at IS NULL AND expires_at > ? AND family_id <> ?",
			customerID, shopKey, now, keepFamily).
		Pluck("family_id", &families).Error; err != nil {
		return err
	}
	if _, err := revokeFamilies(tx, families, now); err != nil {
		return err
	}
	return tx.Where("customer_id = ? AND id_hash <> ?", customerID, keepSession).Delete(&browserSessionModel{}).Error
}

// GetCustomerProfile returns what the customer gave at registration, or
// storage.ErrNotFound (a customer an operator created has none).
func (s *Store) GetCustomerProfile(ctx context.Context, customerID uint64) (storage.CustomerProfile, error) {
	var m customerProfileModel
	if err := s.db.WithContext(ctx).Where("customer_id = ?", customerID).Take(&m).Error; err != nil {
		return storage.CustomerProfile{}, convertErr(err)
	}
	return storage.CustomerProfile{
		CustomerID: m.CustomerID, Salutation: m.Salutation, FirstName: m.FirstName, LastName: m.LastName, Gender: m.Gender,
	}, nil
}

// DueMail returns at most limit unsettled mails whose next attempt is due
// at now, oldest first.
func (s *Store) DueMail(ctx context.Context, now time.Time, limit int) ([]storage.OutboxMail, error) {
	if limit <= 0 {
		return nil, errors.New("due mail: limit must be positive")
	}
	var ms []outboxMailModel
	if err := s.db.WithContext(ctx).
		Where("next_attempt_at IS NOT NULL AND next_attempt_at <= ?", dbTime(now)).
		Order("id").Limit(limit).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("due mail: %w", convertErr(err))
	}
	out := make([]storage.OutboxMail, len(ms))
	for i, m := range ms {
		out[i] = m.toStorage()
	}
	return out, nil
}

// MarkMailSent settles a mail as delivered and forgets its sealed message
// (it holds a key). storage.ErrNotFound for an unknown or settled mail.
func (s *Store) MarkMailSent(ctx context.Context, id uint64, now time.Time) error {
	return s.settleMail(ctx, "mark mail sent", id, map[string]any{
		"sent_at": dbTime(now), "next_attempt_at": nil, "sealed": []byte{}, "last_error": "",
	})
}

// MarkMailFailed settles a mail as given up, keeping why, and forgets its
// sealed message. storage.ErrNotFound for an unknown or settled mail.
func (s *Store) MarkMailFailed(ctx context.Context, id uint64, now time.Time, lastErr string) error {
	return s.settleMail(ctx, "mark mail failed", id, map[string]any{
		"failed_at": dbTime(now), "next_attempt_at": nil, "sealed": []byte{}, "last_error": truncateError(lastErr),
	})
}

// MarkMailRetry records a failed attempt: the mail is tried again at
// next. storage.ErrNotFound for an unknown or settled mail.
func (s *Store) MarkMailRetry(ctx context.Context, id uint64, attempts int, next time.Time, lastErr string) error {
	return s.settleMail(ctx, "mark mail retry", id, map[string]any{
		"attempts": attempts, "next_attempt_at": dbTime(next), "last_error": truncateError(lastErr),
	})
}

// settleMail updates an unsettled mail.
func (s *Store) settleMail(ctx context.Context, op string, id uint64, updates map[string]any) error {
	res := s.db.WithContext(ctx).Model(&outboxMailModel{}).
		Where("id = ? AND next_attempt_at IS NOT NULL", id).Updates(updates)
	if res.Error != nil {
		return fmt.Errorf("%s: %w", op, convertErr(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	return nil
}

// GetOutboxMail returns one mail, settled or not, or storage.ErrNotFound.
func (s *Store) GetOutboxMail(ctx context.Context, id uint64) (storage.OutboxMail, error) {
	var m outboxMailModel
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return storage.OutboxMail{}, convertErr(err)
	}
	return m.toStorage(), nil
}

// SweepAccountKeys deletes at most limit account keys that expired before
// before: used, voided or not, an expired key opens nothing.
func (s *Store) SweepAccountKeys(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.sweep(ctx, "account_keys", []string{"key_hash"}, "expires_at < ?", []any{dbTime(before)}, limit)
}

// SweepOutbox deletes at most limit settled mails (sent or given up)
// written before before. An unsettled mail is never swept.
func (s *Store) SweepOutbox(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.sweep(ctx, "mail_outbox", []string{"id"}, "created_at < ? AND next_attempt_at IS NULL", []any{dbTime(before)}, limit)
}
