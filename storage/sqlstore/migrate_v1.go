package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 1, frozen: these structs describe the tables as v1 created
// them and must not change. Every column has an explicit type so the DDL is
// the same on SQLite and MySQL and does not follow gorm's defaults; the one
// exception is customers.id, whose auto-increment form is dialect-specific
// (INTEGER PRIMARY KEY AUTOINCREMENT / BIGINT UNSIGNED AUTO_INCREMENT).
// Hashes are lowercase hex; lists are JSON text; durations are seconds.
// Text primary keys say NOT NULL because SQLite would otherwise accept NULL
// in them. No foreign keys in v1: a client's shop_key may be empty, and
// token rows are swept by expiry rather than cascaded; a later migration can
// add them where they help.

type v1Shop struct {
	Key         string    `gorm:"column:shop_key;type:varchar(64);not null;primaryKey"`
	Name        string    `gorm:"column:name;type:varchar(255);not null"`
	Locale      string    `gorm:"column:locale;type:varchar(16);not null"`
	CORSOrigins string    `gorm:"column:cors_origins;type:text;not null"`
	Active      bool      `gorm:"column:active;type:boolean;not null"`
	CreatedAt   time.Time `gorm:"column:created_at;type:datetime;not null"`
}

func (v1Shop) TableName() string { return "shops" }

type v1Customer struct {
	ID                uint64     `gorm:"column:id;primaryKey;autoIncrement"`
	ShopKey           string     `gorm:"column:shop_key;type:varchar(64);not null;uniqueIndex:uq_customers_shop_email,priority:1"`
	Email             string     `gorm:"column:email;type:varchar(255);not null"`
	EmailNormalized   string     `gorm:"column:email_normalized;type:varchar(255);not null;uniqueIndex:uq_customers_shop_email,priority:2"`
	Name              string     `gorm:"column:name;type:varchar(255);not null"`
	PasswordHash      string     `gorm:"column:password_hash;type:varchar(255);not null"`
	EmailVerifiedAt   *time.Time `gorm:"column:email_verified_at;type:datetime"`
	DisabledAt        *time.Time `gorm:"column:disabled_at;type:datetime"`
	AccountID         uint64     `gorm:"column:account_id;type:bigint unsigned;not null"`
	CustomerReference string     `gorm:"column:customer_reference;type:varchar(64);not null"`
	CompanyUserID     string     `gorm:"column:company_user_id;type:varchar(64);not null"`
	FailedLogins      int        `gorm:"column:failed_logins;type:integer;not null"`
	LastFailedAt      *time.Time `gorm:"column:last_failed_at;type:datetime"`
	LockedUntil       *time.Time `gorm:"column:locked_until;type:datetime"`
	CreatedAt         time.Time  `gorm:"column:created_at;type:datetime;not null"`
	UpdatedAt         time.Time  `gorm:"column:updated_at;type:datetime;not null"`
}

func (v1Customer) TableName() string { return "customers" }

type v1Client struct {
	ID                     string    `gorm:"column:id;type:varchar(128);not null;primaryKey"`
	SecretHash             string    `gorm:"column:secret_hash;type:varchar(64);not null"`
	Public                 bool      `gorm:"column:public;type:boolean;not null"`
	ShopKey                string    `gorm:"column:shop_key;type:varchar(64);not null"`
	GrantTypes             string    `gorm:"column:grant_types;type:text;not null"`
	Scopes                 string    `gorm:"column:scopes;type:text;not null"`
	Audiences              string    `gorm:"column:audiences;type:text;not null"`
	AccessTokenTTL         int64     `gorm:"column:access_token_ttl;type:bigint;not null"`
	RefreshTokenTTL        int64     `gorm:"column:refresh_token_ttl;type:bigint;not null"`
	CORSOrigins            string    `gorm:"column:cors_origins;type:text;not null"`
	TokenProfile           string    `gorm:"column:token_profile;type:varchar(32);not null"`
	AccessTokenAlg         string    `gorm:"column:access_token_alg;type:varchar(16);not null"`
	IDTokenAlg             string    `gorm:"column:id_token_alg;type:varchar(16);not null"`
	FirstParty             bool      `gorm:"column:first_party;type:boolean;not null"`
	RedirectURIs           string    `gorm:"column:redirect_uris;type:text;not null"`
	PostLogoutRedirectURIs string    `gorm:"column:post_logout_redirect_uris;type:text;not null"`
	CreatedAt              time.Time `gorm:"column:created_at;type:datetime;not null"`
}

func (v1Client) TableName() string { return "clients" }

type v1RefreshToken struct {
	TokenHash       string     `gorm:"column:token_hash;type:char(64);not null;primaryKey"`
	FamilyID        string     `gorm:"column:family_id;type:varchar(64);not null;index:idx_refresh_tokens_family_id"`
	ClientID        string     `gorm:"column:client_id;type:varchar(128);not null"`
	CustomerID      uint64     `gorm:"column:customer_id;type:bigint unsigned;not null;index:idx_refresh_tokens_customer_id"`
	ShopKey         string     `gorm:"column:shop_key;type:varchar(64);not null"`
	Scope           string     `gorm:"column:scope;type:text;not null"`
	AuthTime        *time.Time `gorm:"column:auth_time;type:datetime"`
	IssuedAt        *time.Time `gorm:"column:issued_at;type:datetime"`
	ExpiresAt       *time.Time `gorm:"column:expires_at;type:datetime;index:idx_refresh_tokens_expires_at"`
	FamilyExpiresAt *time.Time `gorm:"column:family_expires_at;type:datetime"`
	SpentAt         *time.Time `gorm:"column:spent_at;type:datetime"`
	RevokedAt       *time.Time `gorm:"column:revoked_at;type:datetime"`
	SuccessorHash   string     `gorm:"column:successor_hash;type:varchar(64);not null"`
}

func (v1RefreshToken) TableName() string { return "refresh_tokens" }

type v1IssuedAccessToken struct {
	JTI       string     `gorm:"column:jti;type:varchar(128);not null;primaryKey"`
	FamilyID  string     `gorm:"column:family_id;type:varchar(64);not null;index:idx_issued_access_tokens_family_id"`
	ExpiresAt *time.Time `gorm:"column:expires_at;type:datetime;index:idx_issued_access_tokens_expires_at"`
}

func (v1IssuedAccessToken) TableName() string { return "issued_access_tokens" }

type v1RevokedAccessToken struct {
	JTI       string     `gorm:"column:jti;type:varchar(128);not null;primaryKey"`
	ExpiresAt *time.Time `gorm:"column:expires_at;type:datetime;index:idx_revoked_access_tokens_expires_at"`
}

func (v1RevokedAccessToken) TableName() string { return "revoked_access_tokens" }

type v1SigningKey struct {
	KID                 string     `gorm:"column:kid;type:varchar(64);not null;primaryKey"`
	Algorithm           string     `gorm:"column:algorithm;type:varchar(16);not null"`
	Generation          int64      `gorm:"column:generation;type:bigint;not null;uniqueIndex:uq_signing_keys_generation"`
	EncryptedPrivateKey []byte     `gorm:"column:encrypted_private_key;type:blob;not null"`
	PublicJWK           []byte     `gorm:"column:public_jwk;type:blob;not null"`
	CreatedAt           time.Time  `gorm:"column:created_at;type:datetime;not null"`
	NotBefore           *time.Time `gorm:"column:not_before;type:datetime"`
	RetireAfter         *time.Time `gorm:"column:retire_after;type:datetime"`
	RemoveAfter         *time.Time `gorm:"column:remove_after;type:datetime"`
}

func (v1SigningKey) TableName() string { return "signing_keys" }

func migrateV1(tx *gorm.DB, dialect string) error {
	return createTables(tx, dialect,
		&v1Shop{},
		&v1Customer{},
		&v1Client{},
		&v1RefreshToken{},
		&v1IssuedAccessToken{},
		&v1RevokedAccessToken{},
		&v1SigningKey{},
	)
}
