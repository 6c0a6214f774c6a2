package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 6, frozen: authorization codes, remembered consents and
// the hosted login page's browser sessions. Codes and sessions are keyed by
// the SHA-256 of the secret the client or browser holds.

type v6AuthorizationCode struct {
	CodeHash       string     `gorm:"column:code_hash;type:char(64);not null;primaryKey"`
	ClientID       string     `gorm:"column:client_id;type:varchar(128);not null"`
	CustomerID     uint64     `gorm:"column:customer_id;type:bigint unsigned;not null"`
	ShopKey        string     `gorm:"column:shop_key;type:varchar(64);not null"`
	RedirectURI    string     `gorm:"column:redirect_uri;type:text;not null"`
	Scope          string     `gorm:"column:scope;type:text;not null"`
	Nonce          string     `gorm:"column:nonce;type:text;not null"`
	CodeChallenge  string     `gorm:"column:code_challenge;type:varchar(128);not null"`
	AuthTime       *time.Time `gorm:"column:auth_time;type:datetime"`
	FamilyID       string     `gorm:"column:family_id;type:varchar(64);not null"`
	IssuedAt       *time.Time `gorm:"column:issued_at;type:datetime"`
	ExpiresAt      *time.Time `gorm:"column:expires_at;type:datetime;index:idx_authorization_codes_expires_at"`
	RedeemedAt     *time.Time `gorm:"column:redeemed_at;type:datetime"`
	TokensIssuedAt *time.Time `gorm:"column:tokens_issued_at;type:datetime"`
	RevokedAt      *time.Time `gorm:"column:revoked_at;type:datetime"`
}

func (v6AuthorizationCode) TableName() string { return "authorization_codes" }

type v6Consent struct {
	CustomerID uint64    `gorm:"column:customer_id;type:bigint unsigned;not null;primaryKey;autoIncrement:false"`
	ClientID   string    `gorm:"column:client_id;type:varchar(128);not null;primaryKey"`
	Scopes     string    `gorm:"column:scopes;type:text;not null"`
	GrantedAt  time.Time `gorm:"column:granted_at;type:datetime;not null"`
}

func (v6Consent) TableName() string { return "consents" }

type v6BrowserSession struct {
	IDHash     string     `gorm:"column:id_hash;type:char(64);not null;primaryKey"`
	ShopKey    string     `gorm:"column:shop_key;type:varchar(64);not null"`
	CustomerID uint64     `gorm:"column:customer_id;type:bigint unsigned;not null;index:idx_browser_sessions_customer_id"`
	AuthTime   *time.Time `gorm:"column:auth_time;type:datetime"`
	ExpiresAt  *time.Time `gorm:"column:expires_at;type:datetime;index:idx_browser_sessions_expires_at"`
}

func (v6BrowserSession) TableName() string { return "browser_sessions" }

func migrateV6(tx *gorm.DB, dialect string) error {
	return createTables(tx, dialect, &v6AuthorizationCode{}, &v6Consent{}, &v6BrowserSession{})
}
