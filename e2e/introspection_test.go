package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

func TestIntrospection(t *testing.T) {
	s := harness.NewTestServer(t, withoutRateLimit())
	harness.AddLifecycleClients(t, s)

	t.Run("active access token: RFC 7662 members", func(t *testing.T) {
		body := s.Login(t, "openid email offline_access", "")
		claims, err := s.App.Authority.VerifyAccessToken(t.Context(), body.AccessToken)
		require.NoError(t, err)
		got := s.Introspect(t, body.AccessToken, app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, map[string]any{
			"active": true, "scope": "openid email offline_access", "client_id": app.DemoClientID,
			"username": app.DemoCustomerEmail, "token_type": "Bearer", "sub": "21", "aud": app.DemoClientID,
			"iss": s.URL, "jti": claims.JTI,
			"exp": float64(claims.ExpiresAt), "iat": float64(claims.IssuedAt), "nbf": float64(claims.NotBefore),
		}, got)
	})

	t.Run("active client_credentials token: no customer, no username", func(t *testing.T) {
		require.NoError(t, s.Store.CreateClient(t.Context(), storage.Client{
			ID: "erp-sync", SecretHash: clients.HashSecret("erp-secret"), GrantTypes: []string{"client_credentials"}, Scopes: []string{"orders:read"},
		}))
		b := tokenOK(t, s, url.Values{"grant_type": {"client_credentials"}}, "erp-sync", "erp-secret")
		got := s.Introspect(t, b.AccessToken, "erp-sync", "erp-secret")
		require.Equal(t, true, got["active"])
		require.Equal(t, "erp-sync", got["sub"])
		require.Equal(t, "orders:read", got["scope"])
		require.NotContains(t, got, "username")
	})

	t.Run("active refresh token", func(t *testing.T) {
		body := s.Login(t, "openid offline_access", "")
		got := s.Introspect(t, body.RefreshToken, app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, true, got["active"])
		require.Equal(t, "refresh_token", got["token_type"])
		require.Equal(t, "21", got["sub"])
		require.Equal(t, app.DemoClientID, got["client_id"])
		require.Equal(t, app.DemoCustomerEmail, got["username"])
		require.Equal(t, "openid offline_access", got["scope"])
		require.NotContains(t, got, "jti")
	})

	t.Run("hint is only a hint", func(t *testing.T) {
		body := s.Login(t, "openid offline_access", "")
		for _, tc := range []struct{ token, hint string }{
			{body.AccessToken, "refresh_token"}, {body.RefreshToken, "access_token"}, {body.AccessToken, "bogus"},
		} {
			resp := s.PostForm(t, "/oauth2/introspect", url.Values{"token": {tc.token}, "token_type_hint": {tc.hint}}, app.DemoClientID, app.DemoClientSecret)
			var got map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			require.Equal(t, true, got["active"], tc.hint)
		}
	})

	t.Run("inactive: garbage, foreign-signed, spent, revoked", func(t *testing.T) {
		body := s.Login(t, "openid offline_access", "")
		s.RequireActive(t, "garbage", false)
		s.RequireActive(t, "a.b.c", false)
		s.RequireActive(t, harness.ForeignSignedToken(t, s, body.AccessToken), false)

		status, next := s.Refresh(t, body.RefreshToken)
		require.Equal(t, http.StatusOK, status)
		s.RequireActive(t, body.RefreshToken, false) // spent
		s.RequireActive(t, next.RefreshToken, true)

		s.RequireActive(t, next.AccessToken, true)
		resp := s.PostForm(t, "/oauth2/revoke", url.Values{"token": {next.AccessToken}}, app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		s.RequireActive(t, next.AccessToken, false) // revoked: at once
	})

	t.Run("inactive once the customer is disabled, active again when re-enabled", func(t *testing.T) {
		body := s.Login(t, "offline_access", "")
		s.RequireActive(t, body.AccessToken, true)
		now := s.Clock.Now()
		require.NoError(t, s.Store.SetDisabled(t.Context(), 21, &now))
		s.RequireActive(t, body.AccessToken, false)
		require.NoError(t, s.Store.SetDisabled(t.Context(), 21, nil))
		s.RequireActive(t, body.AccessToken, true)
	})

	t.Run("visibility: own client and audience only; refresh tokens own client only", func(t *testing.T) {
		spa := s.LoginAs(t, harness.SpaClientID, "", "openid offline_access")
		// The resource server named in aud sees the access token ...
		got := s.Introspect(t, spa.AccessToken, harness.APIClientID, harness.APIClientSecret)
		require.Equal(t, true, got["active"])
		require.Equal(t, harness.APIClientID, got["aud"])
		// ... but not the refresh token, and an unrelated client sees neither.
		require.Equal(t, map[string]any{"active": false}, s.Introspect(t, spa.RefreshToken, harness.APIClientID, harness.APIClientSecret))
		require.Equal(t, map[string]any{"active": false}, s.Introspect(t, spa.AccessToken, harness.OtherClientID, harness.OtherClientSecret))
		// And the demo client does not see another client's tokens.
		theirs := s.LoginAs(t, harness.OtherClientID, harness.OtherClientSecret, "openid offline_access")
		s.RequireActive(t, theirs.AccessToken, false)
		s.RequireActive(t, theirs.RefreshToken, false)
	})

	t.Run("client authentication", func(t *testing.T) {
		body := s.Login(t, "openid", "")
		for _, tc := range []struct {
			name       string
			form       url.Values
			id, secret string
			status     int
		}{
			{"no client", url.Values{"token": {body.AccessToken}}, "", "", http.StatusUnauthorized},
			{"wrong secret", url.Values{"token": {body.AccessToken}}, app.DemoClientID, "wrong", http.StatusUnauthorized},
			{"public client", url.Values{"token": {body.AccessToken}, "client_id": {harness.SpaClientID}}, "", "", http.StatusUnauthorized},
			{"secret in body", url.Values{"token": {body.AccessToken}, "client_id": {app.DemoClientID}, "client_secret": {app.DemoClientSecret}}, "", "", http.StatusOK},
			{"two methods", url.Values{"token": {body.AccessToken}, "client_secret": {app.DemoClientSecret}}, app.DemoClientID, app.DemoClientSecret, http.StatusBadRequest},
			{"no token", url.Values{}, app.DemoClientID, app.DemoClientSecret, http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := s.PostForm(t, "/oauth2/introspect", tc.form, tc.id, tc.secret)
				require.Equal(t, tc.status, resp.StatusCode)
				if tc.status == http.StatusUnauthorized {
					require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
				}
			})
		}
	})

	// Last: it moves the clock.
	t.Run("inactive: expired access and refresh tokens", func(t *testing.T) {
		body := s.Login(t, "openid offline_access", "")
		s.Clock.Advance(time.Duration(body.ExpiresIn)*time.Second + app.ClockSkew + time.Second)
		s.RequireActive(t, body.AccessToken, false)
		s.RequireActive(t, body.RefreshToken, true)
		s.Clock.Advance(s.Config.Tokens.RefreshTokenTTL)
		s.RequireActive(t, body.RefreshToken, false)
	})
}

func TestDiscoveryAdvertisesLifecycleEndpoints(t *testing.T) {
	s := harness.NewTestServer(t, withoutRateLimit())
	get := func(path string) map[string]any {
		resp, err := http.Get(s.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
	oidcDoc, oauthDoc := get("/.well-known/openid-configuration"), get("/.well-known/oauth-authorization-server")
	for _, doc := range []map[string]any{oidcDoc, oauthDoc} {
		require.Equal(t, s.URL+"/oauth2/revoke", doc["revocation_endpoint"])
		require.Equal(t, s.URL+"/oauth2/introspect", doc["introspection_endpoint"])
		require.Equal(t, []any{"client_secret_basic", "client_secret_post", "none"}, doc["revocation_endpoint_auth_methods_supported"])
		require.Equal(t, []any{"client_secret_basic", "client_secret_post"}, doc["introspection_endpoint_auth_methods_supported"])
	}
	require.Equal(t, s.URL+"/userinfo", oidcDoc["userinfo_endpoint"])
	for _, claim := range []string{"sub", "auth_time", "nonce", "email", "email_verified", "name", "shop"} {
		require.Contains(t, oidcDoc["claims_supported"], claim)
	}
	require.NotContains(t, oauthDoc, "userinfo_endpoint")
}
