package attack

// Adversarial suite: the token endpoint is no password-guessing oracle
// for anyone without a client's credentials. The client is authenticated
// before any password is looked at, so guesses under a wrong client
// secret are answered invalid_client, cost no hashing and count toward no
// lockout; and the password grant is refused to third-party clients.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestAttackNoPasswordOracleWithoutClient: twenty guesses (the right
// password among them) under a wrong client secret are all 401
// invalid_client, and the customer's failure count stays zero.
func TestAttackNoPasswordOracleWithoutClient(t *testing.T) {
	ts := harness.NewTestServer(t, withoutLoginRateLimit())
	for i := range 20 {
		form := harness.PasswordForm("")
		if i%2 == 0 {
			form.Set("password", "guess")
		}
		resp := ts.PostForm(t, "/oauth2/token", form, app.DemoClientID, "not-the-secret")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, "invalid_client", harness.DecodeToken(t, resp).Error)
	}
	rec, err := ts.Store.GetLoginFailures(t.Context(), app.DemoShop, app.DemoCustomerEmail)
	require.NoError(t, err)
	require.Zero(t, rec.Count, "no guess reached the password check")
}
