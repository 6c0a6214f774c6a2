package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

func TestUserInfo(t *testing.T) {
	s := harness.NewTestServer(t, withoutRateLimit())
	full := s.Login(t, "openid profile email offline_access", "")
	idc, _ := verifyIDToken(t, s, full.IDToken)

	call := func(t *testing.T, method, header, body, contentType string) (*http.Response, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+"/userinfo", strings.NewReader(body))
		require.NoError(t, err)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		var got map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		return resp, got
	}
	const form = "application/x-www-form-urlencoded"

	t.Run("GET, POST header, POST body: claims per scope, sub as in the ID token", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, header, body, contentType string
		}{
			{"GET", http.MethodGet, "Bearer " + full.AccessToken, "", ""},
			{"GET lower-case scheme", http.MethodGet, "bearer " + full.AccessToken, "", ""},
			{"POST header", http.MethodPost, "Bearer " + full.AccessToken, "", ""},
			{"POST form body", http.MethodPost, "", url.Values{"access_token": {full.AccessToken}}.Encode(), form},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, got := call(t, tc.method, tc.header, tc.body, tc.contentType)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
				require.Equal(t, map[string]any{
					"sub": idc.Subject, "email": app.DemoCustomerEmail, "email_verified": true, "name": "Sonia", "shop": app.DemoShop,
				}, got)
			})
		}
	})

	t.Run("openid alone: sub and shop only", func(t *testing.T) {
		body := s.Login(t, "openid", "")
		resp, got := call(t, http.MethodGet, "Bearer "+body.AccessToken, "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, map[string]any{"sub": "21", "shop": app.DemoShop}, got)
	})

	t.Run("no credentials: bare challenge without error code", func(t *testing.T) {
		for _, header := range []string{"", "Basic c3RvcmVmcm9udDpzZWNyZXQ="} {
			resp, _ := call(t, http.MethodGet, header, "", "")
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.Equal(t, `Bearer realm="shopauth"`, resp.Header.Get("WWW-Authenticate"))
		}
	})

	t.Run("token without openid: 403 insufficient_scope", func(t *testing.T) {
		body := s.Login(t, "profile email", "")
		resp, got := call(t, http.MethodGet, "Bearer "+body.AccessToken, "", "")
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Equal(t, "insufficient_scope", got["error"])
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
	})

	t.Run("malformed request: 400 invalid_request", func(t *testing.T) {
		for name, tc := range map[string]struct{ header, body string }{
			"two methods":      {"Bearer " + full.AccessToken, url.Values{"access_token": {full.AccessToken}}.Encode()},
			"bad b64token":     {"Bearer a\"b", ""},
			"empty token":      {"Bearer ", ""},
			"repeated in body": {"", "access_token=a&access_token=b"},
		} {
			t.Run(name, func(t *testing.T) {
				resp, got := call(t, http.MethodPost, tc.header, tc.body, form)
				require.Equal(t, http.StatusBadRequest, resp.StatusCode)
				require.Equal(t, "invalid_request", got["error"])
			})
		}
	})

	invalid := func(t *testing.T, token string) {
		t.Helper()
		resp, got := call(t, http.MethodGet, "Bearer "+token, "", "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, "invalid_token", got["error"])
		require.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="shopauth", error="invalid_token"`),
			resp.Header.Get("WWW-Authenticate"))
	}

	t.Run("garbage and foreign-signed tokens: 401 invalid_token", func(t *testing.T) {
		invalid(t, "not.a.jwt")
		invalid(t, harness.ForeignSignedToken(t, s, full.AccessToken))
	})

	t.Run("revoked token: 401 invalid_token", func(t *testing.T) {
		body := s.Login(t, "openid", "")
		resp := s.PostForm(t, "/oauth2/revoke", url.Values{"token": {body.AccessToken}}, app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		invalid(t, body.AccessToken)
	})

	t.Run("expired token: 401 invalid_token", func(t *testing.T) {
		body := s.Login(t, "openid", "")
		s.Clock.Advance(time.Duration(body.ExpiresIn)*time.Second + app.ClockSkew + time.Second)
		invalid(t, body.AccessToken)
	})
}
