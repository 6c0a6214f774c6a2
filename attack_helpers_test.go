package main

// Helpers of the adversarial suite (attack_*_test.go).

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// attackBackends are the stores the suite runs on where storage is
// involved (MySQL when SHOPAUTH_TEST_MYSQL_DSN is set).
func attackBackends() []struct {
	name string
	opts []testOption
} {
	return []struct {
		name string
		opts []testOption
	}{
		{"sqlite", nil},
		{"mysql", []testOption{withMySQL()}},
	}
}

// thirdPartyToken runs the code flow of the third-party app for the demo
// customer with scope and returns the token response.
func thirdPartyToken(t testing.TB, ts *testServer, scope string) tokenBody {
	t.Helper()
	b := newBrowser(t, ts)
	p := b.get(authorizeURL(appClientID, appRedirect, url.Values{"scope": {scope}}))
	if p.status == http.StatusOK {
		p = b.submitLogin(p, demoCustomerEmail, demoPassword)
	}
	if strings.HasPrefix(p.location, "/consent") { // the first time only
		consent := b.get(p.location)
		f := formOf(t, consent)
		f.Set("decision", "allow")
		p = b.post("/consent", f)
	}
	code := callback(t, p, appRedirect).Get("code")
	require.NotEmpty(t, code, p.location)
	resp, body := exchangeCode(t, ts, code, appExchange(code), "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body.Error)
	return body
}

// requireRevoked asks UserInfo about an access token without openid: a
// revoked one is 401 invalid_token, a live one 403 insufficient_scope.
func requireRevoked(t *testing.T, ts *testServer, token string, revoked bool) {
	t.Helper()
	r, body := ts.userInfo(t, token)
	want := http.StatusForbidden
	if revoked {
		want = http.StatusUnauthorized
	}
	require.Equal(t, want, r.StatusCode, "%s %s", body, r.Header.Get("WWW-Authenticate"))
}
