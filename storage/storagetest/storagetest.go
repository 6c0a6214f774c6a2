package storagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// Store is the contract the suite holds a backend to: storage.Store.
type Store = storage.Store

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
		{"PredecessorSeal", testPredecessorSeal},
		{"AttachAccessToken", testAttachAccessToken},
		{"ConcurrentAttachAndRevoke", testConcurrentAttachAndRevoke},
		{"RevokeCustomerRefreshTokens", testRevokeCustomerRefreshTokens},
		{"AccessTokenFamilies", testAccessTokenFamilies},
		{"ConcurrentAttachToFamilyOfAndRevoke", testConcurrentAttachToFamilyOfAndRevoke},
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
		{"RevokeSessionRefreshTokens", testRevokeSessionRefreshTokens},
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
		{"AdminShops", testAdminShops},
		{"AdminCustomers", testAdminCustomers},
		{"AdminErase", testAdminErase},
		{"AdminClients", testAdminClients},
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
