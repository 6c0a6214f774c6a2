package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
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
			harness.AddCodeFlowClients(t, ts)
			b := harness.NewBrowser(t, ts)
			ctx := t.Context()

			login := b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil))
			require.Equal(t, http.StatusOK, login.Status)
			require.Contains(t, login.Body, `<html lang="es">`, "the shop's locale")
			require.Contains(t, login.Body, "ACME Shop", "the shop's name")
			require.Contains(t, login.Body, `<label for="email">Correo electrónico</label>`)
			require.Equal(t, "DENY", login.Header.Get("X-Frame-Options"))
			require.Equal(t, "no-store", login.Header.Get("Cache-Control"))

			afterLogin := b.SubmitLogin(login, app.DemoCustomerEmail, app.DemoPassword)
			require.Equal(t, http.StatusSeeOther, afterLogin.Status)
			require.True(t, strings.HasPrefix(afterLogin.Location, "/consent?"), afterLogin.Location)

			consent := b.Get(afterLogin.Location)
			require.Equal(t, http.StatusOK, consent.Status)
			require.Contains(t, consent.Body, "Ver tu correo electrónico", "scopes in plain words")
			f := harness.FormOf(t, consent)
			f.Set("decision", "allow")
			q := harness.Callback(t, b.Post("/consent", f), harness.AppRedirect)
			require.Equal(t, "st-123", q.Get("state"))
			require.Equal(t, ts.URL, q.Get("iss"), "RFC 9207")
			code := q.Get("code")
			require.Len(t, code, 43, "256 bits, base64url")

			resp, tok := harness.ExchangeCode(t, ts, code, harness.AppExchange(code), "", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", tok.Error, tok.ErrorDescription)
			require.Equal(t, "openid email offline_access", tok.Scope)
			require.NotEmpty(t, tok.RefreshToken)
			claims, err := ts.App.Authority.VerifyAccessToken(ctx, tok.AccessToken)
			require.NoError(t, err)
			require.Equal(t, "21", claims.Subject)
			require.Equal(t, harness.AppClientID, claims.ClientID)
			require.NotZero(t, claims.AuthTime)

			// The ID token carries the authorization request's nonce and
			// the login's auth_time (OIDC Core §3.1.3.6, §3.1.3.7).
			provider, err := oidc.NewProvider(ctx, ts.URL)
			require.NoError(t, err)
			idToken, err := provider.Verifier(&oidc.Config{ClientID: harness.AppClientID}).Verify(ctx, tok.IDToken)
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
				q := harness.Callback(t, b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil)), harness.AppRedirect)
				require.NotEmpty(t, q.Get("code"))
			})

			t.Run("prompt=consent asks again", func(t *testing.T) {
				p := b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, url.Values{"prompt": {"consent"}}))
				require.Equal(t, http.StatusOK, p.Status)
				require.Contains(t, p.Body, `action="/consent"`)
			})

			t.Run("SSO into a first-party client without a password", func(t *testing.T) {
				q := harness.Callback(t, b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}})), harness.WebRedirect)
				resp, tok := harness.ExchangeCode(t, ts, q.Get("code"), url.Values{"redirect_uri": {harness.WebRedirect}, "code_verifier": {harness.TestVerifier}}, harness.WebClientID, harness.WebSecret)
				require.Equal(t, http.StatusOK, resp.StatusCode, tok.Error)
				require.Empty(t, tok.RefreshToken, "no offline_access")
			})

			t.Run("a replayed code fails and revokes its tokens", func(t *testing.T) {
				resp, again := harness.ExchangeCode(t, ts, code, harness.AppExchange(code), "", "")
				require.Equal(t, http.StatusBadRequest, resp.StatusCode)
				require.Equal(t, "invalid_grant", again.Error)
				_, err := ts.App.Authority.VerifyAccessToken(ctx, tok.AccessToken)
				require.ErrorIs(t, err, tokens.ErrInvalidToken, "the access token from the code is revoked")
				resp, refreshed := harness.ExchangeRefresh(t, ts, tok.RefreshToken)
				require.Equal(t, http.StatusBadRequest, resp.StatusCode)
				require.Equal(t, "invalid_grant", refreshed.Error, "the refresh token from the code is revoked")
			})
		})
	}
}

// TestCodeRedemptionRules: each binding of the code is checked, and every
// failure is invalid_grant (RFC 6749 §4.1.3, §5.2; RFC 7636 §4.6).
func TestCodeRedemptionRules(t *testing.T) {
	ts := harness.NewTestServer(t)
	harness.AddCodeFlowClients(t, ts)
	require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
		ID: "other-web", SecretHash: clients.HashSecret("other-secret"), ShopKey: app.DemoShop, FirstParty: true,
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"}, RedirectURIs: []string{harness.WebRedirect},
	}))
	b := harness.NewBrowser(t, ts)
	good := url.Values{"redirect_uri": {harness.WebRedirect}, "code_verifier": {harness.TestVerifier}}
	with := func(k, v string) url.Values { return withValue(good, k, v) }

	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		before     func()
	}{
		{"wrong verifier", with("code_verifier", strings.Repeat("a", 43)), harness.WebClientID, harness.WebSecret, nil},
		{"missing verifier", with("code_verifier", ""), harness.WebClientID, harness.WebSecret, nil},
		{"malformed verifier", with("code_verifier", harness.TestVerifier+"!"), harness.WebClientID, harness.WebSecret, nil},
		{"other redirect_uri", with("redirect_uri", harness.WebRedirect+"/x"), harness.WebClientID, harness.WebSecret, nil},
		{"missing redirect_uri", with("redirect_uri", ""), harness.WebClientID, harness.WebSecret, nil},
		{"another client", good, "other-web", "other-secret", nil},
		{"expired", good, harness.WebClientID, harness.WebSecret, func() { ts.Clock.Advance(server.CodeTTL + time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := harness.CodeFor(t, ts, b, nil)
			if tt.before != nil {
				tt.before()
			}
			resp, tok := harness.ExchangeCode(t, ts, code, tt.form, tt.user, tt.pass)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "invalid_grant", tok.Error, tok.ErrorDescription)
			// A failed redemption spends the code: the right request fails too.
			resp, tok = harness.ExchangeCode(t, ts, code, good, harness.WebClientID, harness.WebSecret)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "invalid_grant", tok.Error)
		})
	}

	t.Run("verifier for a code without challenge is a downgrade", func(t *testing.T) {
		code := harness.CodeFor(t, ts, b, url.Values{"code_challenge": {""}, "code_challenge_method": {""}})
		resp, tok := harness.ExchangeCode(t, ts, code, good, harness.WebClientID, harness.WebSecret)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_grant", tok.Error)
	})

	t.Run("confidential client without PKCE", func(t *testing.T) {
		code := harness.CodeFor(t, ts, b, url.Values{"code_challenge": {""}, "code_challenge_method": {""}})
		resp, tok := harness.ExchangeCode(t, ts, code, with("code_verifier", ""), harness.WebClientID, harness.WebSecret)
		require.Equal(t, http.StatusOK, resp.StatusCode, tok.Error)
	})

	t.Run("unknown code", func(t *testing.T) {
		resp, tok := harness.ExchangeCode(t, ts, "bogus", good, harness.WebClientID, harness.WebSecret)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_grant", tok.Error)
	})

	t.Run("missing code", func(t *testing.T) {
		resp, tok := harness.ExchangeCode(t, ts, "", good, harness.WebClientID, harness.WebSecret)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "invalid_request", tok.Error)
	})
}

// TestAuthorizeErrors: an untrusted client or redirect URI gets a page and
// no redirect; every other error goes to the client with state (RFC 6749
// §4.1.2.1).
func TestAuthorizeErrors(t *testing.T) {
	ts := harness.NewTestServer(t)
	harness.AddCodeFlowClients(t, ts)
	b := harness.NewBrowser(t, ts)

	pages := []struct {
		name  string
		query string
	}{
		{"unknown client", harness.AuthorizeURL("nobody", harness.AppRedirect, nil)},
		{"missing client", harness.AuthorizeURL("", harness.AppRedirect, url.Values{"client_id": {""}})},
		{"unregistered redirect", harness.AuthorizeURL(harness.AppClientID, "https://evil.example/cb", nil)},
		{"suffix of the registered host", harness.AuthorizeURL(harness.AppClientID, "https://evilapp.example/cb", nil)},
		{"registered URI plus a query", harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect+"?x=1", nil)},
		{"registered URI plus a path", harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect+"/../cb", nil)},
		{"missing redirect", harness.AuthorizeURL(harness.AppClientID, "", url.Values{"redirect_uri": {""}})},
		{"repeated client_id", harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil) + "&client_id=" + harness.WebClientID},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Get(tt.query)
			require.Equal(t, http.StatusBadRequest, p.Status)
			require.Empty(t, p.Location, "never redirected")
			require.Contains(t, p.Body, `role="alert"`)
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
			q := harness.Callback(t, b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, tt.extra)), harness.AppRedirect)
			require.Equal(t, tt.code, q.Get("error"))
			require.Equal(t, "st-123", q.Get("state"))
			require.Equal(t, ts.URL, q.Get("iss"))
			require.Empty(t, q.Get("code"))
		})
	}

	t.Run("client without the grant", func(t *testing.T) {
		require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
			ID: "no-code", Public: true, ShopKey: app.DemoShop, GrantTypes: []string{"password"},
			Scopes: []string{"openid"}, RedirectURIs: []string{harness.AppRedirect},
		}))
		q := harness.Callback(t, b.Get(harness.AuthorizeURL("no-code", harness.AppRedirect, url.Values{"scope": {"openid"}})), harness.AppRedirect)
		require.Equal(t, "unauthorized_client", q.Get("error"))
	})
}

// TestHostedLogin: wrong password, CSRF, prompt/max_age, consent denial
// and the lockout shared with the token endpoint.
func TestHostedLogin(t *testing.T) {
	ts := harness.NewTestServer(t)
	harness.AddCodeFlowClients(t, ts)

	t.Run("wrong password shows the page again", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		p := b.SubmitLogin(b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil)), app.DemoCustomerEmail, "wrong")
		require.Equal(t, http.StatusBadRequest, p.Status)
		require.Contains(t, p.Body, "El correo electrónico o la contraseña no son correctos.")
		require.Contains(t, p.Body, `value="`+app.DemoCustomerEmail+`"`, "the e-mail is kept")
		require.Contains(t, p.Body, `aria-invalid="true"`)
		require.NotContains(t, p.Body, "wrong", "the password is never echoed")
	})

	t.Run("unverified customer", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		p := b.SubmitLogin(b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil)), app.DemoUnverifiedUser, app.DemoPassword)
		require.Equal(t, http.StatusBadRequest, p.Status)
		require.Contains(t, p.Body, "Confirma tu correo electrónico")
	})

	t.Run("CSRF token mismatch signs nobody in", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		login := b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}}))
		f := harness.FormOf(t, login)
		f.Set("csrf_token", "forged")
		f.Set("email", app.DemoCustomerEmail)
		f.Set("password", app.DemoPassword)
		p := b.Post("/login", f)
		require.Equal(t, http.StatusForbidden, p.Status)
		require.Contains(t, p.Body, "El formulario ha caducado")
		// Still not signed in: prompt=none says so.
		q := harness.Callback(t, b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"prompt": {"none"}, "scope": {"openid"}})), harness.WebRedirect)
		require.Equal(t, "login_required", q.Get("error"))
		// The page came back with a working token.
		require.Equal(t, http.StatusSeeOther, b.SubmitLogin(p, app.DemoCustomerEmail, app.DemoPassword).Status)
	})

	t.Run("a form from another browser is refused", func(t *testing.T) {
		attacker, victim := harness.NewBrowser(t, ts), harness.NewBrowser(t, ts)
		f := harness.FormOf(t, attacker.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}})))
		f.Set("email", app.DemoCustomerEmail)
		f.Set("password", app.DemoPassword)
		require.Equal(t, http.StatusForbidden, victim.Post("/login", f).Status)
	})

	t.Run("prompt=login and max_age ask again; max_age passes a fresh session", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		harness.CodeFor(t, ts, b, nil)
		p := b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"prompt": {"login"}, "scope": {"openid"}}))
		require.Equal(t, http.StatusOK, p.Status)
		require.Contains(t, p.Body, `name="password"`)
		harness.Callback(t, b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"max_age": {"60"}, "scope": {"openid"}})), harness.WebRedirect)
		ts.Clock.Advance(2 * time.Minute)
		p = b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"max_age": {"60"}, "scope": {"openid"}}))
		require.Equal(t, http.StatusOK, p.Status)
		require.Contains(t, p.Body, `name="password"`)
		q := harness.Callback(t, b.SubmitLogin(p, app.DemoCustomerEmail, app.DemoPassword), harness.WebRedirect)
		require.NotEmpty(t, q.Get("code"), "a fresh login satisfies max_age")
	})

	t.Run("consent denied", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		p := b.Get(b.SubmitLogin(b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, url.Values{"prompt": {"login consent"}})), app.DemoCustomerEmail, app.DemoPassword).Location)
		f := harness.FormOf(t, p)
		f.Set("decision", "deny")
		q := harness.Callback(t, b.Post("/consent", f), harness.AppRedirect)
		require.Equal(t, "access_denied", q.Get("error"))
		require.Equal(t, "st-123", q.Get("state"))
	})

	t.Run("prompt=none without consent", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		harness.CodeFor(t, ts, b, nil)
		q := harness.Callback(t, b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, url.Values{"prompt": {"none"}, "scope": {"openid profile"}})), harness.AppRedirect)
		require.Equal(t, "consent_required", q.Get("error"))
	})

	t.Run("session cookie attributes", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		p := b.SubmitLogin(b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}})), app.DemoCustomerEmail, app.DemoPassword)
		var cookie string
		for _, c := range p.Header.Values("Set-Cookie") {
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
		b := harness.NewBrowser(t, ts)
		login := b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil))
		for range ts.Config.Login.LockoutThreshold {
			login = b.SubmitLogin(login, app.DemoCustomerEmail, "wrong")
			require.Equal(t, http.StatusBadRequest, login.Status)
		}
		resp := ts.PostForm(t, "/oauth2/token", harness.PasswordForm(""), app.DemoClientID, app.DemoClientSecret)
		require.Equal(t, "invalid_grant", harness.DecodeToken(t, resp).Error, "the account is locked for the token endpoint too")
	})
}

// TestSecureSessionCookie: an https issuer gets Secure, __Host- cookies.
func TestSecureSessionCookie(t *testing.T) {
	ts := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) { c.Issuer = "https://id.example" }))
	harness.AddCodeFlowClients(t, ts)
	b := harness.NewBrowser(t, ts)
	p := b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}}))
	require.Equal(t, http.StatusOK, p.Status)
	cookies := strings.Join(p.Header.Values("Set-Cookie"), "\n")
	require.Contains(t, cookies, "__Host-shopauth_csrf=")
	require.Contains(t, cookies, "Secure")
}

// TestRPInitiatedLogout: a valid id_token_hint ends the session and may
// redirect to a registered URI; anything else never redirects.
func TestRPInitiatedLogout(t *testing.T) {
	ts := harness.NewTestServer(t)
	harness.AddCodeFlowClients(t, ts)
	hint := func(sub, aud string) string {
		payload, err := json.Marshal(map[string]any{"iss": ts.URL, "sub": sub, "aud": aud, "iat": time.Now().Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
		require.NoError(t, err)
		tok, err := ts.Keys.Sign(payload, tokens.TypeIDToken)
		require.NoError(t, err)
		return tok
	}
	signedIn := func() *harness.Browser {
		b := harness.NewBrowser(t, ts)
		harness.CodeFor(t, ts, b, nil)
		return b
	}
	signedOut := func(b *harness.Browser) bool {
		q := harness.Callback(t, b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"prompt": {"none"}, "scope": {"openid"}})), harness.WebRedirect)
		return q.Get("error") == "login_required"
	}
	logout := func(q url.Values) string { return "/oauth2/logout?" + q.Encode() }

	t.Run("hint, registered URI and state: ends the session and redirects", func(t *testing.T) {
		b := signedIn()
		p := b.Get(logout(url.Values{"id_token_hint": {hint("21", harness.AppClientID)}, "post_logout_redirect_uri": {harness.AppLogoutURI}, "state": {"bye-1"}}))
		require.Equal(t, "bye-1", harness.Callback(t, p, harness.AppLogoutURI).Get("state"))
		require.True(t, signedOut(b))
	})

	t.Run("hint without a URI: signed-out page", func(t *testing.T) {
		b := signedIn()
		p := b.Get(logout(url.Values{"id_token_hint": {hint("21", harness.AppClientID)}}))
		require.Equal(t, http.StatusOK, p.Status)
		require.Contains(t, p.Body, `role="status"`)
		require.True(t, signedOut(b))
	})

	refused := []struct {
		name string
		q    url.Values
	}{
		{"unregistered URI", url.Values{"id_token_hint": {hint("21", harness.AppClientID)}, "post_logout_redirect_uri": {"https://evil.example/"}}},
		{"registered URI plus a query", url.Values{"id_token_hint": {hint("21", harness.AppClientID)}, "post_logout_redirect_uri": {harness.AppLogoutURI + "?foo=bar"}}},
		{"forged hint", url.Values{"id_token_hint": {hint("21", harness.AppClientID) + "x"}, "post_logout_redirect_uri": {harness.AppLogoutURI}}},
		{"client_id not the hint's audience", url.Values{"id_token_hint": {hint("21", harness.AppClientID)}, "client_id": {harness.WebClientID}}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			b := signedIn()
			p := b.Get(logout(tt.q))
			require.Equal(t, http.StatusBadRequest, p.Status)
			require.Empty(t, p.Location)
			require.False(t, signedOut(b), "nothing ended on a validation failure")
		})
	}

	t.Run("no hint: the customer confirms, and nobody is redirected", func(t *testing.T) {
		b := signedIn()
		p := b.Get(logout(url.Values{"post_logout_redirect_uri": {harness.AppLogoutURI}, "state": {"s"}}))
		require.Equal(t, http.StatusOK, p.Status)
		require.Contains(t, p.Body, "¿Quieres cerrar la sesión?")
		require.False(t, signedOut(b))

		f := harness.FormOf(t, p)
		f.Set("confirm", "yes")
		forged := withValue(f, "csrf_token", "forged")
		require.Equal(t, http.StatusBadRequest, b.Post("/oauth2/logout", forged).Status)
		require.False(t, signedOut(b), "a forged confirmation ends nothing")

		done := b.Post("/oauth2/logout", f)
		require.Equal(t, http.StatusOK, done.Status)
		require.Empty(t, done.Location)
		require.True(t, signedOut(b))
	})

	t.Run("hint of another customer asks first", func(t *testing.T) {
		b := signedIn()
		p := b.Get(logout(url.Values{"id_token_hint": {hint("99", harness.AppClientID)}, "post_logout_redirect_uri": {harness.AppLogoutURI}}))
		require.Equal(t, http.StatusOK, p.Status)
		require.Contains(t, p.Body, `name="confirm"`)
	})

	t.Run("not signed in is not an error", func(t *testing.T) {
		b := harness.NewBrowser(t, ts)
		p := b.Get(logout(url.Values{"id_token_hint": {hint("21", harness.AppClientID)}, "post_logout_redirect_uri": {harness.AppLogoutURI}}))
		harness.Callback(t, p, harness.AppLogoutURI)
	})
}

// TestDiscoveryAdvertisesCodeFlow: the code flow is discoverable, PKCE
// detectably S256 (RFC 9700 §2.1.1, RFC 8414 §2), logout in the OIDC
// document (RP-Initiated Logout §2.1).
func TestDiscoveryAdvertisesCodeFlow(t *testing.T) {
	ts := harness.NewTestServer(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		t.Run(path, func(t *testing.T) {
			p := harness.NewBrowser(t, ts).Get(path)
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(p.Body), &doc))
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
	harness.AddCodeFlowClients(t, ts)
	b := harness.NewBrowser(t, ts)
	u, err := url.Parse(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil))
	require.NoError(t, err)
	p := b.Post("/oauth2/authorize", u.Query())
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, harness.FormOf(t, p).Get("code_challenge"), harness.TestChallenge, "the request travels on in the form")

	req, err := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/authorize", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	require.Equal(t, http.StatusBadRequest, b.Do(req).Status)
}
