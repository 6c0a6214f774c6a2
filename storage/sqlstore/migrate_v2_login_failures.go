package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 2, frozen: login_failures counts failed logins per
// (shop, normalized e-mail) — for addresses no customer has as well, so an
// unknown address locks like a known one. The v1 lockout columns of
// customers stay unused: one table for both cases keeps the atomic update
// in one place.

type v2LoginFailure struct {
	ShopKey         string     `gorm:"column:shop_key;type:varchar(64);not null;primaryKey"`
	EmailNormalized string     `gorm:"column:email_normalized;type:varchar(255);not null;primaryKey"`
	FailedLogins    int        `gorm:"column:failed_logins;type:integer;not null"`
	LastFailedAt    *time.Time `gorm:"column:last_failed_at;type:datetime"`
	LockedUntil     *time.Time `gorm:"column:locked_until;type:datetime"`
	Lockouts        int        `gorm:"column:lockouts;type:integer;not null"`
}

func (v2LoginFailure) TableName() string { return "login_failures" }

func migrateV2(tx *gorm.DB, dialect string) error {
	return createTables(tx, dialect, &v2LoginFailure{})
}
