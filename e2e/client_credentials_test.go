package e2e

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// TestClientCredentialsGrant: a confidential machine client gets an access
// token for itself (sub = client id), within its allow-list, and never a
// refresh token (RFC 6749 §4.4; RFC 9068 §2.2).
func TestClientCredentialsGrant(t *testing.T) {
	ts := harness.NewTestServer(t)
	ctx := t.Context()
	for _, c := range []storage.Client{
		{ID: "erp-sync", SecretHash: clients.HashSecret("erp-secret"), ShopKey: app.DemoShop,
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"orders:read", "catalog:write", "openid", "offline_access"}},
		{ID: "public-cc", Public: true, ShopKey: app.DemoShop, GrantTypes: []string{"client_credentials"}, Scopes: []string{"orders:read"}},
		{ID: "4242", SecretHash: clients.HashSecret("numeric-secret"), GrantTypes: []string{"client_credentials"}, Scopes: []string{"orders:read"}},
	} {
		require.NoError(t, ts.Store.CreateClient(ctx, c))
	}

	t.Run("default scope is the allow-list without customer scopes", func(t *testing.T) {
		b := tokenOK(t, ts, url.Values{"grant_type": {"client_credentials"}}, "erp-sync", "erp-secret")
		require.Empty(t, b.RefreshToken)
		require.Equal(t, "orders:read catalog:write", b.Scope)
		claims, err := ts.App.Authority.VerifyAccessToken(ctx, b.AccessToken)
		require.NoError(t, err)
		require.Equal(t, "erp-sync", claims.Subject)
		require.Equal(t, "erp-sync", claims.ClientID)
		require.Equal(t, app.DemoShop, claims.Shop)
		require.Zero(t, claims.AuthTime)
	})

	t.Run("narrower scope", func(t *testing.T) {
		b := tokenOK(t, ts, url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}, "erp-sync", "erp-secret")
		require.Equal(t, "orders:read", b.Scope)
	})

	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code       string
	}{
		{"scope outside the allow-list", url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read admin"}}, "erp-sync", "erp-secret", 400, "invalid_scope"},
		{"openid without a customer", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, "erp-sync", "erp-secret", 400, "invalid_scope"},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, "erp-sync", "nope", 401, "invalid_client"},
		{"public client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"public-cc"}}, "", "", 400, "unauthorized_client"},
		{"numeric client id", url.Values{"grant_type": {"client_credentials"}}, "4242", "numeric-secret", 400, "unauthorized_client"},
		{"grant not allowed", url.Values{"grant_type": {"client_credentials"}}, app.DemoClientID, app.DemoClientSecret, 400, "unauthorized_client"},
		{"password grant from a machine client", harness.PasswordForm(""), "erp-sync", "erp-secret", 400, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.PostForm(t, "/oauth2/token", tt.form, tt.user, tt.pass)
			b := harness.DecodeToken(t, resp)
			require.Equal(t, tt.status, resp.StatusCode, "%s: %s", b.Error, b.ErrorDescription)
			require.Equal(t, tt.code, b.Error)
		})
	}
}

// TestPasswordGrantFirstPartyOnly: RFC 9700 §2.4 — a third-party client
// never sees a customer's password, even with the grant on its list.
func TestPasswordGrantFirstPartyOnly(t *testing.T) {
	ts := harness.NewTestServer(t)
	require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
		ID: "third-party", SecretHash: clients.HashSecret("tp-secret"), ShopKey: app.DemoShop,
		GrantTypes: []string{"password"}, Scopes: []string{"openid"},
	}))
	resp := ts.PostForm(t, "/oauth2/token", harness.PasswordForm(""), "third-party", "tp-secret")
	b := harness.DecodeToken(t, resp)
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, "unauthorized_client", b.Error)

	// The demo storefront is first-party.
	tokenOK(t, ts, harness.PasswordForm(""), app.DemoClientID, app.DemoClientSecret)
}
