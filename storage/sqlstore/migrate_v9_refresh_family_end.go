package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 9, frozen: an index on refresh_tokens.family_expires_at.
// The sweeper keeps a spent refresh token until its family ended plus the
// retention (SweepRefreshTokens), and finds those rows through it.

type v9RefreshToken struct {
	FamilyExpiresAt *time.Time `gorm:"column:family_expires_at;type:datetime;index:idx_refresh_tokens_family_expires_at"`
}

func (v9RefreshToken) TableName() string { return "refresh_tokens" }

func migrateV9(tx *gorm.DB, dialect string) error {
	return createIndexes(tx, dialect, &v9RefreshToken{}, "idx_refresh_tokens_family_expires_at")
}
