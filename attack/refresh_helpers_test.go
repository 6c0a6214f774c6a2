package attack

// Helpers of the refresh-pipeline attacks (refresh_*_test.go).

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
)

// refreshBackends are the stores the refresh attacks run on: SQLite, and
// MySQL when SHOPAUTH_TEST_MYSQL_DSN is set (skipped otherwise).
var refreshBackends = []struct {
	name string
	opts []harness.TestOption
}{
	{"sqlite", nil},
	{"mysql", []harness.TestOption{harness.WithMySQL()}},
}

// withGrace sets the refresh reuse grace.
func withGrace(d time.Duration) harness.TestOption {
	return harness.WithConfig(func(c *config.Config) { c.Tokens.RefreshReuseGrace = d })
}

// offlineLogin signs the demo customer in with a refresh token.
func offlineLogin(t *testing.T, ts *harness.TestServer) harness.TokenBody {
	t.Helper()
	body := ts.Login(t, "openid offline_access", "")
	require.NotEmpty(t, body.RefreshToken)
	return body
}

// mustRefresh refreshes and requires success.
func mustRefresh(t *testing.T, ts *harness.TestServer, refresh string) harness.TokenBody {
	t.Helper()
	status, body := ts.Refresh(t, refresh)
	require.Equal(t, http.StatusOK, status, "refresh: %s %s", body.Error, body.ErrorDescription)
	return body
}

// revokeAs posts token to the revocation endpoint as client id.
func revokeAs(t *testing.T, ts *harness.TestServer, id, secret, token string) (int, harness.TokenBody) {
	t.Helper()
	resp := ts.PostForm(t, "/oauth2/revoke", url.Values{"token": {token}}, id, secret)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, harness.TokenBody{}
	}
	return resp.StatusCode, harness.DecodeToken(t, resp)
}

// requireTokenActive asks introspection, as the demo client, whether an
// access or refresh token of the demo client is live.
func requireTokenActive(t *testing.T, ts *harness.TestServer, token string, active bool, msg string) {
	t.Helper()
	body := ts.Introspect(t, token, app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, active, body["active"], "%s: %v", msg, body)
}

// refreshForm is a refresh_token grant for token.
func refreshForm(token string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
}
