package attack

// Adversarial suite, hole 1 (issue 13): the per-address login rate limit
// must be per caller address on every login surface. A surface that drops
// the caller's address puts every caller in one bucket, so an anonymous
// client that spends it locks every shop's customers out.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
)

// Two callers behind the trusted proxy (documentation ranges, RFC 5737).
const (
	attackerAddr = "203.0.113.9"
	victimAddr   = "198.51.100.7"
)

// loginSurface logs in on one surface from the address xff and reports
// the status, and whether the answer was a successful login.
type loginSurface struct {
	name  string
	setup func(t testing.TB, ts *harness.TestServer)
	login func(t *testing.T, ts *harness.TestServer, xff, email, password string) (status int, ok bool)
}

// send sends req as if relayed by the trusted proxy for xff.
func send(t *testing.T, req *http.Request, xff string) int {
	t.Helper()
	req.Header.Set("X-Forwarded-For", xff)
	return harness.Do(t, req).Status
}

func newPost(t *testing.T, target, contentType, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	return req
}

const formType = "application/x-www-form-urlencoded"

var loginSurfaces = []loginSurface{
	{name: "oauth2 token endpoint", login: func(t *testing.T, ts *harness.TestServer, xff, email, password string) (int, bool) {
		form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}
		req := newPost(t, ts.URL+"/oauth2/token", formType, form.Encode())
		req.SetBasicAuth(app.DemoClientID, app.DemoClientSecret)
		status := send(t, req, xff)
		return status, status == http.StatusOK
	}},
	{name: "spryker access-tokens", login: func(t *testing.T, ts *harness.TestServer, xff, email, password string) (int, bool) {
		status := send(t, newPost(t, ts.URL+"/access-tokens", "application/vnd.api+json", harness.LoginBody(email, password)), xff)
		return status, status == http.StatusCreated
	}},
	{name: "spryker token form", login: func(t *testing.T, ts *harness.TestServer, xff, email, password string) (int, bool) {
		form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}
		status := send(t, newPost(t, ts.URL+"/token", formType, form.Encode()), xff)
		return status, status == http.StatusOK
	}},
	{name: "shopkey login json", login: func(t *testing.T, ts *harness.TestServer, xff, email, password string) (int, bool) {
		body := fmt.Sprintf(`{"_method":"POST","email":%q,"password":%q}`, email, password)
		status := send(t, newPost(t, ts.URL+"/api/v1/"+app.DemoShop+"/customers/login", "application/json", body), xff)
		return status, status == http.StatusAccepted
	}},
	{name: "shopkey login form", login: func(t *testing.T, ts *harness.TestServer, xff, email, password string) (int, bool) {
		form := url.Values{"_method": {"POST"}, "email": {email}, "password": {password}}
		status := send(t, newPost(t, ts.URL+"/api/v1/"+app.DemoShop+"/customers/login", formType, form.Encode()), xff)
		return status, status == http.StatusAccepted
	}},
	{name: "hosted login page", setup: harness.AddCodeFlowClients, login: func(t *testing.T, ts *harness.TestServer, xff, email, password string) (int, bool) {
		// A browser of its own per attempt: the login page, then its form.
		b := harness.NewBrowser(t, ts)
		req, err := http.NewRequest(http.MethodGet, ts.URL+harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}}), nil)
		require.NoError(t, err)
		req.Header.Set("X-Forwarded-For", xff)
		loginPage := b.Do(req)
		require.Equal(t, http.StatusOK, loginPage.Status, loginPage.Body)
		f := harness.FormOf(t, loginPage)
		f.Set("email", email)
		f.Set("password", password)
		req = newPost(t, ts.URL+"/login", formType, f.Encode())
		req.Header.Set("X-Forwarded-For", xff)
		p := b.Do(req)
		return p.Status, p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location, harness.WebRedirect+"?code=")
	}},
}

// TestAttackLoginRateLimitPerAddress: on every login surface, a burst of
// wrong logins from one address behind the trusted proxy exhausts that
// address's bucket (the next attempt is 429) and leaves another address's
// alone (the right password from it signs in). Catches a surface that
// drops the caller's address (issue 13 item 1: web/shopkey did, so every
// shopKey login of every shop shared the bucket keyed ""), and a surface
// that skips the limiter altogether.
func TestAttackLoginRateLimitPerAddress(t *testing.T) {
	for _, s := range loginSurfaces {
		t.Run(s.name, func(t *testing.T) {
			// One token a minute: the burst never refills during the test.
			ts := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) {
				c.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
				c.Login.RatePerMinute = 1
			}))
			if s.setup != nil {
				s.setup(t, ts)
			}
			// Distinct unknown e-mails: the lockout per e-mail stays out of it.
			for i := range ts.Config.Login.Burst {
				status, ok := s.login(t, ts, attackerAddr, fmt.Sprintf("nobody%d@example.com", i), "wrong")
				require.False(t, ok)
				require.NotEqual(t, http.StatusTooManyRequests, status, "attempt %d is within the burst", i+1)
			}
			status, _ := s.login(t, ts, attackerAddr, "nobody@example.com", "wrong")
			require.Equal(t, http.StatusTooManyRequests, status, "the attacker's address is over its limit")

			status, ok := s.login(t, ts, victimAddr, app.DemoCustomerEmail, app.DemoPassword)
			require.True(t, ok, "another address signs in (status %d)", status)
		})
	}
}
