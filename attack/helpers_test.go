package attack

// Helpers of the adversarial suite (attack_*_test.go).

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
)

// attackBackends are the stores the suite runs on where storage is
// involved (MySQL when SHOPAUTH_TEST_MYSQL_DSN is set).
func attackBackends() []struct {
	name string
	opts []harness.TestOption
} {
	return []struct {
		name string
		opts []harness.TestOption
	}{
		{"sqlite", nil},
		{"mysql", []harness.TestOption{harness.WithMySQL()}},
	}
}

// thirdPartyToken runs the code flow of the third-party app for the demo
// customer with scope and returns the token response.
func thirdPartyToken(t testing.TB, ts *harness.TestServer, scope string) harness.TokenBody {
	t.Helper()
	b := harness.NewBrowser(t, ts)
	p := b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, url.Values{"scope": {scope}}))
	if p.Status == http.StatusOK {
		p = b.SubmitLogin(p, app.DemoCustomerEmail, app.DemoPassword)
	}
	if strings.HasPrefix(p.Location, "/consent") { // the first time only
		consent := b.Get(p.Location)
		f := harness.FormOf(t, consent)
		f.Set("decision", "allow")
		p = b.Post("/consent", f)
	}
	code := harness.Callback(t, p, harness.AppRedirect).Get("code")
	require.NotEmpty(t, code, p.Location)
	resp, body := harness.ExchangeCode(t, ts, code, harness.AppExchange(code), "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body.Error)
	return body
}

// requireRevoked asks UserInfo about an access token without openid: a
// revoked one is 401 invalid_token, a live one 403 insufficient_scope.
func requireRevoked(t *testing.T, ts *harness.TestServer, token string, revoked bool) {
	t.Helper()
	r, body := ts.UserInfo(t, token)
	want := http.StatusForbidden
	if revoked {
		want = http.StatusUnauthorized
	}
	require.Equal(t, want, r.StatusCode, "%s %s", body, r.Header.Get("WWW-Authenticate"))
}

// withoutLoginRateLimit turns the per-address login limit off for tests
// that sign in many times from one address on purpose.
func withoutLoginRateLimit() harness.TestOption {
	return harness.WithConfig(func(c *config.Config) { c.Login.RatePerMinute = 0 })
}

// skAccessToken is the access token of a shopKey answer (login or
// refresh).
func skAccessToken(t testing.TB, r harness.SkResponse) string {
	t.Helper()
	var doc struct {
		Data struct {
			Token struct {
				AccessToken string `json:"access_token"`
			} `json:"token"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &doc), r.Body)
	require.NotEmpty(t, doc.Data.Token.AccessToken, r.Body)
	return doc.Data.Token.AccessToken
}

// tokenClaims reads an access token's claims without verifying it.
func tokenClaims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

// headerOf reads a compact JWS's protected header.
func headerOf(t testing.TB, jws string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}
