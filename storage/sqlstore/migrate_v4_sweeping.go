package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 4, frozen: leases lets one replica at a time run a
// background job (the sweeper) with a conditional UPDATE on one row, the
// same on SQLite and MySQL; and refresh_tokens gets indexes on spent_at and
// revoked_at, so the sweeper finds long-spent and long-revoked rows without
// scanning the table.

type v4Lease struct {
	Name       string     `gorm:"column:name;type:varchar(64);not null;primaryKey"`
	Holder     string     `gorm:"column:holder;type:varchar(64);not null"`
	ExpiresAt  *time.Time `gorm:"column:expires_at;type:datetime"`
	Generation int64      `gorm:"column:generation;type:bigint;not null"`
}

func (v4Lease) TableName() string { return "leases" }

type v4RefreshToken struct {
	SpentAt   *time.Time `gorm:"column:spent_at;type:datetime;index:idx_refresh_tokens_spent_at"`
	RevokedAt *time.Time `gorm:"column:revoked_at;type:datetime;index:idx_refresh_tokens_revoked_at"`
}

func (v4RefreshToken) TableName() string { return "refresh_tokens" }

func migrateV4(tx *gorm.DB, dialect string) error {
	if err := createTables(tx, dialect, &v4Lease{}); err != nil {
		return err
	}
	return createIndexes(tx, dialect, &v4RefreshToken{}, "idx_refresh_tokens_spent_at", "idx_refresh_tokens_revoked_at")
}
