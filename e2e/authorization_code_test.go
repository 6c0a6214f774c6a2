package e2e

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// Clients of the code-flow tests: a third-party public app (consent, PKCE
// required) and a first-party confidential web shop (no consent).
const (
	appClientID   = "photo-printer"
	appRedirect   = "https://app.example/cb"
	appLogoutURI  = "https://app.example/bye"
	webClientID   = "shop-web"
	webSecret     = "shop-web-secret"
	webRedirect   = "https://shop.example/auth/callback"
	testVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B
	testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func addCodeFlowClients(t testing.TB, ts *harness.TestServer) {
	t.Helper()
	for _, c := range []storage.Client{
		{ID: appClientID, Public: true, ShopKey: app.DemoShop,
			GrantTypes:   []string{"authorization_code", "refresh_token"},
			Scopes:       []string{"openid", "profile", "email", "offline_access", "customer"},
			RedirectURIs: []string{appRedirect}, PostLogoutRedirectURIs: []string{appLogoutURI}},
		{ID: webClientID, SecretHash: clients.HashSecret(webSecret), ShopKey: app.DemoShop, FirstParty: true,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email"},
			RedirectURIs: []string{webRedirect}},
	} {
		require.NoError(t, ts.Store.CreateClient(t.Context(), c))
	}
}

// browser is a cookie-keeping HTTP client that stops at every redirect, so
// a test sees where the server sends it.
type browser struct {
	t    testing.TB
	ts   *harness.TestServer
	http *http.Client
}

func newBrowser(t testing.TB, ts *harness.TestServer) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, ts: ts, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its body read.
type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), header: resp.Header}
}

func (b *browser) get(pathOrURL string) page {
	b.t.Helper()
	if strings.HasPrefix(pathOrURL, "/") {
		pathOrURL = b.ts.URL + pathOrURL
	}
	req, err := http.NewRequest(http.MethodGet, pathOrURL, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formOf returns the hidden fields of the page's form, as a browser would
// post them.
func formOf(t testing.TB, p page) url.Values {
	t.Helper()
	f := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		f.Add(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, f.Get("csrf_token"), "page has no form: %s", p.body)
	return f
}

// submitLogin fills the login page's form and posts it.
func (b *browser) submitLogin(loginPage page, email, password string) page {
	b.t.Helper()
	f := formOf(b.t, loginPage)
	f.Set("email", email)
	f.Set("password", password)
	return b.post("/login", f)
}

func authorizeURL(clientID, redirectURI string, extra url.Values) string {
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email offline_access"}, "state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {testChallenge}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		if v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return "/oauth2/authorize?" + q.Encode()
}

// callback parses a redirect to the client and checks it goes to want.
func callback(t testing.TB, p page, want string) url.Values {
	t.Helper()
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, p.status, "body: %s", p.body)
	u, err := url.Parse(p.location)
	require.NoError(t, err)
	require.Equal(t, want, u.Scheme+"://"+u.Host+u.Path)
	return u.Query()
}

func exchangeCode(t testing.TB, ts *harness.TestServer, code string, form url.Values, user, pass string) (*http.Response, harness.TokenBody) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	for k, v := range form {
		f[k] = v
	}
	resp := ts.PostForm(t, "/oauth2/token", f, user, pass)
	return resp, harness.DecodeToken(t, resp)
}

func appExchange(code string) url.Values {
	return url.Values{"client_id": {appClientID}, "redirect_uri": {appRedirect}, "code_verifier": {testVerifier}}
}

// TestAuthorizationCodeFlow walks a third-party app through authorize,
// login, consent and the code exchange, then checks SSO, remembered
// consent and code replay.
func TestAuthorizationCodeFlow(t *testing.T) {
	for _, backend := range []struct {
		name string
		opts []harness.TestOption
	}{{"sqlite", nil}, {"mysql", []harness.TestOption{harness.WithMySQL()}}} {
		t.Run(backend.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, backend.opts...)
			addCodeFlowClients(t, ts)
			b := newBrowser(t, ts)
			ctx := t.Context()

			login := b.get(authorizeURL(appClientID, appRedirect, nil))
			require.Equal(t, http.StatusOK, login.status)
			require.Contains(t, login.body, `<html lang="es">`, "the shop's locale")
			require.Contains(t, login.body, "ACME Shop", "the shop's name")
			require.Contains(t, login.body, `<label for="email">Correo electrónico</label>`)
			require.Equal(t, "DENY", login.header.Get("X-Frame-Options"))
			require.Equal(t, "no-store", login.header.Get("Cache-Control"))

			afterLogin := b.submitLogin(login, app.DemoCustomerEmail, app.DemoPassword)
			require.Equal(t, http.StatusSeeOther, afterLogin.status)
			require.True(t, strings.HasPrefix(afterLogin.location, "/consent?"), afterLogin.location)

			consent := b.get(afterLogin.location)
			require.Equal(t, http.StatusOK, consent.status)
			require.Contains(t, consent.body, "Ver tu correo electrónico", "scopes in plain words")
			f := formOf(t, consent)
			f.Set("decision", "allow")
			q := callback(t, b.post("/consent", f), appRedirect)
			require.Equal(t, "st-123", q.Get("state"))
			require.Equal(t, ts.URL, q.Get("iss"), "RFC 9207")
			code := q.Get("code")
			require.Len(t, code, 43, "256 bits, base64url")

			resp, tok := exchangeCode(t, ts, code, appExchange(code), "", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", tok.Error, tok.ErrorDescription)
			require.Equal(t, "openid email offline_access", tok.Scope)
			require.NotEmpty(t, tok.RefreshToken)
			claims, err := ts.App.Authority.VerifyAccessToken(ctx, tok.AccessToken)
			require.NoError(t, err)
			require.Equal(t, "21", claims.Subject)
			require.Equal(t, appClientID, claims.ClientID)
			require.NotZero(t, claims.AuthTime)

			// The ID token carries the authorization request's nonce and
			// the login's auth_time (OIDC Core §3.1.3.6, §3.1.3.7).
			provider, err := oidc.NewProvider(ctx, ts.URL)
			require.NoError(t, err)
			idToken, err := provider.Verifier(&oidc.Config{ClientID: appClientID}).Verify(ctx, tok.IDToken)
			require.NoError(t, err)
			require.Equal(t, "n-456", idToken.Nonce)
			require.Equal(t, "21", idToken.Subject)
			var idClaims struct {
				AuthTime int64  `json:"auth_time"`
				Email    string `json:"email"`
			}
			require.NoError(t, idToken.Claims(&idClaims))
			require.Equal(t, claims.AuthTime, idClaims.AuthTime)
			require.Equal(t, app.DemoCustomerEmail, idClaims.Email)

			// The code is stored hashed, never as issued.
			_, err = ts.Store.RedeemAuthorizationCode(ctx, code, time.Now())
			require.ErrorIs(t, err, storage.ErrNotFound)

			t.Run("consent is remembered", func(t *testing.T) {
				q := callback(t, b.get(authorizeURL(appClientID, appRedirect, nil)), appRedirect)
				require.NotEmpty(t, q.Get("code"))
			})

			t.Run("prompt=consent asks again", func(t *testing.T) {
				p := b.get(authorizeURL(appClientID, appRedirect, url.Values{"prompt": {"consent"}}))
				require.Equal(t, http.StatusOK, p.status)
				require.Contains(t, p.body, `action="/consent"`)
			})

			t.Run("SSO into a first-party client without a password", func(t *testing.T) {
				q := callback(t, b.get(authorizeURL(webClientID, webRedirect, url.Values{"scope": {"openid email"}})), webRedirect)
				resp, tok := exchangeCode(t, ts, q.Get("code"), url.Values{"redirect_uri": {webRedirect}, "code_verifier": {testVerifier}}, webClientID, webSecret)
				require.Equal(t, http.StatusOK, resp.StatusCode, tok.Error)
				require.Empty(t, tok.RefreshToken, "no offline_access")
			})

			t.Run("a replayed code fails and revokes its tokens", func(t *testing.T) {
				resp, again := exchangeCode(t, ts, code, appExchange(code), "", "")
				require.Equal(t, http.StatusBadRequest, resp.StatusCode)
				require.Equal(t, "invalid_grant", again.Error)
				_, err := ts.App.Authority.VerifyAccessToken(ctx, tok.AccessToken)
				require.ErrorIs(t, err, tokens.ErrInvalidToken, "the access token from the code is revoked")
				resp, refreshed := exchangeRefresh(t, ts, tok.RefreshToken)
				require.Equal(t, http.StatusBadRequest, resp.StatusCode)
				require.Equal(t, "invalid_grant", refreshed.Error, "the refresh token from the code is revoked")
			})
		})
	}
}

func exchangeRefresh(t testing.TB, ts *harness.TestServer, refresh string) (*http.Response, harness.TokenBody) {
	t.Helper()
	resp := ts.PostForm(t, "/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {appClientID},
	}, "", "")
	return resp, harness.DecodeToken(t, resp)
}

// codeFor signs in through the first-party client (no consent) and
// returns a fresh code for it.
func codeFor(t testing.TB, ts *harness.TestServer, b *browser, extra url.Values) string {
	t.Helper()
	q := url.Values{"scope": {"openid email"}}
	for k, v := range extra {
		q[k] = v
	}
	p := b.get(authorizeURL(webClientID, webRedirect, q))
	if p.status == http.StatusOK {
		p = b.submitLogin(p, app.DemoCustomerEmail, app.DemoPassword)
	}
	code := callback(t, p, webRedirect).Get("code")
	require.NotEmpty(t, code, p.location)
	return code
}

// TestCodeRedemptionRules: each binding of the code is checked, and every
// failure is invalid_grant (RFC 6749 §4.1.3, §5.2; RFC 7636 §4.6).
func TestCodeRedemptionRules(t *testing.T) {
	ts := harness.NewTestServer(t)
	addCodeFlowClients(t, ts)
	require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
		ID: "other-web", SecretHash: clients.HashSecret("other-secret"), ShopKey: app.DemoShop, FirstParty: true,
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"}, RedirectURIs: []string{webRedirect},
	}))
	b := newBrowser(t, ts)
	good := url.Values{"redirect_uri": {webRedirect}, "code_verifier": {testVerifier}}
	with := func(k, v string) url.Values { return withValue(good, k, v) }

	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		before     func()
	}{
		{"wrong verifier", with("code_verifier", strings.Repeat("a", 43)), webClientID, webSecret, nil},
		{"missing verifier", with("code_verifier", ""), webClientID, webSecret, nil},
		{"malformed verifier", with("code_verifier", testVerifier+"!"), webClientID, webSecret, nil},
		{"other redirect_uri", with("redirect_uri", webRedirect+"/x"), webClientID, webSecret, nil},
		{"missing redirect_uri", with("redirect_uri", ""), webClientID, webSecret, nil},
		{"another client", good, "other-web", "other-secret", nil},
		{"expired", good, webClientID, webSecret, func() { ts.Clock.Advance(server.CodeTTL + time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := codeFor(t, ts, b, nil)
			if tt.before != nil {
				tt.before()
			}
			resp, tok := exchangeCode(t, ts, code, tt.form, tt.user, tt.pass)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "invalid_grant", tok.Error, tok.ErrorDescription)
			// A failed redemption spends the code: the right request fails too.
			resp, tok = exchangeCode(t, ts, code, good, webClientID, webSecret)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "invalid_grant", tok.Error)
		})
	}

	t.Run("verifier for a code without challenge is a downgrade", func(t *testing.T) {
		code := codeFor(t, ts, b, url.Values{"code_challenge": {""}, "code_challenge_method": {""}})
		resp, tok := exchangeCode(t, ts, code, good, webClientID, webSecret)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_grant", tok.Error)
	})

	t.Run("confidential client without PKCE", func(t *testing.T) {
		code := codeFor(t, ts, b, url.Values{"code_challenge": {""}, "code_challenge_method": {""}})
		resp, tok := exchangeCode(t, ts, code, with("code_verifier", ""), webClientID, webSecret)
		require.Equal(t, http.StatusOK, resp.StatusCode, tok.Error)
	})

	t.Run("unknown code", func(t *testing.T) {
		resp, tok := exchangeCode(t, ts, "bogus", good, webClientID, webSecret)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_grant", tok.Error)
	})

	t.Run("missing code", func(t *testing.T) {
		resp, tok := exchangeCode(t, ts, "", good, webClientID, webSecret)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_request", tok.Error)
	})
}

// TestAuthorizeErrors: an untrusted client or redirect URI gets a page and
// no redirect; every other error goes to the client with state (RFC 6749
// §4.1.2.1).
func TestAuthorizeErrors(t *testing.T) {
	ts := harness.NewTestServer(t)
	addCodeFlowClients(t, ts)
	b := newBrowser(t, ts)

	pages := []struct {
		name  string
		query string
	}{
		{"unknown client", authorizeURL("nobody", appRedirect, nil)},
		{"missing client", authorizeURL("", appRedirect, url.Values{"client_id": {""}})},
		{"unregistered redirect", authorizeURL(appClientID, "https://evil.example/cb", nil)},
		{"suffix of the registered host", authorizeURL(appClientID, "https://evilapp.example/cb", nil)},
		{"registered URI plus a query", authorizeURL(appClientID, appRedirect+"?x=1", nil)},
		{"registered URI plus a path", authorizeURL(appClientID, appRedirect+"/../cb", nil)},
		{"missing redirect", authorizeURL(appClientID, "", url.Values{"redirect_uri": {""}})},
		{"repeated client_id", authorizeURL(appClientID, appRedirect, nil) + "&client_id=" + webClientID},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			p := b.get(tt.query)
			require.Equal(t, http.StatusBadRequest, p.status)
			require.Empty(t, p.location, "never redirected")
			require.Contains(t, p.body, `role="alert"`)
		})
	}

	redirects := []struct {
		name  string
		extra url.Values
		code  string
	}{
		{"token response type", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"missing response type", url.Values{"response_type": {""}}, "invalid_request"},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, "invalid_request"},
		{"challenge without method means plain", url.Values{"code_challenge_method": {""}}, "invalid_request"},
		{"public client without PKCE", url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, "invalid_request"},
		{"malformed challenge", url.Values{"code_challenge": {"short"}}, "invalid_request"},
		{"unknown scope", url.Values{"scope": {"openid admin"}}, "invalid_scope"},
		{"unknown prompt", url.Values{"prompt": {"maybe"}}, "invalid_request"},
		{"prompt none with login", url.Values{"prompt": {"none login"}}, "invalid_request"},
		{"negative max_age", url.Values{"max_age": {"-1"}}, "invalid_request"},
		{"no session with prompt=none", url.Values{"prompt": {"none"}}, "login_required"},
		{"repeated scope", url.Values{"scope": {"openid", "email"}}, "invalid_request"},
	}
	for _, tt := range redirects {
		t.Run(tt.name, func(t *testing.T) {
			q := callback(t, b.get(authorizeURL(appClientID, appRedirect, tt.extra)), appRedirect)
			require.Equal(t, tt.code, q.Get("error"))
			require.Equal(t, "st-123", q.Get("state"))
			require.Equal(t, ts.URL, q.Get("iss"))
			require.Empty(t, q.Get("code"))
		})
	}

	t.Run("client without the grant", func(t *testing.T) {
		require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
			ID: "no-code", Public: true, ShopKey: app.DemoShop, GrantTypes: []string{"password"},
			Scopes: []string{"openid"}, RedirectURIs: []string{appRedirect},
		}))
		q := callback(t, b.get(authorizeURL("no-code", appRedirect, url.Values{"scope": {"openid"}})), appRedirect)
		require.Equal(t, "unauthorized_client", q.Get("error"))
	})
}

// TestHostedLogin: wrong password, CSRF, prompt/max_age, consent denial
// and the lockout shared with the token endpoint.
func TestHostedLogin(t *testing.T) {
	ts := harness.NewTestServer(t)
	addCodeFlowClients(t, ts)

	t.Run("wrong password shows the page again", func(t *testing.T) {
		b := newBrowser(t, ts)
		p := b.submitLogin(b.get(authorizeURL(appClientID, appRedirect, nil)), app.DemoCustomerEmail, "wrong")
		require.Equal(t, http.StatusBadRequest, p.status)
		require.Contains(t, p.body, "El correo electrónico o la contraseña no son correctos.")
		require.Contains(t, p.body, `value="`+app.DemoCustomerEmail+`"`, "the e-mail is kept")
		require.Contains(t, p.body, `aria-invalid="true"`)
		require.NotContains(t, p.body, "wrong", "the password is never echoed")
	})

	t.Run("unverified customer", func(t *testing.T) {
		b := newBrowser(t, ts)
		p := b.submitLogin(b.get(authorizeURL(appClientID, appRedirect, nil)), app.DemoUnverifiedUser, app.DemoPassword)
		require.Equal(t, http.StatusBadRequest, p.status)
		require.Contains(t, p.body, "Confirma tu correo electrónico")
	})

	t.Run("CSRF token mismatch signs nobody in", func(t *testing.T) {
		b := newBrowser(t, ts)
		login := b.get(authorizeURL(webClientID, webRedirect, url.Values{"scope": {"openid email"}}))
		f := formOf(t, login)
		f.Set("csrf_token", "forged")
		f.Set("email", app.DemoCustomerEmail)
		f.Set("password", app.DemoPassword)
		p := b.post("/login", f)
		require.Equal(t, http.StatusForbidden, p.status)
		require.Contains(t, p.body, "El formulario ha caducado")
		// Still not signed in: prompt=none says so.
		q := callback(t, b.get(authorizeURL(webClientID, webRedirect, url.Values{"prompt": {"none"}, "scope": {"openid"}})), webRedirect)
		require.Equal(t, "login_required", q.Get("error"))
		// The page came back with a working token.
		require.Equal(t, http.StatusSeeOther, b.submitLogin(p, app.DemoCustomerEmail, app.DemoPassword).status)
	})

	t.Run("a form from another browser is refused", func(t *testing.T) {
		attacker, victim := newBrowser(t, ts), newBrowser(t, ts)
		f := formOf(t, attacker.get(authorizeURL(webClientID, webRedirect, url.Values{"scope": {"openid email"}})))
		f.Set("email", app.DemoCustomerEmail)
		f.Set("password", app.DemoPassword)
		require.Equal(t, http.StatusForbidden, victim.post("/login", f).status)
	})

	t.Run("prompt=login and max_age ask again; max_age passes a fresh session", func(t *testing.T) {
		b := newBrowser(t, ts)
		codeFor(t, ts, b, nil)
		p := b.get(authorizeURL(webClientID, webRedirect, url.Values{"prompt": {"login"}, "scope": {"openid"}}))
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `name="password"`)
		callback(t, b.get(authorizeURL(webClientID, webRedirect, url.Values{"max_age": {"60"}, "scope": {"openid"}})), webRedirect)
		ts.Clock.Advance(2 * time.Minute)
		p = b.get(authorizeURL(webClientID, webRedirect, url.Values{"max_age": {"60"}, "scope": {"openid"}}))
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `name="password"`)
		q := callback(t, b.submitLogin(p, app.DemoCustomerEmail, app.DemoPassword), webRedirect)
		require.NotEmpty(t, q.Get("code"), "a fresh login satisfies max_age")
	})

	t.Run("consent denied", func(t *testing.T) {
		b := newBrowser(t, ts)
		p := b.get(b.submitLogin(b.get(authorizeURL(appClientID, appRedirect, url.Values{"prompt": {"login consent"}})), app.DemoCustomerEmail, app.DemoPassword).location)
		f := formOf(t, p)
		f.Set("decision", "deny")
		q := callback(t, b.post("/consent", f), appRedirect)
		require.Equal(t, "access_denied", q.Get("error"))
		require.Equal(t, "st-123", q.Get("state"))
	})

	t.Run("prompt=none without consent", func(t *testing.T) {
		b := newBrowser(t, ts)
		codeFor(t, ts, b, nil)
		q := callback(t, b.get(authorizeURL(appClientID, appRedirect, url.Values{"prompt": {"none"}, "scope": {"openid profile"}})), appRedirect)
		require.Equal(t, "consent_required", q.Get("error"))
	})

	t.Run("session cookie attributes", func(t *testing.T) {
		b := newBrowser(t, ts)
		p := b.submitLogin(b.get(authorizeURL(webClientID, webRedirect, url.Values{"scope": {"openid email"}})), app.DemoCustomerEmail, app.DemoPassword)
		var cookie string
		for _, c := range p.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "shopauth_session=") {
				cookie = c
			}
		}
		require.NotEmpty(t, cookie)
		require.Contains(t, cookie, "HttpOnly")
		require.Contains(t, cookie, "SameSite=Lax")
		require.Contains(t, cookie, "Max-Age=86400")
		require.NotContains(t, cookie, "Secure", "the test issuer is http")
	})

	t.Run("failed hosted logins count toward the same lockout", func(t *testing.T) {
		b := newBrowser(t, ts)
		login := b.get(authorizeURL(appClientID, appRedirect, nil))
		for range ts.Config.Login.LockoutThreshold {
			login = b.submitLogin(login, app.DemoCustomerEmail, "wrong")
			require.Equal(t, http.StatusBadRequest, login.status)
		}
		resp := ts.PostForm(t, "/oauth2/token", harness.PasswordForm(""), app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, "invalid_grant", harness.DecodeToken(t, resp).Error, "the account is locked for the token endpoint too")
	})
}

// TestSecureSessionCookie: an https issuer gets Secure, __Host- cookies.
func TestSecureSessionCookie(t *testing.T) {
	ts := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) { c.Issuer = "https://id.example" }))
	addCodeFlowClients(t, ts)
	b := newBrowser(t, ts)
	p := b.get(authorizeURL(webClientID, webRedirect, url.Values{"scope": {"openid email"}}))
	require.Equal(t, http.StatusOK, p.status)
	cookies := strings.Join(p.header.Values("Set-Cookie"), "\n")
	require.Contains(t, cookies, "__Host-shopauth_csrf=")
	require.Contains(t, cookies, "Secure")
}

// TestRPInitiatedLogout: a valid id_token_hint ends the session and may
// redirect to a registered URI; anything else never redirects.
func TestRPInitiatedLogout(t *testing.T) {
	ts := harness.NewTestServer(t)
	addCodeFlowClients(t, ts)
	hint := func(sub, aud string) string {
		payload, err := json.Marshal(map[string]any{"iss": ts.URL, "sub": sub, "aud": aud, "iat": time.Now().Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
		require.NoError(t, err)
		tok, err := ts.Keys.Sign(payload, tokens.TypeIDToken)
		require.NoError(t, err)
		return tok
	}
	signedIn := func() *browser {
		b := newBrowser(t, ts)
		codeFor(t, ts, b, nil)
		return b
	}
	signedOut := func(b *browser) bool {
		q := callback(t, b.get(authorizeURL(webClientID, webRedirect, url.Values{"prompt": {"none"}, "scope": {"openid"}})), webRedirect)
		return q.Get("error") == "login_required"
	}
	logout := func(q url.Values) string { return "/oauth2/logout?" + q.Encode() }

	t.Run("hint, registered URI and state: ends the session and redirects", func(t *testing.T) {
		b := signedIn()
		p := b.get(logout(url.Values{"id_token_hint": {hint("21", appClientID)}, "post_logout_redirect_uri": {appLogoutURI}, "state": {"bye-1"}}))
		require.Equal(t, "bye-1", callback(t, p, appLogoutURI).Get("state"))
		require.True(t, signedOut(b))
	})

	t.Run("hint without a URI: signed-out page", func(t *testing.T) {
		b := signedIn()
		p := b.get(logout(url.Values{"id_token_hint": {hint("21", appClientID)}}))
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `role="status"`)
		require.True(t, signedOut(b))
	})

	refused := []struct {
		name string
		q    url.Values
	}{
		{"unregistered URI", url.Values{"id_token_hint": {hint("21", appClientID)}, "post_logout_redirect_uri": {"https://evil.example/"}}},
		{"registered URI plus a query", url.Values{"id_token_hint": {hint("21", appClientID)}, "post_logout_redirect_uri": {appLogoutURI + "?foo=bar"}}},
		{"forged hint", url.Values{"id_token_hint": {hint("21", appClientID) + "x"}, "post_logout_redirect_uri": {appLogoutURI}}},
		{"client_id not the hint's audience", url.Values{"id_token_hint": {hint("21", appClientID)}, "client_id": {webClientID}}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			b := signedIn()
			p := b.get(logout(tt.q))
			require.Equal(t, http.StatusBadRequest, p.status)
			require.Empty(t, p.location)
			require.False(t, signedOut(b), "nothing ended on a validation failure")
		})
	}

	t.Run("no hint: the customer confirms, and nobody is redirected", func(t *testing.T) {
		b := signedIn()
		p := b.get(logout(url.Values{"post_logout_redirect_uri": {appLogoutURI}, "state": {"s"}}))
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, "¿Quieres cerrar la sesión?")
		require.False(t, signedOut(b))

		f := formOf(t, p)
		f.Set("confirm", "yes")
		forged := withValue(f, "csrf_token", "forged")
		require.Equal(t, http.StatusBadRequest, b.post("/oauth2/logout", forged).status)
		require.False(t, signedOut(b), "a forged confirmation ends nothing")

		done := b.post("/oauth2/logout", f)
		require.Equal(t, http.StatusOK, done.status)
		require.Empty(t, done.location)
		require.True(t, signedOut(b))
	})

	t.Run("hint of another customer asks first", func(t *testing.T) {
		b := signedIn()
		p := b.get(logout(url.Values{"id_token_hint": {hint("99", appClientID)}, "post_logout_redirect_uri": {appLogoutURI}}))
		require.Equal(t, http.StatusOK, p.status)
		require.Contains(t, p.body, `name="confirm"`)
	})

	t.Run("not signed in is not an error", func(t *testing.T) {
		b := newBrowser(t, ts)
		p := b.get(logout(url.Values{"id_token_hint": {hint("21", appClientID)}, "post_logout_redirect_uri": {appLogoutURI}}))
		callback(t, p, appLogoutURI)
	})
}

// TestDiscoveryAdvertisesCodeFlow: the code flow is discoverable, PKCE
// detectably S256 (RFC 9700 §2.1.1, RFC 8414 §2), logout in the OIDC
// document (RP-Initiated Logout §2.1).
func TestDiscoveryAdvertisesCodeFlow(t *testing.T) {
	ts := harness.NewTestServer(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		t.Run(path, func(t *testing.T) {
			p := newBrowser(t, ts).get(path)
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(p.body), &doc))
			require.Equal(t, ts.URL+"/oauth2/authorize", doc["authorization_endpoint"])
			require.Equal(t, []any{"code"}, doc["response_types_supported"])
			require.Equal(t, []any{"S256"}, doc["code_challenge_methods_supported"])
			require.Equal(t, true, doc["authorization_response_iss_parameter_supported"])
			require.ElementsMatch(t, []any{"authorization_code", "refresh_token", "client_credentials", "password"}, doc["grant_types_supported"])
			if strings.Contains(path, "openid") {
				require.Equal(t, ts.URL+"/oauth2/logout", doc["end_session_endpoint"])
			}
		})
	}
}

// TestAuthorizePost: OIDC Core §3.1.2.1 — the authorization endpoint
// takes POST with a form body too.
func TestAuthorizePost(t *testing.T) {
	ts := harness.NewTestServer(t)
	addCodeFlowClients(t, ts)
	b := newBrowser(t, ts)
	u, err := url.Parse(authorizeURL(appClientID, appRedirect, nil))
	require.NoError(t, err)
	p := b.post("/oauth2/authorize", u.Query())
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, formOf(t, p).Get("code_challenge"), testChallenge, "the request travels on in the form")

	req, err := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/authorize", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	require.Equal(t, http.StatusBadRequest, b.do(req).status)
}
