package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/storage"
)

var updateSprykerGolden = flag.Bool("update-spryker-golden", false, "rewrite testdata/spryker/golden/*.txt from the server's answers")

// goldenText is what a golden file holds: the status, the headers a Glue
// client reads, and the body byte for byte.
func goldenText(r harness.GlueResponse) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "status: %d\n", r.Status)
	for _, h := range []string{"Content-Type", "Retry-After"} {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", strings.ToLower(h), v)
		}
	}
	b.WriteString("\n")
	b.Write(r.Body)
	b.WriteString("\n")
	return b.Bytes()
}

func requireGolden(t *testing.T, name string, r harness.GlueResponse) {
	t.Helper()
	path := filepath.Join("testdata", "spryker", "golden", name+".txt")
	got := goldenText(r)
	if *updateSprykerGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update-spryker-golden to create it")
	require.Equal(t, string(want), string(got))
}

// TestSprykerErrorGolden answers every row of docs/spryker.md's error
// tables (the 429 row needs the core's throttling and is covered in
// web/spryker with a fake core), and the transport errors, against golden
// files. Rows with several causes (wrong password, unknown user, disabled
// account) share one golden file: the answer must not tell them apart.
func TestSprykerErrorGolden(t *testing.T) {
	ts := harness.NewTestServer(t, withoutLoginThrottle())
	now := time.Now().UTC()
	ts.AddCustomer(t, storage.Customer{Email: "disabled@example.com", EmailVerifiedAt: &now, DisabledAt: &now})
	session := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
	spent := session.RefreshToken
	ts.RequireTokens(t, ts.SprykerRefresh(t, spent), "refresh-tokens", "/refresh-tokens")
	revoked := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
	require.Equal(t, http.StatusNoContent, ts.Glue(t, http.MethodDelete, "/refresh-tokens/"+revoked.RefreshToken, "", session.AccessToken).Status)
	live := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)

	post := func(path, body string) func(t *testing.T) harness.GlueResponse {
		return func(t *testing.T) harness.GlueResponse { return ts.Glue(t, http.MethodPost, path, body, "") }
	}
	raw := func(method, path, contentType, body string, header ...string) func(t *testing.T) harness.GlueResponse {
		return func(t *testing.T) harness.GlueResponse {
			req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
			require.NoError(t, err)
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			return harness.Do(t, req)
		}
	}
	form := func(values url.Values) func(t *testing.T) harness.GlueResponse {
		return raw(http.MethodPost, "/token", "application/x-www-form-urlencoded", values.Encode())
	}
	deleteWith := func(path, bearer string) func(t *testing.T) harness.GlueResponse {
		return func(t *testing.T) harness.GlueResponse { return ts.Glue(t, http.MethodDelete, path, "", bearer) }
	}
	long := strings.Repeat("a", 10_000)
	tests := []struct {
		name   string
		golden string
		send   func(t *testing.T) harness.GlueResponse
	}{
		// POST /access-tokens
		{"wrong password", "401-003", post("/access-tokens", harness.LoginBody(app.DemoCustomerEmail, "wrong"))},
		{"unknown user", "401-003", post("/access-tokens", harness.LoginBody("nobody@example.com", app.DemoPassword))},
		{"disabled account", "401-003", post("/access-tokens", harness.LoginBody("disabled@example.com", app.DemoPassword))},
		{"10,000-character password", "401-003", post("/access-tokens", harness.LoginBody(app.DemoCustomerEmail, long))},
		{"e-mail not verified", "403-003", post("/access-tokens", harness.LoginBody(app.DemoUnverifiedUser, app.DemoPassword))},
		{"blank username", "422-901-username-blank", post("/access-tokens", harness.LoginBody("", app.DemoPassword))},
		{"null username", "422-901-username-blank", post("/access-tokens", `{"data":{"type":"access-tokens","attributes":{"username":null,"password":"x"}}}`)},
		{"blank password", "422-901-password-blank", post("/access-tokens", harness.LoginBody(app.DemoCustomerEmail, ""))},
		{"both blank", "422-901-both-blank", post("/access-tokens", `{"data":{"type":"access-tokens","attributes":{}}}`)},
		{"username not an e-mail", "422-901-username-not-email", post("/access-tokens", harness.LoginBody("sonia", app.DemoPassword))},
		{"10,000-character username", "422-901-username-not-email", post("/access-tokens", harness.LoginBody(long, app.DemoPassword))},
		{"username with a space", "422-901-username-not-email", post("/access-tokens", harness.LoginBody(" sonia@spryker.com", app.DemoPassword))},
		{"not an e-mail and blank password", "422-901-not-email-and-blank", post("/access-tokens", harness.LoginBody("sonia", ""))},
		{"unicode e-mail is an e-mail", "401-003", post("/access-tokens", harness.LoginBody("sönia@spryker.com", app.DemoPassword))},
		{"wrong type", "400-invalid-type", post("/access-tokens", `{"data":{"type":"refresh-tokens","attributes":{"username":"a@b.c","password":"x"}}}`)},
		{"type not a string", "400-invalid-type", post("/access-tokens", `{"data":{"type":["access-tokens"],"attributes":{}}}`)},
		{"no type", "400-invalid-type", post("/access-tokens", `{"data":{"attributes":{"username":"a@b.c","password":"x"}}}`)},
		{"no attributes", "400-post-data-invalid", post("/access-tokens", `{"data":{"type":"access-tokens"}}`)},
		{"no data", "400-post-data-invalid", post("/access-tokens", `{"type":"access-tokens"}`)},
		{"data is an array", "400-post-data-invalid", post("/access-tokens", `{"data":[{"type":"access-tokens"}]}`)},
		{"member names are case-sensitive", "400-post-data-invalid", post("/access-tokens", `{"DATA":{"type":"access-tokens","attributes":{}}}`)},
		{"not JSON", "400-post-data-invalid", post("/access-tokens", `username=sonia@spryker.com&password=change123`)},
		{"empty body", "400-post-data-invalid", raw(http.MethodPost, "/access-tokens", "", "")},
		{"trailing data", "400-post-data-invalid", post("/access-tokens", harness.LoginBody(app.DemoCustomerEmail, app.DemoPassword)+"{}")},
		{"username a number", "400-post-data-invalid", post("/access-tokens", `{"data":{"type":"access-tokens","attributes":{"username":21,"password":"x"}}}`)},
		{"password an array", "400-post-data-invalid", post("/access-tokens", `{"data":{"type":"access-tokens","attributes":{"username":"a@b.c","password":["x"]}}}`)},
		{"duplicate password", "400-post-data-invalid", post("/access-tokens", `{"data":{"type":"access-tokens","attributes":{"username":"sonia@spryker.com","password":"wrong","password":"change123"}}}`)},
		{"duplicate after unescaping", "400-post-data-invalid", post("/access-tokens", `{"data":{"type":"access-tokens","attributes":{"username":"sonia@spryker.com","passwor\u0064":"x","password":"change123"}}}`)},
		{"invalid UTF-8", "400-post-data-invalid", post("/access-tokens", "{\"data\":{\"type\":\"access-tokens\",\"attributes\":{\"username\":\"a\xff@b.c\",\"password\":\"x\"}}}")},
		{"form content type", "400-post-data-invalid", raw(http.MethodPost, "/access-tokens", "application/x-www-form-urlencoded", harness.LoginBody(app.DemoCustomerEmail, app.DemoPassword))},
		{"plain JSON content type is fine", "401-003", raw(http.MethodPost, "/access-tokens", "application/json; charset=utf-8", harness.LoginBody(app.DemoCustomerEmail, "wrong"))},
		{"no content type is fine", "401-003", raw(http.MethodPost, "/access-tokens", "", harness.LoginBody(app.DemoCustomerEmail, "wrong"))},
		{"wrong method", "404", raw(http.MethodGet, "/access-tokens", "", "")},

		// POST /refresh-tokens
		{"bad refresh token", "401-004", post("/refresh-tokens", harness.RefreshBody("garbage"))},
		{"10,000-character refresh token", "401-004", post("/refresh-tokens", harness.RefreshBody(long))},
		{"revoked refresh token", "401-004", post("/refresh-tokens", harness.RefreshBody(revoked.RefreshToken))},
		{"blank refresh token", "422-901-refresh-token-blank", post("/refresh-tokens", harness.RefreshBody(""))},
		{"refresh token a number", "400-post-data-invalid", post("/refresh-tokens", `{"data":{"type":"refresh-tokens","attributes":{"refreshToken":12}}}`)},
		{"refresh with the login type", "400-invalid-type", post("/refresh-tokens", `{"data":{"type":"access-tokens","attributes":{"refreshToken":"x"}}}`)},
		{"wrong method on refresh-tokens", "404", raw(http.MethodPut, "/refresh-tokens", "", "")},

		// DELETE /refresh-tokens/…
		{"no Bearer", "403-002", deleteWith("/refresh-tokens/mine", "")},
		{"bad Bearer", "401-001", deleteWith("/refresh-tokens/mine", "not-a-jwt")},
		{"Basic instead of Bearer", "401-001", raw(http.MethodDelete, "/refresh-tokens/mine", "", "", "Authorization", "Basic c29uaWE6Y2hhbmdlMTIz")},
		{"revoked Bearer", "401-001", deleteWith("/refresh-tokens/mine", revoked.AccessToken)},
		{"no id", "400-missing-id", deleteWith("/refresh-tokens/", live.AccessToken)},
		{"no id, no slash", "400-missing-id", deleteWith("/refresh-tokens", live.AccessToken)},
		{"no id, no Bearer", "403-002", deleteWith("/refresh-tokens/", "")},
		{"wrong method on a token", "404", raw(http.MethodGet, "/refresh-tokens/mine", "", "")},

		// POST /token
		{"form: wrong credentials", "token-400-invalid-grant", form(url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {"wrong"}})},
		{"form: not verified", "token-400-invalid-grant", form(url.Values{"grant_type": {"password"}, "username": {app.DemoUnverifiedUser}, "password": {app.DemoPassword}})},
		{"form: missing username", "token-400-invalid-request", form(url.Values{"grant_type": {"password"}, "password": {app.DemoPassword}})},
		{"form: missing password", "token-400-invalid-request", form(url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}})},
		{"form: missing refresh_token", "token-400-invalid-request", form(url.Values{"grant_type": {"refresh_token"}})},
		{"form: repeated parameter", "token-400-invalid-request", raw(http.MethodPost, "/token", "application/x-www-form-urlencoded", "grant_type=password&username=a&username=b&password=c")},
		{"form: JSON body", "token-400-invalid-request", raw(http.MethodPost, "/token", "application/json", `{"grant_type":"password"}`)},
		{"form: bad refresh token", "token-400-bad-refresh", form(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"garbage"}})},
		{"form: spent refresh token", "token-400-bad-refresh", form(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {revoked.RefreshToken}})},
		{"form: unknown grant_type", "token-400-unsupported-grant", form(url.Values{"grant_type": {"client_credentials"}})},
		{"form: no grant_type", "token-400-unsupported-grant", form(url.Values{"username": {app.DemoCustomerEmail}})},
		{"form: wrong method", "404", raw(http.MethodGet, "/token", "", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireGolden(t, tt.golden, tt.send(t))
		})
	}

	// Time-dependent rows last: they move the server's clock.
	t.Run("spent refresh token after the reuse grace", func(t *testing.T) {
		ts.Clock.Advance(ts.Config.Tokens.RefreshReuseGrace + time.Second)
		requireGolden(t, "401-004", ts.SprykerRefresh(t, spent))
	})
	t.Run("expired Bearer", func(t *testing.T) {
		ts.Clock.Advance(28800*time.Second + app.ClockSkew + time.Second)
		requireGolden(t, "401-001", ts.Glue(t, http.MethodDelete, "/refresh-tokens/mine", "", live.AccessToken))
	})
	t.Run("expired refresh token", func(t *testing.T) {
		ts.Clock.Advance(2628000 * time.Second)
		requireGolden(t, "401-004", ts.SprykerRefresh(t, live.RefreshToken))
	})
}

// TestSprykerThrottleGolden is the 429 row: the per-address login limit of
// the core (the same one /oauth2/token has) in Glue's words, and in the
// form endpoint's.
func TestSprykerThrottleGolden(t *testing.T) {
	ts := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) { c.Login.RatePerMinute, c.Login.Burst = 1, 1 }))
	ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
	requireGolden(t, "429-4401", ts.Glue(t, http.MethodPost, "/access-tokens", harness.LoginBody(app.DemoCustomerEmail, app.DemoPassword), ""))
	resp := ts.PostForm(t, "/token", url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {app.DemoPassword}}, "", "")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	requireGolden(t, "token-429", harness.GlueResponse{Status: resp.StatusCode, Header: resp.Header, Body: body})

	// The limit is the core's, shared with /oauth2/token: the standard
	// endpoint is refused for this address too.
	resp = ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {app.DemoPassword}},
		app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}
