package e2e

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// findChromium returns the browser the browser tests drive: the one CI
// names in SHOPAUTH_TEST_CHROMIUM, or Debian's chromium on the PATH.
func findChromium() string {
	if p := os.Getenv("SHOPAUTH_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newChromium starts a headless Chromium with a fresh profile; tests skip
// when there is none.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: install Debian's chromium (apt-get install chromium) or set SHOPAUTH_TEST_CHROMIUM; .ci/run does so when .ci/browser-tests exists")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 760),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium at %s", path)
	return ctx
}

// relyingParty is a small OIDC client web app, written the way a third
// party would: golang.org/x/oauth2 with PKCE and go-oidc for discovery and
// ID token verification.
type relyingParty struct {
	srv      *httptest.Server
	issuer   string
	provider *oidc.Provider
	mu       sync.Mutex
	clients  map[string]*oauth2.Config
	pending  map[string]rpPending // by state
}

type rpPending struct {
	client, verifier, nonce string
}

func newRelyingParty(t *testing.T, issuer string) *relyingParty {
	provider, err := oidc.NewProvider(t.Context(), issuer)
	require.NoError(t, err)
	rp := &relyingParty{issuer: issuer, provider: provider, clients: map[string]*oauth2.Config{}, pending: map[string]rpPending{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><title>Photo printer</title><a id="login" href="/start?client=`+harness.AppClientID+`">Sign in with the shop</a>`)
	})
	mux.HandleFunc("GET /start", rp.start)
	mux.HandleFunc("GET /callback", rp.callback)
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *relyingParty) redirectURI() string { return rp.srv.URL + "/callback" }

func (rp *relyingParty) register(clientID, secret string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.clients[clientID] = &oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: rp.provider.Endpoint(),
		RedirectURL: rp.redirectURI(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

func (rp *relyingParty) start(w http.ResponseWriter, r *http.Request) {
	clientID := r.URL.Query().Get("client")
	rp.mu.Lock()
	conf := rp.clients[clientID]
	pending := rpPending{client: clientID, verifier: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier()}
	state := oauth2.GenerateVerifier()
	rp.pending[state] = pending
	rp.mu.Unlock()
	http.Redirect(w, r, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(pending.verifier), oidc.Nonce(pending.nonce)), http.StatusFound)
}

// callback exchanges the code and verifies the ID token, then shows who
// signed in, or why not, in #result.
func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	result := func(format string, args ...any) {
		fmt.Fprintf(w, `<!DOCTYPE html><title>Callback</title><p id="result">%s</p>`, html.EscapeString(fmt.Sprintf(format, args...)))
	}
	q := r.URL.Query()
	rp.mu.Lock()
	pending, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	conf := rp.clients[pending.client]
	rp.mu.Unlock()
	switch {
	case !ok:
		result("error: unknown state")
		return
	case q.Get("error") != "":
		result("error: %s", q.Get("error"))
		return
	case q.Get("iss") != rp.issuer: // RFC 9207 §2.4
		result("error: iss %s", q.Get("iss"))
		return
	}
	tok, err := conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(pending.verifier))
	if err != nil {
		result("error: exchange: %v", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idToken, err := rp.provider.Verifier(&oidc.Config{ClientID: pending.client}).Verify(r.Context(), raw)
	if err != nil {
		result("error: id token: %v", err)
		return
	}
	if idToken.Nonce != pending.nonce {
		result("error: nonce")
		return
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idToken.Claims(&claims); err != nil {
		result("error: claims: %v", err)
		return
	}
	result("%s signed in as %s (%s)", pending.client, idToken.Subject, claims.Email)
}

// TestBrowserCodeFlow drives headless Chromium through the whole flow: a
// relying party's page, authorize, a wrong password, a CSRF failure, the
// login, the consent, the callback with the code exchanged under PKCE and
// the ID token verified, and SSO into a second client of the shop.
func TestBrowserCodeFlow(t *testing.T) {
	ctx := newChromium(t)
	ts := harness.NewTestServer(t)
	rp := newRelyingParty(t, ts.URL)
	for _, c := range []storage.Client{
		{ID: harness.AppClientID, Public: true, ShopKey: app.DemoShop, GrantTypes: []string{"authorization_code"},
			Scopes: []string{"openid", "profile", "email"}, RedirectURIs: []string{rp.redirectURI()}},
		{ID: harness.WebClientID, SecretHash: clients.HashSecret(harness.WebSecret), ShopKey: app.DemoShop, FirstParty: true,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "profile", "email"},
			RedirectURIs: []string{rp.redirectURI()}},
	} {
		require.NoError(t, ts.Store.CreateClient(t.Context(), c))
	}
	rp.register(harness.AppClientID, "")
	rp.register(harness.WebClientID, harness.WebSecret)

	b := &browserPage{t: t, ctx: ctx}
	text, submit := b.text, b.submit
	signIn := b.signIn

	// The relying party's page sends the browser to the login page.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(rp.srv.URL+"/"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	))
	loginURL, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	require.NoError(t, err)
	require.Contains(t, loginURL, ts.URL+"/oauth2/authorize?")
	require.Contains(t, text("label[for=email]"), "Correo electrónico", "the shop's locale is es")
	require.Contains(t, text(".shop"), "ACME Shop")
	saveScreenshot(t, screenshot)

	// A wrong password: the page says so, and nobody is signed in.
	signIn(app.DemoCustomerEmail, "wrong-password")
	require.Contains(t, text("#login-error"), "El correo electrónico o la contraseña no son correctos.")

	// A tampered CSRF token: refused, the page comes back with a fresh one.
	require.NoError(t, chromedp.Do(ctx, chromedp.SetAttributeValue(chromedp.CSS(`input[name=csrf_token]`), "value", "forged")))
	signIn(app.DemoCustomerEmail, app.DemoPassword)
	require.Contains(t, text("#login-error"), "El formulario ha caducado")

	// The real login, then consent for the third-party app.
	signIn(app.DemoCustomerEmail, app.DemoPassword)
	require.Contains(t, text("ul.scopes"), "Ver tu correo electrónico")
	submit("#allow")
	require.Equal(t, harness.AppClientID+" signed in as 21 ("+app.DemoCustomerEmail+")", text("#result"))

	// SSO: the shop's own web client signs in without a password.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(rp.srv.URL+"/start?client="+harness.WebClientID)))
	require.Equal(t, harness.WebClientID+" signed in as 21 ("+app.DemoCustomerEmail+")", text("#result"))
}

// browserPage drives the page open in a Chromium context.
type browserPage struct {
	t   *testing.T
	ctx context.Context
}

// text waits for sel and returns its text.
func (b *browserPage) text(sel string) string {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS(sel))))
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err)
	return s
}

// submit clicks a button that loads a new page and waits for that page:
// the old document's window is marked, the new one is not.
func (b *browserPage) submit(button string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__shopauthOld = true`))
	require.NoError(b.t, err)
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(button))))
	// A poll running while the page navigates fails; poll again.
	deadline := time.Now().Add(30 * time.Second)
	for {
		loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__shopauthOld === undefined && document.readyState === "complete"`))
		if err == nil && loaded {
			return
		}
		require.True(b.t, time.Now().Before(deadline), "no new page after clicking %s (last error: %v)", button, err)
		time.Sleep(50 * time.Millisecond)
	}
}

// signIn fills the login page and submits it.
func (b *browserPage) signIn(email, password string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx,
		chromedp.WaitVisible(chromedp.CSS("#email")),
		// The page keeps the e-mail of a failed attempt: replace it.
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
	))
	b.submit("#sign-in")
}

// saveScreenshot writes the login page's picture: into ../docs/ for
// docs/oauth.md when SHOPAUTH_UPDATE_SCREENSHOTS=1, else into a temporary
// directory, so that a normal run leaves the work tree alone.
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	require.True(t, len(png) > 8 && string(png[1:4]) == "PNG", "a PNG screenshot")
	dir := t.TempDir()
	if os.Getenv("SHOPAUTH_UPDATE_SCREENSHOTS") == "1" {
		dir = "../docs"
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	err := os.WriteFile(filepath.Join(dir, "login-page.png"), png, 0o644)
	require.False(t, errors.Is(err, os.ErrPermission), "write screenshot")
	require.NoError(t, err)
}
