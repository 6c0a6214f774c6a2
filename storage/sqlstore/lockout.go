package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/shopauth/shopauth/storage"
)

type loginFailureModel struct {
	ShopKey         string     `gorm:"column:shop_key;primaryKey"`
	EmailNormalized string     `gorm:"column:email_normalized;primaryKey"`
	FailedLogins    int        `gorm:"column:failed_logins"`
	LastFailedAt    *time.Time `gorm:"column:last_failed_at"`
	LockedUntil     *time.Time `gorm:"column:locked_until"`
	Lockouts        int        `gorm:"column:lockouts"`
}

func (loginFailureModel) TableName() string { return "login_failures" }

func (m loginFailureModel) toStorage() storage.LoginFailures {
	return storage.LoginFailures{
		ShopKey: m.ShopKey, EmailNormalized: m.EmailNormalized,
		Count: m.FailedLogins, LastFailedAt: fromDBPtr(m.LastFailedAt),
		LockedUntil: fromDBPtr(m.LockedUntil), Lockouts: m.Lockouts,
	}
}

// RecordLoginAttempt counts one login attempt of (shopKey, emailNormalized)
// at now under policy (see storage.LockoutPolicy.Attempt) and returns the
// record after it; allowed is false while the address is locked. The
// read-modify-write runs in one transaction holding the row's write lock
// (SELECT … FOR UPDATE on MySQL; SQLite's immediate transactions lock the
// database), so concurrent attempts — in one process or on several
// replicas — are counted one after the other and never slip past the
// threshold.
func (s *Store) RecordLoginAttempt(ctx context.Context, shopKey, emailNormalized string, now time.Time, policy storage.LockoutPolicy) (rec storage.LoginFailures, allowed bool, err error) {
	now = dbTime(now)
	for range maxRecordTries {
		rec, allowed, err = s.recordLoginAttempt(ctx, shopKey, emailNormalized, now, policy)
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			break
		}
	}
	if err != nil {
		return storage.LoginFailures{}, false, fmt.Errorf("record login attempt: %w", convertErr(err))
	}
	return rec, allowed, nil
}

// maxRecordTries bounds how often RecordLoginAttempt starts over when the
// sweeper deleted the record between its creation and the locked read. Only
// a record that existed already (a cleared one) can be lost so; the next
// try creates one the sweeper spares. Losing three is a fault (a sweeper
// clock far ahead of this one).
const maxRecordTries = 3

// recordLoginAttempt is one try of RecordLoginAttempt; gorm's
// ErrRecordNotFound means the record vanished under it.
func (s *Store) recordLoginAttempt(ctx context.Context, shopKey, emailNormalized string, now time.Time, policy storage.LockoutPolicy) (rec storage.LoginFailures, allowed bool, err error) {
	db := s.db.WithContext(ctx)
	// The row is created outside the transaction: on MySQL an INSERT that
	// meets a duplicate takes a shared lock, and two transactions holding it
	// and both asking for the write lock deadlock. So the sweeper (see
	// SweepLoginFailures) could delete it before the transaction locks it.
	// A new row is stamped with now as its last failure, which Attempt
	// treats exactly like an empty record (no count, no lock to reset) but
	// which the sweeper spares. An existing cleared row is not stamped and
	// can still be deleted in between; the caller then starts over.
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&loginFailureModel{ShopKey: shopKey, EmailNormalized: emailNormalized, LastFailedAt: &now}).Error; err != nil {
		return rec, false, err
	}
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		var m loginFailureModel
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("shop_key = ? AND email_normalized = ?", shopKey, emailNormalized).
			Take(&m).Error; err != nil {
			return err
		}
		rec, allowed = policy.Attempt(m.toStorage(), now)
		if !allowed {
			return nil
		}
		return tx.Model(&loginFailureModel{}).
			Where("shop_key = ? AND email_normalized = ?", shopKey, emailNormalized).
			Updates(map[string]any{
				"failed_logins":  rec.Count,
				"last_failed_at": dbTimePtr(rec.LastFailedAt),
				"locked_until":   dbTimePtr(rec.LockedUntil),
				"lockouts":       rec.Lockouts,
			}).Error
	})
	return rec, allowed, err
}

// ClearLoginFailures forgets the failures and any lock of (shopKey,
// emailNormalized): after a successful login, or an operator's unlock.
// Clearing an address with no record is not an error.
func (s *Store) ClearLoginFailures(ctx context.Context, shopKey, emailNormalized string) error {
	err := s.db.WithContext(ctx).Model(&loginFailureModel{}).
		Where("shop_key = ? AND email_normalized = ?", shopKey, emailNormalized).
		Where("failed_logins <> 0 OR lockouts <> 0 OR locked_until IS NOT NULL").
		Updates(map[string]any{"failed_logins": 0, "last_failed_at": nil, "locked_until": nil, "lockouts": 0}).Error
	if err != nil {
		return fmt.Errorf("clear login failures: %w", convertErr(err))
	}
	return nil
}

// GetLoginFailures returns the record of (shopKey, emailNormalized); a
// zero record (not an error) when there is none.
func (s *Store) GetLoginFailures(ctx context.Context, shopKey, emailNormalized string) (storage.LoginFailures, error) {
	var ms []loginFailureModel
	if err := s.db.WithContext(ctx).
		Where("shop_key = ? AND email_normalized = ?", shopKey, emailNormalized).
		Limit(1).Find(&ms).Error; err != nil {
		return storage.LoginFailures{}, fmt.Errorf("get login failures: %w", convertErr(err))
	}
	if len(ms) == 0 {
		return storage.LoginFailures{ShopKey: shopKey, EmailNormalized: emailNormalized}, nil
	}
	return ms[0].toStorage(), nil
}
