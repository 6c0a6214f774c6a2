package main

// Adversarial suite, hole 11 (issue 13), the parts that held already:
// shopKey logout and Spryker's DELETE /refresh-tokens end what they
// concern, with the access tokens issued from it.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAttackShopKeyLogoutEndsTheChain: shopKey logout revokes the token
// it was called with, and tokens renewed away before it stay dead.
func TestAttackShopKeyLogoutEndsTheChain(t *testing.T) {
	ts := newTestServer(t)
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	first := decodeLoginResponse(t, ts.skLoginJSON(t, demoShop, demoCustomerEmail, demoPassword, "")).Data.Token.AccessToken
	require.Equal(t, http.StatusOK, ts.skPost(t, http.MethodPost, demoShop+"/customers/refresh", "", "", bearer(first)...).Status)
	second := decodeLoginResponse(t, ts.skLoginJSON(t, demoShop, demoCustomerEmail, demoPassword, "")).Data.Token.AccessToken
	require.Equal(t, http.StatusOK, ts.skPost(t, http.MethodPost, demoShop+"/customers/logout", "", "", bearer(second)...).Status)
	for _, tok := range []string{first, second} {
		require.Equal(t, http.StatusUnauthorized, ts.skPost(t, http.MethodPost, demoShop+"/customers/me", "", "", bearer(tok)...).Status)
		requireRevoked(t, ts, tok, true)
	}
}

// TestAttackSprykerDeleteEndsFamilies: DELETE /refresh-tokens/{token}
// ends that family and its access tokens; /mine ends every family of the
// customer in the shop.
func TestAttackSprykerDeleteEndsFamilies(t *testing.T) {
	for _, backend := range attackBackends() {
		t.Run(backend.name, func(t *testing.T) {
			ts := newTestServer(t, append(backend.opts, withoutLoginRateLimit())...)
			one, two := ts.sprykerLogin(t, demoCustomerEmail, demoPassword), ts.sprykerLogin(t, demoCustomerEmail, demoPassword)
			require.Equal(t, http.StatusNoContent, ts.glue(t, http.MethodDelete, "/refresh-tokens/"+one.RefreshToken, "", two.AccessToken).Status)
			require.Equal(t, http.StatusUnauthorized, ts.sprykerRefresh(t, one.RefreshToken).Status)
			requireRevoked(t, ts, one.AccessToken, true)
			requireRevoked(t, ts, two.AccessToken, false)

			storefront := ts.login(t, "openid offline_access", "")
			require.Equal(t, http.StatusNoContent, ts.glue(t, http.MethodDelete, "/refresh-tokens/mine", "", two.AccessToken).Status)
			require.Equal(t, http.StatusUnauthorized, ts.sprykerRefresh(t, two.RefreshToken).Status)
			status, _ := ts.refresh(t, storefront.RefreshToken)
			require.Equal(t, http.StatusBadRequest, status, "mine means every client's families")
		})
	}
}
