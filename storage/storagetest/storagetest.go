package storagetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// Store is every operation the suite exercises; *sqlstore.Store implements
// it. Consumers declare their own, smaller interfaces.
type Store interface {
	CreateShop(ctx context.Context, shop storage.Shop) error
	GetShop(ctx context.Context, key string) (storage.Shop, error)
	ListShops(ctx context.Context) ([]storage.Shop, error)
	IsEmpty(ctx context.Context) (bool, error)

	CreateCustomer(ctx context.Context, c *storage.Customer) error
	GetCustomer(ctx context.Context, shopKey string, id uint64) (storage.Customer, error)
	GetTokenHolder(ctx context.Context, shopKey string, id uint64, jti string) (storage.TokenHolder, error)
	GetCustomerByEmail(ctx context.Context, shopKey, emailNormalized string) (storage.Customer, error)
	UpdatePasswordHash(ctx context.Context, id uint64, oldHash, newHash string) error
	SetEmailVerified(ctx context.Context, id uint64, at *time.Time) error
	SetDisabled(ctx context.Context, id uint64, at *time.Time) error
	UpsertCustomers(ctx context.Context, cs []storage.Customer) (storage.ImportResult, error)
	PlanUpsertCustomers(ctx context.Context, cs []storage.Customer) (storage.ImportResult, error)

	RecordLoginAttempt(ctx context.Context, shopKey, emailNormalized string, now time.Time, policy storage.LockoutPolicy) (storage.LoginFailures, bool, error)
	ClearLoginFailures(ctx context.Context, shopKey, emailNormalized string) error
	GetLoginFailures(ctx context.Context, shopKey, emailNormalized string) (storage.LoginFailures, error)

	CreateClient(ctx context.Context, c storage.Client) error
	GetClient(ctx context.Context, id string) (storage.Client, error)
	ListClients(ctx context.Context) ([]storage.Client, error)

	CreateRefreshToken(ctx context.Context, rt storage.RefreshToken, access storage.IssuedAccessToken) error
	GetRefreshToken(ctx context.Context, tokenHash string) (storage.RefreshToken, error)
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next storage.RefreshToken, access storage.IssuedAccessToken) error
	RecordIssuedAccessToken(ctx context.Context, t storage.IssuedAccessToken) error
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) (int64, error)
	RevokeCustomerRefreshFamily(ctx context.Context, customerID uint64, shopKey, tokenHash string, now time.Time) (int64, error)
	RevokeCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string, now time.Time) (int64, error)

	RevokeAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
	SpendAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
	IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error)

	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	SweepRevokedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepIssuedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepRefreshTokens(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error)
	SweepLoginFailures(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepAuthorizationCodes(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error)
	SweepBrowserSessions(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepSigningKeys(ctx context.Context, before time.Time, limit int) (int64, error)

	CreateSigningKey(ctx context.Context, k storage.SigningKey) error
	ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error)
	SetSigningKeySchedule(ctx context.Context, kid string, retireAfter, removeAfter *time.Time) error
	RekeySigningKeys(ctx context.Context, ks []storage.SigningKeyCiphertext) error

	CreateAuthorizationCode(ctx context.Context, c storage.AuthorizationCode) error
	RedeemAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (storage.AuthorizationCode, error)
	IssueCodeTokens(ctx context.Context, codeHash string, now time.Time, refresh *storage.RefreshToken, access storage.IssuedAccessToken) error
	RevokeAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (int64, error)

	SaveConsent(ctx context.Context, c storage.Consent) error
	GetConsent(ctx context.Context, customerID uint64, clientID string) (storage.Consent, error)
	RevokeConsent(ctx context.Context, customerID uint64, clientID string) error

	CreateBrowserSession(ctx context.Context, s storage.BrowserSession) error
	GetBrowserSession(ctx context.Context, idHash string) (storage.BrowserSession, error)
	DeleteBrowserSession(ctx context.Context, idHash string) error
	CartStore
	AccountStore
}

// Run runs the suite. open must return a new, migrated, empty store for
// each call and release it at the test's cleanup. Groups run in parallel,
// each on its own store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	groups := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) Store)
	}{
		{"Shops", testShops},
		{"IsEmpty", testIsEmpty},
		{"Customers", testCustomers},
		{"CustomerUpdates", testCustomerUpdates},
		{"Clients", testClients},
		{"RefreshTokens", testRefreshTokens},
		{"RotateRefreshToken", testRotateRefreshToken},
		{"RevokeRefreshFamily", testRevokeRefreshFamily},
		{"RevokeCustomerRefreshTokens", testRevokeCustomerRefreshTokens},
		{"AccessTokenRevocation", testAccessTokenRevocation},
		{"ConcurrentAccessTokenSpend", testConcurrentAccessTokenSpend},
		{"Sweep", testSweep},
		{"SweepLoginFailures", testSweepLoginFailures},
		{"SweepAuthorizationCodes", testSweepAuthorizationCodes},
		{"SweepBrowserSessions", testSweepBrowserSessions},
		{"SweepSigningKeys", testSweepSigningKeys},
		{"ConcurrentLoginSweep", testConcurrentLoginSweep},
		{"Leases", testLeases},
		{"ConcurrentLease", testConcurrentLease},
		{"SigningKeys", testSigningKeys},
		{"SigningKeySchedule", testSigningKeySchedule},
		{"RekeySigningKeys", testRekeySigningKeys},
		{"ConcurrentRotation", testConcurrentRotation},
		{"ConcurrentSigningKeys", testConcurrentSigningKeys},
		{"ConcurrentRekey", testConcurrentRekey},
		{"ConcurrentCustomers", testConcurrentCustomers},
		{"LoginFailures", testLoginFailures},
		{"UpsertCustomers", testUpsertCustomers},
		{"ImportRerun", testImportRerun},
		{"ImportRefusals", testImportRefusals},
		{"ImportNewExport", testImportNewExport},
		{"ConcurrentImportAndPasswordChange", testConcurrentImportAndPasswordChange},
		{"ConcurrentLoginAttempts", testConcurrentLoginAttempts},
		{"AuthorizationCodes", testAuthorizationCodes},
		{"ConcurrentCodeRedemption", testConcurrentCodeRedemption},
		{"Consents", testConsents},
		{"BrowserSessions", testBrowserSessions},
		{"Carts", testCarts},
		{"ClaimAnonymousCart", testClaimAnonymousCart},
		{"ConcurrentCartClaims", testConcurrentCartClaims},
		{"RegisterCustomer", testRegisterCustomer},
		{"AccountKeys", testAccountKeys},
		{"ConfirmEmail", testConfirmEmail},
		{"ResetPassword", testResetPassword},
		{"ChangePassword", testChangePassword},
		{"ConcurrentAccountKeys", testConcurrentAccountKeys},
		{"MailOutbox", testMailOutbox},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open)
		})
	}
}

// baseTime is a fixed instant with a fraction and a non-UTC zone, so that
// every round trip checks the conversion to UTC whole seconds. It lies in
// the future so tokens built from it are live when compared with it.
func baseTime() time.Time {
	return time.Date(2031, time.March, 4, 5, 6, 7, 891_234_567, time.FixedZone("CET", 3600))
}

// stored is what a backend must give back for t: UTC, whole seconds.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func ptr[T any](v T) *T { return &v }

// hashOf returns a token hash as the server stores it: lowercase hex SHA-256.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
