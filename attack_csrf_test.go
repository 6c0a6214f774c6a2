package main

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

	"github.com/shopauth/shopauth/storage"
)

const (
	csrfCookie = "shopauth_csrf"
	evilAppID  = "evil-app"
	evilAppCB  = "https://evil.example/cb"
)

// plantCSRFCookie copies from's CSRF cookie into to's cookie jar.
func plantCSRFCookie(t *testing.T, ts *testServer, from, to *browser) {
	t.Helper()
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	for _, c := range from.http.Jar.Cookies(u) {
		if c.Name == csrfCookie {
			to.http.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
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
	ts := newTestServer(t)
	addCodeFlowClients(t, ts)
	require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
		ID: evilAppID, Public: true, ShopKey: demoShop,
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email"},
		RedirectURIs: []string{evilAppCB},
	}))
	evilAuthorize := authorizeURL(evilAppID, evilAppCB, url.Values{"scope": {"openid email"}, "state": {"evil"}})

	t.Run("consent for the attacker's app on the victim's session", func(t *testing.T) {
		victim := newBrowser(t, ts)
		codeFor(t, ts, victim, nil) // signed in
		attacker := newBrowser(t, ts)
		f := formOf(t, attacker.get(evilAuthorize)) // an anonymous login page is enough
		plantCSRFCookie(t, ts, attacker, victim)

		f.Set("decision", "allow")
		p := victim.post("/consent", f)
		require.Equal(t, http.StatusForbidden, p.status, "location %q", p.location)
		consent, err := ts.Store.GetConsent(t.Context(), demoCustomerID(t, ts), evilAppID)
		require.ErrorIs(t, err, storage.ErrNotFound, "no consent recorded: %+v", consent)
	})

	t.Run("login step of the victim's authorization request", func(t *testing.T) {
		attacker := newBrowser(t, ts)
		stolen := formOf(t, attacker.get(authorizeURL(webClientID, webRedirect, url.Values{"scope": {"openid email"}, "state": {"attacker"}})))
		victim := newBrowser(t, ts)
		f := formOf(t, victim.get(authorizeURL(webClientID, webRedirect, url.Values{"scope": {"openid email"}, "state": {"victim"}})))
		plantCSRFCookie(t, ts, attacker, victim)

		f.Set("csrf_token", stolen.Get("csrf_token"))
		f.Set("email", demoCustomerEmail)
		f.Set("password", demoPassword)
		p := victim.post("/login", f)
		require.Equal(t, http.StatusForbidden, p.status, "location %q", p.location)
	})

	t.Run("logout of the victim's session", func(t *testing.T) {
		victim := newBrowser(t, ts)
		codeFor(t, ts, victim, nil)
		attacker := newBrowser(t, ts)
		codeFor(t, ts, attacker, nil) // the attacker's own session
		confirm := attacker.get("/oauth2/logout")
		require.Equal(t, http.StatusOK, confirm.status)
		f := formOf(t, confirm)
		plantCSRFCookie(t, ts, attacker, victim)

		f.Set("confirm", "yes")
		require.Equal(t, http.StatusBadRequest, victim.post("/oauth2/logout", f).status)
		q := callback(t, victim.get(authorizeURL(webClientID, webRedirect, url.Values{"prompt": {"none"}, "scope": {"openid"}})), webRedirect)
		require.NotEmpty(t, q.Get("code"), "the victim is still signed in: %v", q)
	})

	t.Run("the pair still works in its own browser and flow", func(t *testing.T) {
		b := newBrowser(t, ts)
		p := b.get(authorizeURL(appClientID, appRedirect, url.Values{"prompt": {"login consent"}, "state": {"own"}}))
		p = b.get(b.submitLogin(p, demoCustomerEmail, demoPassword).location)
		f := formOf(t, p)
		f.Set("decision", "allow")
		q := callback(t, b.post("/consent", f), appRedirect)
		require.NotEmpty(t, q.Get("code"))
		require.Equal(t, "own", q.Get("state"))
	})
}

// demoCustomerID is the id of the demo customer.
func demoCustomerID(t *testing.T, ts *testServer) uint64 {
	t.Helper()
	c, err := ts.Store.GetCustomerByEmail(t.Context(), demoShop, demoCustomerEmail)
	require.NoError(t, err)
	return c.ID
}
