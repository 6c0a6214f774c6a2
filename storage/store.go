package storage

import (
	"context"
	"time"
)

// The store contract: every operation a backend offers, grouped by concern,
// with the semantics each must keep. storage/sqlstore implements it on
// SQLite and MySQL; storage/storagetest is the conformance suite that holds
// every backend to it. Consumers do not take a Store: each declares the
// two or three methods it uses, next to its code (server/grants.RefreshStore,
// server/revocation.RefreshStore, …).
//
// Common rules: a missing record is ErrNotFound; a lost atomic transition
// or a uniqueness violation is ErrConflict; a database that cannot answer
// is ErrUnavailable (nothing was written); times come back in UTC, whole
// seconds unless a field says otherwise.

// Store is the whole contract.
type Store interface {
	ShopStore
	CustomerStore
	LoginFailureStore
	ClientStore
	RefreshTokenStore
	AccessTokenStore
	SweepStore
	SigningKeyStore
	AuthorizationCodeStore
	ConsentStore
	BrowserSessionStore
	CartStore
	AccountStore
	AdminStore
}

// ShopStore keeps the tenants.
type ShopStore interface {
	CreateShop(ctx context.Context, shop Shop) error
	GetShop(ctx context.Context, key string) (Shop, error)
	ListShops(ctx context.Context) ([]Shop, error)
	// IsEmpty reports whether no shop, customer or client exists yet
	// (`serve --demo` seeds only an empty database).
	IsEmpty(ctx context.Context) (bool, error)
}

// CustomerStore keeps a shop's customers.
type CustomerStore interface {
	// CreateCustomer stores c; an ID of 0 is assigned and written back. A
	// duplicate ID or e-mail in the shop is ErrConflict.
	CreateCustomer(ctx context.Context, c *Customer) error
	GetCustomer(ctx context.Context, shopKey string, id uint64) (Customer, error)
	// GetTokenHolder reads the customer with the revocation of jti in one
	// query (every introspection asks it).
	GetTokenHolder(ctx context.Context, shopKey string, id uint64, jti string) (TokenHolder, error)
	GetCustomerByEmail(ctx context.Context, shopKey, emailNormalized string) (Customer, error)
	// UpdatePasswordHash replaces oldHash only if it is still the stored
	// one (ErrConflict otherwise): a concurrent change wins.
	UpdatePasswordHash(ctx context.Context, id uint64, oldHash, newHash string) error
	SetEmailVerified(ctx context.Context, id uint64, at *time.Time) error
	SetDisabled(ctx context.Context, id uint64, at *time.Time) error
	// UpsertCustomers imports cs in one transaction: new customers are
	// created, known ones merged; an e-mail twice in cs, or a customer a
	// concurrent writer created meanwhile, is ErrConflict and nothing is
	// written.
	UpsertCustomers(ctx context.Context, cs []Customer) (ImportResult, error)
	// PlanUpsertCustomers reports what UpsertCustomers would do with cs
	// now, writing nothing.
	PlanUpsertCustomers(ctx context.Context, cs []Customer) (ImportResult, error)
}

// LoginFailureStore counts failed logins per shop and e-mail for the
// lockout; RecordLoginAttempt is one atomic step.
type LoginFailureStore interface {
	RecordLoginAttempt(ctx context.Context, shopKey, emailNormalized string, now time.Time, policy LockoutPolicy) (LoginFailures, bool, error)
	ClearLoginFailures(ctx context.Context, shopKey, emailNormalized string) error
	GetLoginFailures(ctx context.Context, shopKey, emailNormalized string) (LoginFailures, error)
}

// ClientStore keeps OAuth client registrations.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)
}

// RefreshTokenStore keeps refresh-token families and the access tokens
// minted from them. Every state change is one storage-owned atomic step.
type RefreshTokenStore interface {
	// CreateRefreshToken stores a family's first token and the access
	// token minted with it, in one transaction.
	CreateRefreshToken(ctx context.Context, rt RefreshToken, access IssuedAccessToken) error
	GetRefreshToken(ctx context.Context, tokenHash string) (RefreshToken, error)
	// RotateRefreshToken spends oldHash at now, kept to the microsecond
	// (one conditional update: a token of next's client and family,
	// neither spent, revoked nor expired at now) and stores next and access
	// with it; anything else is ErrConflict and writes nothing. Of
	// concurrent rotations exactly one succeeds.
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next RefreshToken, access IssuedAccessToken) error
	// RecordIssuedAccessToken remembers an access token minted from a
	// family, unconditionally (tools and tests); a grant that must not race
	// a revocation uses AttachAccessToken.
	RecordIssuedAccessToken(ctx context.Context, access IssuedAccessToken) error
	// AttachAccessToken records an access token minted from the family of
	// the refresh token liveHash only while that token is live at now
	// (neither spent, revoked nor expired), in one step that serializes
	// with RevokeRefreshFamily: the revocation either sees the access token
	// or has happened before, and then the result is ErrConflict and
	// nothing is recorded.
	AttachAccessToken(ctx context.Context, liveHash string, now time.Time, access IssuedAccessToken) error
	// RevokeRefreshFamily revokes every token of the family and lists
	// every access token issued from it that is still live, in one
	// transaction; it reports how many refresh tokens it revoked.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) (int64, error)
	// RevokeCustomerRefreshFamily revokes the family of tokenHash only if
	// it belongs to customerID in shopKey; RevokeCustomerRefreshTokens
	// revokes every family of the customer, and
	// RevokeCustomerClientRefreshTokens every family of the customer and
	// one client. A family counts until it is revoked, also when its
	// refresh tokens have expired: its access tokens may still be live.
	RevokeCustomerRefreshFamily(ctx context.Context, customerID uint64, shopKey, tokenHash string, now time.Time) (int64, error)
	RevokeCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string, now time.Time) (int64, error)
	RevokeCustomerClientRefreshTokens(ctx context.Context, customerID uint64, shopKey, clientID string, now time.Time) (int64, error)
	// RevokeAccessTokenFamily revokes the family the access token jti was
	// issued from (nothing for a jti of no family).
	RevokeAccessTokenFamily(ctx context.Context, jti string, now time.Time) (int64, error)
	// AttachToFamilyOf records access in the family of the access token
	// oldJTI and reports it ("" and nothing recorded for a jti of no
	// family); ErrConflict, nothing recorded, when that family was revoked
	// (it serializes with the revocation like AttachAccessToken).
	AttachToFamilyOf(ctx context.Context, oldJTI string, access IssuedAccessToken) (string, error)
}

// AccessTokenStore is the access-token revocation list.
type AccessTokenStore interface {
	// RevokeAccessToken lists a jti until it expires; again is no error.
	RevokeAccessToken(ctx context.Context, t RevokedAccessToken) error
	// SpendAccessToken lists a jti only once: ErrConflict when it is
	// listed already, so of concurrent callers exactly one succeeds.
	SpendAccessToken(ctx context.Context, t RevokedAccessToken) error
	IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error)
}

// SweepStore deletes what no longer protects anything, in bounded batches,
// and leases the job to one replica at a time.
type SweepStore interface {
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	SweepRevokedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepIssuedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	// SweepRefreshTokens keeps an expired, never-spent refresh token while
	// its family has access tokens recorded (they may still be revoked
	// through the family).
	SweepRefreshTokens(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error)
	SweepLoginFailures(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepAuthorizationCodes(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error)
	SweepBrowserSessions(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepSigningKeys(ctx context.Context, before time.Time, limit int) (int64, error)
}

// SigningKeyStore keeps the signing keys; a generation is created once,
// whichever replica tries (ErrConflict for the others).
type SigningKeyStore interface {
	CreateSigningKey(ctx context.Context, k SigningKey) error
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	SetSigningKeySchedule(ctx context.Context, kid string, retireAfter, removeAfter *time.Time) error
	// RekeySigningKeys swaps each key's ciphertext only where it still
	// holds Old, all or nothing.
	RekeySigningKeys(ctx context.Context, ks []SigningKeyCiphertext) error
}

// AuthorizationCodeStore keeps authorization codes.
type AuthorizationCodeStore interface {
	CreateAuthorizationCode(ctx context.Context, c AuthorizationCode) error
	// RedeemAuthorizationCode marks the code redeemed (one conditional
	// update) and returns it; every redemption after the first gets the
	// code with ErrConflict.
	RedeemAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (AuthorizationCode, error)
	// IssueCodeTokens records the tokens issued from a redeemed code;
	// ErrConflict when tokens were recorded already or the code was
	// revoked meanwhile.
	IssueCodeTokens(ctx context.Context, codeHash string, now time.Time, refresh *RefreshToken, access IssuedAccessToken) error
	// RevokeAuthorizationCode revokes the code and everything issued from
	// it.
	RevokeAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (int64, error)
	// RevokeSessionRefreshTokens revokes, in one step, every code issued
	// in the browser session sessionHash and every family started from
	// them (found by the family's own SessionHash too), with their access
	// tokens; it reports how many refresh tokens it revoked.
	RevokeSessionRefreshTokens(ctx context.Context, sessionHash string, now time.Time) (int64, error)
}

// ConsentStore remembers which scopes a customer granted a client.
type ConsentStore interface {
	SaveConsent(ctx context.Context, c Consent) error
	GetConsent(ctx context.Context, customerID uint64, clientID string) (Consent, error)
	RevokeConsent(ctx context.Context, customerID uint64, clientID string) error
}

// BrowserSessionStore keeps the hosted login page's sessions.
type BrowserSessionStore interface {
	CreateBrowserSession(ctx context.Context, s BrowserSession) error
	GetBrowserSession(ctx context.Context, idHash string) (BrowserSession, error)
	DeleteBrowserSession(ctx context.Context, idHash string) error
}

// CartStore keeps the shopKey dialect's carts (the anonymous-cart
// hand-over).
type CartStore interface {
	CreateCart(ctx context.Context, c *Cart) error
	GetCustomerCart(ctx context.Context, shopKey string, customerID uint64) (Cart, error)
	GetAnonymousCart(ctx context.Context, shopKey, token string) (Cart, error)
	// ClaimAnonymousCart hands the anonymous cart of token to customerID
	// exactly once (the others, and an unknown or claimed token, get
	// ErrNotFound and change nothing).
	ClaimAnonymousCart(ctx context.Context, shopKey, token string, customerID uint64) (Cart, error)
}

// AccountStore is what customers running their own accounts need: the
// registration, its keys and the mail outbox.
type AccountStore interface {
	RegisterCustomer(ctx context.Context, r *Registration) error
	IssueAccountKey(ctx context.Context, key AccountKey, mail OutboxMail) error
	EnqueueMail(ctx context.Context, mail OutboxMail) error
	GetAccountKey(ctx context.Context, keyHash string) (AccountKey, error)
	ConfirmEmail(ctx context.Context, keyHash string, now time.Time) (AccountKey, error)
	ResetPassword(ctx context.Context, keyHash, newHash string, now time.Time) (AccountKey, error)
	ChangePassword(ctx context.Context, ch PasswordChange) error
	GetCustomerProfile(ctx context.Context, customerID uint64) (CustomerProfile, error)

	DueMail(ctx context.Context, now time.Time, limit int) ([]OutboxMail, error)
	GetOutboxMail(ctx context.Context, id uint64) (OutboxMail, error)
	MarkMailSent(ctx context.Context, id uint64, now time.Time) error
	MarkMailRetry(ctx context.Context, id uint64, attempts int, next time.Time, lastErr string) error
	MarkMailFailed(ctx context.Context, id uint64, now time.Time, lastErr string) error
	SweepAccountKeys(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepOutbox(ctx context.Context, before time.Time, limit int) (int64, error)
}
