package sqlstore

import (
	"gorm.io/gorm"
)

// Schema version 22, frozen: the browser session a refresh family and an
// authorization code came from (the SHA-256 of the hosted pages' session
// cookie, as browser_sessions.id_hash; empty for families of other
// grants), so that RP-initiated logout ends the families that session
// produced (RevokeSessionRefreshTokens). The family's tokens carry it
// from the code through every rotation. Added only if missing, indexes
// too: resumable on MySQL, where the DDL commits on its own.

type v22RefreshToken struct {
	SessionHash string `gorm:"column:session_hash;type:varchar(64);not null;default:'';index:idx_refresh_tokens_session_hash"`
}

func (v22RefreshToken) TableName() string { return "refresh_tokens" }

type v22AuthorizationCode struct {
	SessionHash string `gorm:"column:session_hash;type:varchar(64);not null;default:'';index:idx_authorization_codes_session_hash"`
}

func (v22AuthorizationCode) TableName() string { return "authorization_codes" }

func migrateV22(tx *gorm.DB, dialect string) error {
	if err := addColumns(tx, dialect, &v22RefreshToken{}, "session_hash"); err != nil {
		return err
	}
	if err := createIndexes(tx, dialect, &v22RefreshToken{}, "idx_refresh_tokens_session_hash"); err != nil {
		return err
	}
	if err := addColumns(tx, dialect, &v22AuthorizationCode{}, "session_hash"); err != nil {
		return err
	}
	return createIndexes(tx, dialect, &v22AuthorizationCode{}, "idx_authorization_codes_session_hash")
}
