package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// The runtime models mirror the schema after the latest migration. They
// carry column names only; types, sizes and indexes belong to the frozen
// per-version structs in migrate_v*.go, so editing a model never changes
// the schema by accident.

type shopModel struct {
	Key         string `gorm:"column:shop_key;primaryKey"`
	Name        string `gorm:"column:name"`
	Locale      string `gorm:"column:locale"`
	CORSOrigins string `gorm:"column:cors_origins"`
	Active      bool   `gorm:"column:active"`
	CreatedAt   time.Time
}

func (shopModel) TableName() string { return "shops" }

type customerModel struct {
	ID                uint64 `gorm:"column:id;primaryKey;autoIncrement"`
	ShopKey           string `gorm:"column:shop_key"`
	Email             string `gorm:"column:email"`
	EmailNormalized   string `gorm:"column:email_normalized"`
	Name              string `gorm:"column:name"`
	PasswordHash      string `gorm:"column:password_hash"`
	EmailVerifiedAt   *time.Time
	DisabledAt        *time.Time
	AccountID         uint64 `gorm:"column:account_id"`
	CustomerReference string `gorm:"column:customer_reference"`
	CompanyUserID     string `gorm:"column:company_user_id"`
	FailedLogins      int    `gorm:"column:failed_logins"`
	LastFailedAt      *time.Time
	LockedUntil       *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (customerModel) TableName() string { return "customers" }

type clientModel struct {
	ID                     string `gorm:"column:id;primaryKey"`
	SecretHash             string `gorm:"column:secret_hash"`
	Public                 bool   `gorm:"column:public"`
	ShopKey                string `gorm:"column:shop_key"`
	GrantTypes             string `gorm:"column:grant_types"`
	Scopes                 string `gorm:"column:scopes"`
	Audiences              string `gorm:"column:audiences"`
	AccessTokenTTL         int64  `gorm:"column:access_token_ttl"`  // seconds
	RefreshTokenTTL        int64  `gorm:"column:refresh_token_ttl"` // seconds
	CORSOrigins            string `gorm:"column:cors_origins"`
	TokenProfile           string `gorm:"column:token_profile"`
	AccessTokenAlg         string `gorm:"column:access_token_alg"`
	IDTokenAlg             string `gorm:"column:id_token_alg"`
	FirstParty             bool   `gorm:"column:first_party"`
	RedirectURIs           string `gorm:"column:redirect_uris"`
	PostLogoutRedirectURIs string `gorm:"column:post_logout_redirect_uris"`
	CreatedAt              time.Time
}

func (clientModel) TableName() string { return "clients" }

type refreshTokenModel struct {
	TokenHash       string `gorm:"column:token_hash;primaryKey"`
	FamilyID        string `gorm:"column:family_id"`
	ClientID        string `gorm:"column:client_id"`
	CustomerID      uint64 `gorm:"column:customer_id"`
	ShopKey         string `gorm:"column:shop_key"`
	Scope           string `gorm:"column:scope"`
	AuthTime        *time.Time
	IssuedAt        *time.Time
	ExpiresAt       *time.Time
	FamilyExpiresAt *time.Time
	SpentAt         *time.Time
	RevokedAt       *time.Time
	SuccessorHash   string `gorm:"column:successor_hash"`
	PredecessorSeal []byte `gorm:"column:predecessor_seal"`
	SessionHash     string `gorm:"column:session_hash"`
}

func (refreshTokenModel) TableName() string { return "refresh_tokens" }

type issuedAccessTokenModel struct {
	JTI       string `gorm:"column:jti;primaryKey"`
	FamilyID  string `gorm:"column:family_id"`
	ExpiresAt *time.Time
}

func (issuedAccessTokenModel) TableName() string { return "issued_access_tokens" }

type revokedAccessTokenModel struct {
	JTI       string `gorm:"column:jti;primaryKey"`
	ExpiresAt *time.Time
}

func (revokedAccessTokenModel) TableName() string { return "revoked_access_tokens" }

type signingKeyModel struct {
	KID                 string `gorm:"column:kid;primaryKey"`
	Algorithm           string `gorm:"column:algorithm"`
	Generation          int64  `gorm:"column:generation"`
	EncryptedPrivateKey []byte `gorm:"column:encrypted_private_key"`
	PublicJWK           []byte `gorm:"column:public_jwk"`
	CreatedAt           time.Time
	NotBefore           *time.Time
	RetireAfter         *time.Time
	RemoveAfter         *time.Time
}

func (signingKeyModel) TableName() string { return "signing_keys" }

// dbTime is the one form every time takes in the database: UTC, whole
// seconds. SQLite stores times as "2006-01-02 15:04:05.999999999-07:00"
// text, which compares correctly in SQL only when every value has the same
// offset and no fraction; MySQL datetime would round a fraction instead.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// dbFineTime is the form of the few times that decide something below a
// second (refresh_tokens.spent_at, from which the reuse grace is
// measured): UTC, whole microseconds, which MySQL's DATETIME(6) holds
// exactly and SQLite's text keeps. Their text still compares correctly
// with whole-second values in SQL: "05:06:07.5+00:00" sorts after
// "05:06:07+00:00" and before "05:06:08+00:00".
func dbFineTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func dbFineTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbFineTime(*t)
	return &v
}

// dbTimePtr converts an optional time; nil stays NULL.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// dbTimeOrNull stores a zero time as NULL: MySQL writes a zero time.Time as
// '0000-00-00', which strict servers reject. A NULL expires_at compares as
// not-greater-than anything, so a token without expiry counts as expired.
func dbTimeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return dbTimePtr(&t)
}

// fromDB converts a time read back from either driver to UTC (SQLite
// returns a fixed zone with offset 0, not time.UTC).
func fromDB(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func fromDBPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

func fromDBOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// encodeList stores a list as JSON text; an empty list is "[]".
func encodeList(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic(fmt.Sprintf("sqlstore: marshal []string: %v", err)) // cannot happen for []string
	}
	return string(b)
}

// decodeList reads a list written by encodeList; an empty list comes back
// as nil so that round trips compare equal whichever empty form went in.
func decodeList(column, s string) ([]string, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("sqlstore: column %s holds invalid JSON list: %w", column, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

func fromShop(s storage.Shop) shopModel {
	return shopModel{
		Key:         s.Key,
		Name:        s.Name,
		Locale:      s.Locale,
		CORSOrigins: encodeList(s.CORSOrigins),
		Active:      s.Active,
		CreatedAt:   dbTime(s.CreatedAt),
	}
}

func (m shopModel) toStorage() (storage.Shop, error) {
	origins, err := decodeList("shops.cors_origins", m.CORSOrigins)
	if err != nil {
		return storage.Shop{}, err
	}
	return storage.Shop{
		Key:         m.Key,
		Name:        m.Name,
		Locale:      m.Locale,
		CORSOrigins: origins,
		Active:      m.Active,
		CreatedAt:   fromDB(m.CreatedAt),
	}, nil
}

func fromCustomer(c *storage.Customer) customerModel {
	return customerModel{
		ID:                c.ID,
		ShopKey:           c.ShopKey,
		Email:             c.Email,
		EmailNormalized:   c.EmailNormalized,
		Name:              c.Name,
		PasswordHash:      c.PasswordHash,
		EmailVerifiedAt:   dbTimePtr(c.EmailVerifiedAt),
		DisabledAt:        dbTimePtr(c.DisabledAt),
		AccountID:         c.AccountID,
		CustomerReference: c.CustomerReference,
		CompanyUserID:     c.CompanyUserID,
		FailedLogins:      c.FailedLogins,
		LastFailedAt:      dbTimePtr(c.LastFailedAt),
		LockedUntil:       dbTimePtr(c.LockedUntil),
		CreatedAt:         dbTime(c.CreatedAt),
		UpdatedAt:         dbTime(c.UpdatedAt),
	}
}

func (m customerModel) toStorage() storage.Customer {
	return storage.Customer{
		ID:                m.ID,
		ShopKey:           m.ShopKey,
		Email:             m.Email,
		EmailNormalized:   m.EmailNormalized,
		Name:              m.Name,
		PasswordHash:      m.PasswordHash,
		EmailVerifiedAt:   fromDBPtr(m.EmailVerifiedAt),
		DisabledAt:        fromDBPtr(m.DisabledAt),
		AccountID:         m.AccountID,
		CustomerReference: m.CustomerReference,
		CompanyUserID:     m.CompanyUserID,
		FailedLogins:      m.FailedLogins,
		LastFailedAt:      fromDBPtr(m.LastFailedAt),
		LockedUntil:       fromDBPtr(m.LockedUntil),
		CreatedAt:         fromDB(m.CreatedAt),
		UpdatedAt:         fromDB(m.UpdatedAt),
	}
}

func fromClient(c storage.Client) clientModel {
	return clientModel{
		ID:                     c.ID,
		SecretHash:             c.SecretHash,
		Public:                 c.Public,
		ShopKey:                c.ShopKey,
		GrantTypes:             encodeList(c.GrantTypes),
		Scopes:                 encodeList(c.Scopes),
		Audiences:              encodeList(c.Audiences),
		AccessTokenTTL:         int64(c.AccessTokenTTL / time.Second),
		RefreshTokenTTL:        int64(c.RefreshTokenTTL / time.Second),
		CORSOrigins:            encodeList(c.CORSOrigins),
		TokenProfile:           c.TokenProfile,
		AccessTokenAlg:         c.AccessTokenAlg,
		IDTokenAlg:             c.IDTokenAlg,
		FirstParty:             c.FirstParty,
		RedirectURIs:           encodeList(c.RedirectURIs),
		PostLogoutRedirectURIs: encodeList(c.PostLogoutRedirectURIs),
		CreatedAt:              dbTime(c.CreatedAt),
	}
}

func (m clientModel) toStorage() (storage.Client, error) {
	c := storage.Client{
		ID:              m.ID,
		SecretHash:      m.SecretHash,
		Public:          m.Public,
		ShopKey:         m.ShopKey,
		AccessTokenTTL:  time.Duration(m.AccessTokenTTL) * time.Second,
		RefreshTokenTTL: time.Duration(m.RefreshTokenTTL) * time.Second,
		TokenProfile:    m.TokenProfile,
		AccessTokenAlg:  m.AccessTokenAlg,
		IDTokenAlg:      m.IDTokenAlg,
		FirstParty:      m.FirstParty,
		CreatedAt:       fromDB(m.CreatedAt),
	}
	lists := []struct {
		column string
		value  string
		dst    *[]string
	}{
		{"clients.grant_types", m.GrantTypes, &c.GrantTypes},
		{"clients.scopes", m.Scopes, &c.Scopes},
		{"clients.audiences", m.Audiences, &c.Audiences},
		{"clients.cors_origins", m.CORSOrigins, &c.CORSOrigins},
		{"clients.redirect_uris", m.RedirectURIs, &c.RedirectURIs},
		{"clients.post_logout_redirect_uris", m.PostLogoutRedirectURIs, &c.PostLogoutRedirectURIs},
	}
	for _, l := range lists {
		v, err := decodeList(l.column, l.value)
		if err != nil {
			return storage.Client{}, err
		}
		*l.dst = v
	}
	return c, nil
}

func fromRefreshToken(rt storage.RefreshToken) refreshTokenModel {
	return refreshTokenModel{
		TokenHash:       rt.TokenHash,
		FamilyID:        rt.FamilyID,
		ClientID:        rt.ClientID,
		CustomerID:      rt.CustomerID,
		ShopKey:         rt.ShopKey,
		Scope:           rt.Scope,
		AuthTime:        dbTimeOrNull(rt.AuthTime),
		IssuedAt:        dbTimeOrNull(rt.IssuedAt),
		ExpiresAt:       dbTimeOrNull(rt.ExpiresAt),
		FamilyExpiresAt: dbTimeOrNull(rt.FamilyExpiresAt),
		SpentAt:         dbFineTimePtr(rt.SpentAt),
		RevokedAt:       dbTimePtr(rt.RevokedAt),
		SuccessorHash:   rt.SuccessorHash,
		PredecessorSeal: rt.PredecessorSeal,
		SessionHash:     rt.SessionHash,
	}
}

func (m refreshTokenModel) toStorage() storage.RefreshToken {
	return storage.RefreshToken{
		TokenHash:       m.TokenHash,
		FamilyID:        m.FamilyID,
		ClientID:        m.ClientID,
		CustomerID:      m.CustomerID,
		ShopKey:         m.ShopKey,
		Scope:           m.Scope,
		AuthTime:        fromDBOrZero(m.AuthTime),
		IssuedAt:        fromDBOrZero(m.IssuedAt),
		ExpiresAt:       fromDBOrZero(m.ExpiresAt),
		FamilyExpiresAt: fromDBOrZero(m.FamilyExpiresAt),
		SpentAt:         fromDBPtr(m.SpentAt),
		RevokedAt:       fromDBPtr(m.RevokedAt),
		SuccessorHash:   m.SuccessorHash,
		PredecessorSeal: m.PredecessorSeal,
		SessionHash:     m.SessionHash,
	}
}

func fromIssuedAccessToken(t storage.IssuedAccessToken) issuedAccessTokenModel {
	return issuedAccessTokenModel{JTI: t.JTI, FamilyID: t.FamilyID, ExpiresAt: dbTimeOrNull(t.ExpiresAt)}
}

func fromSigningKey(k storage.SigningKey) signingKeyModel {
	// The columns are NOT NULL; nil would be written as NULL.
	if k.EncryptedPrivateKey == nil {
		k.EncryptedPrivateKey = []byte{}
	}
	if k.PublicJWK == nil {
		k.PublicJWK = []byte{}
	}
	return signingKeyModel{
		KID:                 k.KID,
		Algorithm:           k.Algorithm,
		Generation:          k.Generation,
		EncryptedPrivateKey: k.EncryptedPrivateKey,
		PublicJWK:           k.PublicJWK,
		CreatedAt:           dbTime(k.CreatedAt),
		NotBefore:           dbTimeOrNull(k.NotBefore),
		RetireAfter:         dbTimePtr(k.RetireAfter),
		RemoveAfter:         dbTimePtr(k.RemoveAfter),
	}
}

func (m signingKeyModel) toStorage() storage.SigningKey {
	return storage.SigningKey{
		KID:                 m.KID,
		Algorithm:           m.Algorithm,
		Generation:          m.Generation,
		EncryptedPrivateKey: m.EncryptedPrivateKey,
		PublicJWK:           m.PublicJWK,
		CreatedAt:           fromDB(m.CreatedAt),
		NotBefore:           fromDBOrZero(m.NotBefore),
		RetireAfter:         fromDBPtr(m.RetireAfter),
		RemoveAfter:         fromDBPtr(m.RemoveAfter),
	}
}
