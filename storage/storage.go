package storage

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("storage: not found")

// ErrConflict is returned when a write violates a uniqueness rule or an
// atomic state transition lost a race.
var ErrConflict = errors.New("storage: conflict")

// ErrUnavailable is returned when the database cannot answer now: it is
// unreachable, it did not answer within the request's deadline, or a
// cluster refused the write after the store's own retries (a Galera
// certification conflict, a node that is not yet synced). Nothing was
// written. Callers answer 503 with Retry-After, never 500, and the client
// may try again.
var ErrUnavailable = errors.New("storage: database unavailable")

// Shop is a tenant, addressed by its key (the legacy APIs' shopKey).
type Shop struct {
	Key         string
	Name        string
	Locale      string
	CORSOrigins []string
	Active      bool
	CreatedAt   time.Time
}

// Customer is a shop's end user. ID is the `sub` of every token issued to
// the customer and is unique across shops.
type Customer struct {
	ID                uint64
	ShopKey           string
	Email             string // as entered, trimmed
	EmailNormalized   string // lower-cased, trimmed: the lookup key
	Name              string
	PasswordHash      string // PHC ($argon2id$…) or bcrypt/phpass form
	EmailVerifiedAt   *time.Time
	DisabledAt        *time.Time
	AccountID         uint64
	CustomerReference string
	CompanyUserID     string
	FailedLogins      int
	LastFailedAt      *time.Time
	LockedUntil       *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Verified reports whether the customer's e-mail address is confirmed.
func (c *Customer) Verified() bool { return c.EmailVerifiedAt != nil }

// Disabled reports whether an operator disabled the account.
func (c *Customer) Disabled() bool { return c.DisabledAt != nil }

// MayUseTokens reports whether the customer's tokens are honoured.
func (c *Customer) MayUseTokens() bool { return mayUseTokens(c.EmailVerifiedAt, c.DisabledAt) }

// mayUseTokens is the one rule: a confirmed e-mail and no disabling.
func mayUseTokens(emailVerifiedAt, disabledAt *time.Time) bool {
	return emailVerifiedAt != nil && disabledAt == nil
}

// TokenHolder is the part of a customer that checking one of their access
// tokens needs, read in one query with the token's revocation: every
// introspection asks it, so the query stays small.
type TokenHolder struct {
	Email           string
	EmailVerifiedAt *time.Time
	DisabledAt      *time.Time
	// Revoked reports whether the token's jti is on the revocation list.
	Revoked bool
}

// MayUseTokens is Customer.MayUseTokens.
func (h TokenHolder) MayUseTokens() bool { return mayUseTokens(h.EmailVerifiedAt, h.DisabledAt) }

// Client is an OAuth 2.0 client registration.
type Client struct {
	ID         string
	SecretHash string // lowercase hex SHA-256 of the secret; empty for public clients
	Public     bool
	// ShopKey binds the client to one shop; customers of other shops cannot
	// sign in through it. Empty means the client may name no customers
	// (reserved for machine clients).
	ShopKey                string
	GrantTypes             []string
	Scopes                 []string
	Audiences              []string
	AccessTokenTTL         time.Duration // 0: server default
	RefreshTokenTTL        time.Duration // 0: server default
	CORSOrigins            []string
	TokenProfile           string // "rfc9068" (default) or "spryker"
	AccessTokenAlg         string // "" means RS256
	IDTokenAlg             string // "" means RS256
	FirstParty             bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	CreatedAt              time.Time
}

// RefreshToken is the stored form of a refresh token: never the token
// itself, only its SHA-256. Every token belongs to a family (one login);
// rotation spends a token and issues its successor in the same family.
type RefreshToken struct {
	TokenHash  string // lowercase hex SHA-256 of the presented token
	FamilyID   string
	ClientID   string
	CustomerID uint64
	ShopKey    string
	Scope      string // space-separated granted scope
	AuthTime   time.Time
	IssuedAt   time.Time
	ExpiresAt  time.Time
	// FamilyExpiresAt is the absolute end of the family (client refresh TTL
	// from the login); a successor never outlives it.
	FamilyExpiresAt time.Time
	// SpentAt is when the token was exchanged for its successor, to the
	// microsecond: the reuse grace is measured from it.
	SpentAt   *time.Time
	RevokedAt *time.Time
	// SuccessorHash is set when the token is spent: the hash of the token
	// issued in exchange, so a retry inside the grace window can be told
	// apart from reuse.
	SuccessorHash string
	// SessionHash is the hosted pages' browser session (its IDHash) whose
	// authorization code started the family, carried through every
	// rotation; empty for families of other grants. RP-initiated logout
	// ends the session's families by it.
	SessionHash string
	// PredecessorSeal is this token encrypted under a key only the token it
	// replaced yields (tokens.RefreshSecrets.Seal), so that a retry of the
	// predecessor is answered with it on any replica; nil for a family's
	// first token and for tokens stored before the seal existed.
	PredecessorSeal []byte
}

// IssuedAccessToken records the jti of an access token minted from a
// refresh family, so that revoking the family revokes its access tokens.
type IssuedAccessToken struct {
	JTI       string
	FamilyID  string
	ExpiresAt time.Time
}

// SigningKey is a key pair used to sign tokens. The private part is stored
// encrypted; PublicJWK is the JSON of the public JWK.
type SigningKey struct {
	KID                 string
	Algorithm           string // RS256, ES256, EdDSA
	Generation          int64  // unique: only one replica creates each key
	EncryptedPrivateKey []byte
	PublicJWK           []byte
	CreatedAt           time.Time
	NotBefore           time.Time  // signs from this time on
	RetireAfter         *time.Time // stops signing; stays published until RemoveAfter
	RemoveAfter         *time.Time // leaves the JWKS
}

// SigningKeyCiphertext is one key's encrypted private key before and after
// re-encryption under a new key encryption key (`shopauth keys rekey`).
type SigningKeyCiphertext struct {
	KID string
	Old []byte // the ciphertext the row must still hold
	New []byte
}

// RevokedAccessToken records a revoked access-token jti until the token
// would have expired anyway.
type RevokedAccessToken struct {
	JTI       string
	ExpiresAt time.Time
}

// AuthorizationCode is the stored form of an authorization code (RFC 6749
// §4.1.2): never the code itself, only its SHA-256, bound to everything the
// token endpoint must check when the code is redeemed.
type AuthorizationCode struct {
	CodeHash    string // lowercase hex SHA-256 of the code
	ClientID    string
	CustomerID  uint64
	ShopKey     string
	RedirectURI string
	Scope       string // space-separated granted scope
	Nonce       string
	// CodeChallenge is the PKCE S256 challenge (RFC 7636 §4.4); empty when
	// a confidential client sent none.
	CodeChallenge string
	AuthTime      time.Time
	// FamilyID is the refresh family of every token issued from the code,
	// so that a second redemption can revoke them (RFC 6749 §4.1.2).
	FamilyID       string
	IssuedAt       time.Time
	ExpiresAt      time.Time
	RedeemedAt     *time.Time
	TokensIssuedAt *time.Time
	RevokedAt      *time.Time
	// SessionHash is the browser session (its IDHash) the code was issued
	// in; the family started from the code carries it.
	SessionHash string
}

// Consent is a customer's remembered approval of a client's scopes.
type Consent struct {
	CustomerID uint64
	ClientID   string
	Scopes     []string
	GrantedAt  time.Time
}

// BrowserSession is a customer's sign-in at the hosted login page. The
// cookie carries a random value; only its SHA-256 is stored.
type BrowserSession struct {
	IDHash     string
	ShopKey    string
	CustomerID uint64
	AuthTime   time.Time
	ExpiresAt  time.Time
}
