package attack

// Adversarial suite, hole 8 (issue 13): the hosted pages' CSRF pair
// (cookie, form token) must be bound to the browser's flow. An attacker
// can always get a valid pair from the server for their own browser; when
// they can also plant its cookie in the victim's browser (a sibling
// subdomain can, unless the cookie is __Host-), a pair that is only
// HMAC(cookie) lets them post any form in the victim's browser, with the
// victim's session: consent to the attacker's app, a login into the
// victim's flow, a logout.

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/storage"
)

const (
	csrfCookie = "shopauth_csrf"
	evilAppID  = "evil-app"
	evilAppCB  = "https://evil.example/cb"
)

// plantCSRFCookie copies from's CSRF cookie into to's cookie jar.
func plantCSRFCookie(t *testing.T, ts *harness.TestServer, from, to *harness.Browser) {
	t.Helper()
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	for _, c := range from.Jar().Cookies(u) {
		if c.Name == csrfCookie {
			to.Jar().SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
			return
		}
	}
	t.Fatal("the attacker's browser has no CSRF cookie")
}

// TestAttackCSRFPairBoundToFlow: a (cookie, token) pair the attacker got
// for their own browser, planted into the victim's browser, completes
// nothing of the victim's: no consent for the attacker's app on the
// victim's session, no login step of the victim's authorization request,
// no logout of the victim's session. Before the fix each of these
// succeeded (the token was HMAC of the cookie value only, good for any
// form, request and session).
func TestAttackCSRFPairBoundToFlow(t *testing.T) {
	ts := harness.NewTestServer(t)
	harness.AddCodeFlowClients(t, ts)
	require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
		ID: evilAppID, Public: true, ShopKey: app.DemoShop,
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email"},
		RedirectURIs: []string{evilAppCB},
	}))
	evilAuthorize := harness.AuthorizeURL(evilAppID, evilAppCB, url.Values{"scope": {"openid email"}, "state": {"evil"}})

	t.Run("consent for the attacker's app on the victim's session", func(t *testing.T) {
		victim := harness.NewBrowser(t, ts)
		harness.CodeFor(t, ts, victim, nil) // signed in
		attacker := harness.NewBrowser(t, ts)
		f := harness.FormOf(t, attacker.Get(evilAuthorize)) // an anonymous login page is enough
		plantCSRFCookie(t, ts, attacker, victim)

		f.Set("decision", "allow")
		p := victim.Post("/consent", f)
		require.Equal(t, http.StatusForbidden, p.Status, "location %q", p.Location)
		consent, err := ts.Store.GetConsent(t.Context(), demoCustomerID(t, ts), evilAppID)
		require.ErrorIs(t, err, storage.ErrNotFound, "no consent recorded: %+v", consent)
	})

	t.Run("login step of the victim's authorization request", func(t *testing.T) {
		attacker := harness.NewBrowser(t, ts)
		stolen := harness.FormOf(t, attacker.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}, "state": {"attacker"}})))
		victim := harness.NewBrowser(t, ts)
		f := harness.FormOf(t, victim.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}, "state": {"victim"}})))
		plantCSRFCookie(t, ts, attacker, victim)

		f.Set("csrf_token", stolen.Get("csrf_token"))
		f.Set("email", app.DemoCustomerEmail)
		f.Set("password", app.DemoPassword)
		p := victim.Post("/login", f)
		require.Equal(t, http.StatusForbidden, p.Status, "location %q", p.Location)
	})

	t.Run("logout of the victim's session", func(t *testing.T) {
		victim := harness.NewBrowser(t, ts)
		harness.CodeFor(t, ts, victim, nil)
		attacker := harness.NewBrowser(t, ts)
		harness.CodeFor(t, ts, attacker, nil) // the attacker's own session
		confirm := attacker.Get("/oauth2/logout")
		require.Equal(t, http.StatusOK, confirm.Status)
		f := harness.FormOf(t, confirm)
		plantCSRFCookie(t, ts, attacker, victim)

		f.Set("confirm", "yes")
		require.Equal(t, http.StatusBadRequest, victim.Post("/oauth2/logout", f).Status)
		q := harness.Callback(t, victim.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"prompt": {"none"}, "scope": {"openid"}})), harness.WebRedirect)
		require.NotEmpty(t, q.Get("code"), "the victim is still signed in: %v", q)
	})

	t.Run("the pair still works in its own browser and flow", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		p := b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, url.Values{"prompt": {"login consent"}, "state": {"own"}}))
		p = b.Get(b.SubmitLogin(p, app.DemoCustomerEmail, app.DemoPassword).Location)
		f := harness.FormOf(t, p)
		f.Set("decision", "allow")
		q := harness.Callback(t, b.Post("/consent", f), harness.AppRedirect)
		require.NotEmpty(t, q.Get("code"))
		require.Equal(t, "own", q.Get("state"))
	})
}

// demoCustomerID is the id of the demo customer.
func demoCustomerID(t *testing.T, ts *harness.TestServer) uint64 {
	t.Helper()
	c, err := ts.Store.GetCustomerByEmail(t.Context(), app.DemoShop, app.DemoCustomerEmail)
	require.NoError(t, err)
	return c.ID
}
