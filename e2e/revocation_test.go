package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

func TestRevocation(t *testing.T) {
	s := harness.NewTestServer(t, withoutRateLimit())
	harness.AddLifecycleClients(t, s)
	revoke := func(t *testing.T, form url.Values, id, secret string) (int, string) {
		t.Helper()
		resp := s.PostForm(t, "/oauth2/revoke", form, id, secret)
		var body struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Error
	}
	ok := func(t *testing.T, form url.Values) {
		t.Helper()
		status, e := revoke(t, form, app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, http.StatusOK, status, e)
	}

	t.Run("refresh token: family and its access tokens", func(t *testing.T) {
		for _, hint := range []string{"", "refresh_token", "access_token", "nonsense"} {
			t.Run("hint "+hint, func(t *testing.T) {
				first := s.Login(t, "openid offline_access", "")
				status, second := s.Refresh(t, first.RefreshToken)
				require.Equal(t, http.StatusOK, status)
				// The spent token names the family as well as the live one.
				ok(t, url.Values{"token": {first.RefreshToken}, "token_type_hint": {hint}})

				status, after := s.Refresh(t, second.RefreshToken)
				require.Equal(t, http.StatusBadRequest, status)
				require.Equal(t, "invalid_grant", after.Error)
				s.RequireActive(t, first.AccessToken, false)
				s.RequireActive(t, second.AccessToken, false)
				resp, _ := s.UserInfo(t, second.AccessToken)
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			})
		}
	})

	t.Run("access token: its jti only", func(t *testing.T) {
		for _, hint := range []string{"", "access_token", "refresh_token"} {
			t.Run("hint "+hint, func(t *testing.T) {
				body := s.Login(t, "openid offline_access", "")
				ok(t, url.Values{"token": {body.AccessToken}, "token_type_hint": {hint}})
				s.RequireActive(t, body.AccessToken, false)
				// The refresh token lives on (RFC 7009 §2.1 makes that a MAY).
				status, next := s.Refresh(t, body.RefreshToken)
				require.Equal(t, http.StatusOK, status, next.Error)
				s.RequireActive(t, next.AccessToken, true)
			})
		}
	})

	t.Run("unknown, garbage, expired or revoked again: 200", func(t *testing.T) {
		body := s.Login(t, "openid offline_access", "")
		for _, token := range []string{"unknown-token", "a.b.c", harness.ForeignSignedToken(t, s, body.AccessToken), body.RefreshToken, body.RefreshToken} {
			ok(t, url.Values{"token": {token}})
		}
	})

	t.Run("another client's tokens are refused and stay live", func(t *testing.T) {
		theirs := s.LoginAs(t, harness.OtherClientID, harness.OtherClientSecret, "openid offline_access")
		for _, token := range []string{theirs.AccessToken, theirs.RefreshToken} {
			status, e := revoke(t, url.Values{"token": {token}}, app.DemoClientID, app.DemoClientSecret)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "unauthorized_client", e)
		}
		require.Equal(t, true, s.Introspect(t, theirs.AccessToken, harness.OtherClientID, harness.OtherClientSecret)["active"])
		require.Equal(t, true, s.Introspect(t, theirs.RefreshToken, harness.OtherClientID, harness.OtherClientSecret)["active"])
	})

	t.Run("public client revokes its own token by client_id", func(t *testing.T) {
		body := s.LoginAs(t, harness.SpaClientID, "", "openid offline_access")
		status, e := revoke(t, url.Values{"token": {body.RefreshToken}, "client_id": {harness.SpaClientID}}, "", "")
		require.Equal(t, http.StatusOK, status, e)
		resp := s.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body.RefreshToken}, "client_id": {harness.SpaClientID}}, "", "")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})

	t.Run("client authentication and request errors", func(t *testing.T) {
		body := s.Login(t, "openid", "")
		for _, tc := range []struct {
			name       string
			form       url.Values
			id, secret string
			status     int
			code       string
		}{
			{"no client", url.Values{"token": {body.AccessToken}}, "", "", http.StatusUnauthorized, "invalid_client"},
			{"wrong secret", url.Values{"token": {body.AccessToken}}, app.DemoClientID, "nope", http.StatusUnauthorized, "invalid_client"},
			{"confidential client without secret", url.Values{"token": {body.AccessToken}, "client_id": {app.DemoClientID}}, "", "", http.StatusUnauthorized, "invalid_client"},
			{"no token", url.Values{}, app.DemoClientID, app.DemoClientSecret, http.StatusBadRequest, "invalid_request"},
			{"repeated token", url.Values{"token": {body.AccessToken, "x"}}, app.DemoClientID, app.DemoClientSecret, http.StatusBadRequest, "invalid_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, e := revoke(t, tc.form, tc.id, tc.secret)
				require.Equal(t, tc.status, status)
				require.Equal(t, tc.code, e)
				s.RequireActive(t, body.AccessToken, true)
			})
		}
	})

	t.Run("GET is not allowed", func(t *testing.T) {
		resp, err := http.Get(s.URL + "/oauth2/revoke")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
}
