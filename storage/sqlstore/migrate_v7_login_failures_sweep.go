package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 7, frozen: login_failures gets an index on last_failed_at,
// so the sweeper finds forgotten records (last failure and lock long past)
// without scanning the table. locked_until needs none: a lock ends at most
// MaxLock after the failure that set it, so it only filters the few rows
// the index finds.

type v7LoginFailure struct {
	LastFailedAt *time.Time `gorm:"column:last_failed_at;type:datetime;index:idx_login_failures_last_failed_at"`
}

func (v7LoginFailure) TableName() string { return "login_failures" }

func migrateV7(tx *gorm.DB, dialect string) error {
	return createIndexes(tx, dialect, &v7LoginFailure{}, "idx_login_failures_last_failed_at")
}
