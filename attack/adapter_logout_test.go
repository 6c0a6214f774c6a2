package attack

// Adversarial suite, hole 11 (issue 13), the parts that held already:
// shopKey logout and Spryker's DELETE /refresh-tokens end what they
// concern, with the access tokens issued from it.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestAttackShopKeyLogoutEndsTheChain: shopKey logout revokes the token
// it was called with, and tokens renewed away before it stay dead.
func TestAttackShopKeyLogoutEndsTheChain(t *testing.T) {
	ts := harness.NewTestServer(t)
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	first := skAccessToken(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, ""))
	require.Equal(t, http.StatusOK, ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/refresh", "", "", bearer(first)...).Status)
	second := skAccessToken(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, ""))
	require.Equal(t, http.StatusOK, ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/logout", "", "", bearer(second)...).Status)
	for _, tok := range []string{first, second} {
		require.Equal(t, http.StatusUnauthorized, ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/me", "", "", bearer(tok)...).Status)
		requireRevoked(t, ts, tok, true)
	}
}

// TestAttackSprykerDeleteEndsFamilies: DELETE /refresh-tokens/{token}
// ends that family and its access tokens; /mine ends every family of the
// customer in the shop.
func TestAttackSprykerDeleteEndsFamilies(t *testing.T) {
	for _, backend := range attackBackends() {
		t.Run(backend.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append(backend.opts, withoutLoginRateLimit())...)
			one, two := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword), ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
			require.Equal(t, http.StatusNoContent, ts.Glue(t, http.MethodDelete, "/refresh-tokens/"+one.RefreshToken, "", two.AccessToken).Status)
			require.Equal(t, http.StatusUnauthorized, ts.SprykerRefresh(t, one.RefreshToken).Status)
			requireRevoked(t, ts, one.AccessToken, true)
			requireRevoked(t, ts, two.AccessToken, false)

			storefront := ts.Login(t, "openid offline_access", "")
			require.Equal(t, http.StatusNoContent, ts.Glue(t, http.MethodDelete, "/refresh-tokens/mine", "", two.AccessToken).Status)
			require.Equal(t, http.StatusUnauthorized, ts.SprykerRefresh(t, two.RefreshToken).Status)
			status, _ := ts.Refresh(t, storefront.RefreshToken)
			require.Equal(t, http.StatusBadRequest, status, "mine means every client's families")
		})
	}
}
