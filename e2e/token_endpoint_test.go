package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// tokenOK posts to the token endpoint with Basic credentials and requires a
// 200.
func tokenOK(t testing.TB, ts *harness.TestServer, form url.Values, user, pass string) harness.TokenBody {
	t.Helper()
	resp := ts.PostForm(t, "/oauth2/token", form, user, pass)
	b := harness.DecodeToken(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, "error %s: %s", b.Error, b.ErrorDescription)
	return b
}

func TestTokenEndpointErrors(t *testing.T) {
	ts := harness.NewTestServer(t)
	refresh := tokenOK(t, ts, harness.PasswordForm("openid offline_access"), app.DemoClientID, app.DemoClientSecret).RefreshToken
	require.NotEmpty(t, refresh)

	// A second confidential client to present someone else's token.
	require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
		ID: "other", SecretHash: clients.HashSecret("other-secret"), ShopKey: app.DemoShop,
		GrantTypes: []string{"password", "refresh_token"}, Scopes: []string{"openid", "offline_access"},
	}))

	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		header     map[string]string
		status     int
		code       string
	}{
		{name: "wrong password", form: withValue(harness.PasswordForm(""), "password", "nope"), user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_grant"},
		{name: "unknown customer", form: withValue(harness.PasswordForm(""), "username", "ghost@example.com"), user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_grant"},
		{name: "unverified customer", form: withValue(harness.PasswordForm(""), "username", app.DemoUnverifiedUser), user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_grant"},
		{name: "wrong client secret", form: harness.PasswordForm(""), user: app.DemoClientID, pass: "wrong", status: 401, code: "invalid_client"},
		{name: "unknown client", form: harness.PasswordForm(""), user: "nobody", pass: "x", status: 401, code: "invalid_client"},
		{name: "confidential client without secret", form: withValue(harness.PasswordForm(""), "client_id", app.DemoClientID), status: 401, code: "invalid_client"},
		{name: "public client with a secret", form: withValue(withValue(harness.PasswordForm(""), "client_id", "spryker-glue"), "client_secret", "x"), status: 401, code: "invalid_client"},
		{name: "no client at all", form: harness.PasswordForm(""), status: 401, code: "invalid_client"},
		{name: "two authentication methods", form: withValue(harness.PasswordForm(""), "client_secret", app.DemoClientSecret), user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_request"},
		{name: "basic and a different body client_id", form: withValue(harness.PasswordForm(""), "client_id", "other"), user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_request"},
		{name: "grant not allowed for client", form: withValue(withValue(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "client_id", "shopkey-storefront"), "scope", ""), status: 400, code: "unauthorized_client"},
		{name: "unsupported grant", form: url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "unsupported_grant_type"},
		{name: "client_credentials not allowed for client", form: url.Values{"grant_type": {"client_credentials"}}, user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "unauthorized_client"},
		{name: "password grant from a third-party client", form: harness.PasswordForm(""), user: "other", pass: "other-secret", status: 400, code: "unauthorized_client"},
		{name: "missing grant_type", form: url.Values{}, user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_request"},
		{name: "missing password", form: withValue(harness.PasswordForm(""), "password", ""), user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_request"},
		{name: "unknown scope", form: harness.PasswordForm("openid admin"), user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_scope"},
		{name: "refresh token of another client", form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, user: "other", pass: "other-secret", status: 400, code: "invalid_grant"},
		{name: "refresh widening scope", form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "scope": {"openid email"}}, user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_scope"},
		{name: "unknown refresh token", form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"bogus"}}, user: app.DemoClientID, pass: app.DemoClientSecret, status: 400, code: "invalid_grant"},
		{name: "malformed basic header", form: harness.PasswordForm(""), header: map[string]string{"Authorization": "Basic !!!"}, status: 401, code: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/token", strings.NewReader(tt.form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.user != "" {
				req.SetBasicAuth(url.QueryEscape(tt.user), url.QueryEscape(tt.pass))
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b := harness.DecodeToken(t, resp)
			require.Equal(t, tt.status, resp.StatusCode, "%s: %s", b.Error, b.ErrorDescription)
			require.Equal(t, tt.code, b.Error)
			require.Regexp(t, `^[\x20-\x21\x23-\x5B\x5D-\x7E]*$`, b.ErrorDescription, "RFC 6749 §5.2 character set")
			if tt.status == http.StatusUnauthorized {
				require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
			}
		})
	}

	t.Run("wrong password and unknown user answer alike", func(t *testing.T) {
		a := harness.DecodeToken(t, ts.PostForm(t, "/oauth2/token", withValue(harness.PasswordForm(""), "password", "nope"), app.DemoClientID, app.DemoClientSecret))
		b := harness.DecodeToken(t, ts.PostForm(t, "/oauth2/token", withValue(harness.PasswordForm(""), "username", "ghost@example.com"), app.DemoClientID, app.DemoClientSecret))
		require.Equal(t, a, b)
	})
}

func withValue(f url.Values, k, v string) url.Values {
	c := url.Values{}
	for key, vals := range f {
		c[key] = append([]string(nil), vals...)
	}
	if v == "" {
		c.Del(k)
	} else {
		c.Set(k, v)
	}
	return c
}

func TestTokenEndpointRequestRules(t *testing.T) {
	ts := harness.NewTestServer(t)
	post := func(t *testing.T, target, contentType, body string, basic bool) (*http.Response, harness.TokenBody) {
		req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if basic {
			req.SetBasicAuth(app.DemoClientID, app.DemoClientSecret)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode == http.StatusRequestEntityTooLarge {
			return resp, harness.TokenBody{}
		}
		return resp, harness.DecodeToken(t, resp)
	}
	form := harness.PasswordForm("openid").Encode()

	t.Run("client_secret_post", func(t *testing.T) {
		resp, b := post(t, ts.URL+"/oauth2/token", "application/x-www-form-urlencoded",
			form+"&client_id=storefront&client_secret=storefront-secret", false)
		require.Equal(t, http.StatusOK, resp.StatusCode, b.Error)
	})
	t.Run("basic credentials are form-decoded (RFC 6749 §2.3.1)", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("storefront", "storefront%2Dsecret") // as openid-client sends it
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("public client by client_id", func(t *testing.T) {
		resp, b := post(t, ts.URL+"/oauth2/token", "application/x-www-form-urlencoded",
			harness.PasswordForm("customer").Encode()+"&client_id=spryker-glue", false)
		require.Equal(t, http.StatusOK, resp.StatusCode, b.Error)
	})
	t.Run("repeated parameter", func(t *testing.T) {
		resp, b := post(t, ts.URL+"/oauth2/token", "application/x-www-form-urlencoded", form+"&scope=openid", true)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_request", b.Error)
	})
	t.Run("parameters in the query string are ignored", func(t *testing.T) {
		resp, b := post(t, ts.URL+"/oauth2/token?"+form, "application/x-www-form-urlencoded", "", true)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_request", b.Error)
	})
	t.Run("JSON body", func(t *testing.T) {
		resp, b := post(t, ts.URL+"/oauth2/token", "application/json", `{"grant_type":"password"}`, true)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_request", b.Error)
	})
	t.Run("body over 1 MiB", func(t *testing.T) {
		resp, _ := post(t, ts.URL+"/oauth2/token", "application/x-www-form-urlencoded", form+"&pad="+strings.Repeat("a", 1<<20), true)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		resp, err := http.Get(ts.URL + "/oauth2/token?" + form)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	t.Run("username is trimmed and case-insensitive", func(t *testing.T) {
		resp, b := post(t, ts.URL+"/oauth2/token", "application/x-www-form-urlencoded",
			withValue(harness.PasswordForm(""), "username", "  Sonia@Spryker.COM ").Encode(), true)
		require.Equal(t, http.StatusOK, resp.StatusCode, b.Error)
	})
}

func TestRefreshGrant(t *testing.T) {
	ts := harness.NewTestServer(t)
	first := tokenOK(t, ts, harness.PasswordForm("openid email offline_access"), app.DemoClientID, app.DemoClientSecret)

	t.Run("narrowing the scope", func(t *testing.T) {
		b := tokenOK(t, ts, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}, "scope": {"openid"}}, app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, "openid", b.Scope)
		require.NotEmpty(t, b.RefreshToken)
		// The new refresh token keeps the original scope (RFC 6749 §6).
		again := tokenOK(t, ts, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {b.RefreshToken}}, app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, "openid email offline_access", again.Scope)
	})
	t.Run("refresh requires the client's own secret", func(t *testing.T) {
		login := tokenOK(t, ts, harness.PasswordForm("offline_access"), app.DemoClientID, app.DemoClientSecret)
		resp := ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.RefreshToken}}, app.DemoClientID, "wrong")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp = ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.RefreshToken}, "client_id": {app.DemoClientID}}, "", "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}
