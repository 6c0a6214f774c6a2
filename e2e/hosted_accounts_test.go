package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// pageClient is a browser without JavaScript: a cookie jar, no redirects
// followed.
type pageClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newPageClient(t *testing.T, base string) *pageClient {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &pageClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type htmlPage struct {
	status int
	header http.Header
	body   string
}

func (p *pageClient) get(path string) htmlPage {
	p.t.Helper()
	resp, err := p.c.Get(p.base + path)
	require.NoError(p.t, err)
	return readPage(p.t, resp)
}

func (p *pageClient) post(path string, form url.Values) htmlPage {
	p.t.Helper()
	resp, err := p.c.PostForm(p.base+path, form)
	require.NoError(p.t, err)
	return readPage(p.t, resp)
}

func readPage(t *testing.T, resp *http.Response) htmlPage {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return htmlPage{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf is the form token of a page.
func (pg htmlPage) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(pg.body)
	require.NotNil(t, m, "no CSRF token in: %s", pg.body)
	return m[1]
}

func registration(email, first, password string) url.Values {
	return url.Values{"shop": {app.DemoShop}, "firstName": {first}, "lastName": {"García"}, "email": {email},
		"password": {password}, "confirmPassword": {password}, "acceptedTerms": {"true"}}
}

// TestHostedAccountPagesHeaders: every account page is kept out of caches
// and frames.
func TestHostedAccountPagesHeaders(t *testing.T) {
	ts := accountServer(t, nil)
	p := newPageClient(t, ts.URL)
	for _, path := range []string{
		"/account/register?shop=" + app.DemoShop, "/account/forgot?shop=" + app.DemoShop,
		"/account/reset?key=nope", "/account/confirm?key=nope", "/account/password",
	} {
		pg := p.get(path)
		require.Less(t, pg.status, 500, path)
		require.Equal(t, "no-store", pg.header.Get("Cache-Control"), path)
		require.Equal(t, "DENY", pg.header.Get("X-Frame-Options"), path)
		require.Contains(t, pg.header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		require.NotContains(t, pg.body, "<script", "no JavaScript: %s", path)
	}
	login := p.get("/login?client_id=storefront")
	require.NotContains(t, login.body, `href="/account/`, "the login page links only with an authorization request")
}

// TestHostedRegistrationAnswersAlike: a new and a known address get the
// same page; the known address's owner gets a mail instead of a second
// account.
func TestHostedRegistrationAnswersAlike(t *testing.T) {
	for name, backend := range backendOptions {
		t.Run(name, func(t *testing.T) {
			ts := accountServer(t, backend)
			answer := func(email string) htmlPage {
				p := newPageClient(t, ts.URL)
				form := registration(email, "Lucía", "good-password-2031")
				form.Set("csrf_token", p.get("/account/register?shop="+app.DemoShop).csrf(t))
				return p.post("/account/register", form)
			}
			fresh := answer("new.person@example.com")
			known := answer(app.DemoCustomerEmail)
			require.Equal(t, http.StatusOK, fresh.status)
			require.Equal(t, fresh.status, known.status)
			require.Equal(t, strings.ReplaceAll(fresh.body, "new.person@example.com", "X"),
				strings.ReplaceAll(known.body, app.DemoCustomerEmail, "X"), "the pages say the same")

			mails := ts.Mail.Wait(2, 20*time.Second)
			byRecipient := map[string]string{}
			for _, m := range mails {
				byRecipient[m.To[0]] = m.Header("Subject")
			}
			require.Equal(t, "Confirma tu correo electrónico para ACME Shop", byRecipient["new.person@example.com"])
			require.Equal(t, "Ya tienes una cuenta en ACME Shop", byRecipient[app.DemoCustomerEmail])

			forgot := func(email string) htmlPage {
				p := newPageClient(t, ts.URL)
				csrf := p.get("/account/forgot?shop=" + app.DemoShop).csrf(t)
				return p.post("/account/forgot", url.Values{"shop": {app.DemoShop}, "email": {email}, "csrf_token": {csrf}})
			}
			a, b := forgot("nobody@example.com"), forgot(app.DemoCustomerEmail)
			require.Equal(t, a.status, b.status)
			require.Equal(t, strings.ReplaceAll(a.body, "nobody@example.com", "X"), strings.ReplaceAll(b.body, app.DemoCustomerEmail, "X"))
			require.Equal(t, []string{app.DemoCustomerEmail}, ts.Mail.Wait(3, 20*time.Second)[2].To, "only the known address gets a link")
		})
	}
}

// TestHostedAccountRefusalsWriteNothing: a forged form, hostile or
// malformed input get a clear 4xx page and leave no account behind.
func TestHostedAccountRefusalsWriteNothing(t *testing.T) {
	for name, backend := range backendOptions {
		t.Run(name, func(t *testing.T) {
			ts := accountServer(t, backend)
			p := newPageClient(t, ts.URL)
			csrf := p.get("/account/register?shop=" + app.DemoShop).csrf(t)
			long := strings.Repeat("a", 300) + "@example.com"
			tests := []struct {
				name, email string
				form        url.Values
				status      int
				contains    string
			}{
				{"no CSRF token", "nocsrf@example.com", registration("nocsrf@example.com", "Ann", "good-password-2031"), 403, "El formulario ha caducado"},
				{"HTML in a name", "html@example.com", with(registration("html@example.com", "<script>alert(1)</script>", "good-password-2031"), "csrf_token", csrf), 400, "sin &lt; ni &gt;"},
				{"a very long e-mail", long, with(registration(long, "Ann", "good-password-2031"), "csrf_token", csrf), 400, "no es un correo electrónico"},
				{"invalid UTF-8", "utf8@example.com", with(registration("utf8@example.com", "A\xffn", "good-password-2031"), "csrf_token", csrf), 400, "Corrige los campos"},
				{"a common password", "common@example.com", with(registration("common@example.com", "Ann", "iloveyou"), "csrf_token", csrf), 400, "demasiado habitual"},
				{"passwords that differ", "differ@example.com", with(with(registration("differ@example.com", "Ann", "good-password-2031"), "confirmPassword", "other-password-2031"), "csrf_token", csrf), 400, "no coinciden"},
				{"terms not accepted", "terms@example.com", with(with(registration("terms@example.com", "Ann", "good-password-2031"), "acceptedTerms", ""), "csrf_token", csrf), 400, "Acepta las condiciones"},
				{"a field twice", "twice@example.com", with(registration("twice@example.com", "Ann", "good-password-2031"), "email", "twice@example.com", "other@example.com"), 400, ""},
				{"an unknown shop", "shop@example.com", with(with(registration("shop@example.com", "Ann", "good-password-2031"), "shop", "nope"), "csrf_token", csrf), 400, "This shop is not known."}, // no shop: no language but the default
				{"a value over 4 KiB", "big@example.com", with(with(registration("big@example.com", strings.Repeat("A", 5000), "good-password-2031"), "csrf_token", csrf), "x", ""), 400, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					pg := p.post("/account/register", tt.form)
					require.Equal(t, tt.status, pg.status, pg.body)
					require.Contains(t, pg.body, tt.contains)
					require.NotContains(t, pg.body, "<script>alert", "hostile input is never reflected raw")
					_, err := ts.Store.GetCustomerByEmail(t.Context(), app.DemoShop, strings.ToLower(tt.email))
					require.ErrorIs(t, err, storage.ErrNotFound, "nothing written")
				})
			}
			big := p.post("/account/register", url.Values{"firstName": {strings.Repeat("A", 2<<20)}})
			require.Equal(t, http.StatusRequestEntityTooLarge, big.status)
			for _, path := range []string{"/account/reset?key=" + strings.Repeat("A", 43), "/account/confirm?key=%3Cb%3E"} {
				pg := p.get(path)
				require.Equal(t, http.StatusBadRequest, pg.status, path)
				require.Contains(t, pg.body, "This link is not valid any more", "no usable key: no shop, the default language")
			}
			time.Sleep(100 * time.Millisecond)
			require.Empty(t, ts.Mail.Messages())
		})
	}
}

func with(v url.Values, name string, values ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out[name] = values
	return out
}

// TestHostedPasswordChangeKeepsThisSession: a signed-in customer changes
// the password; the browser it was changed in stays signed in, every other
// session and refresh token ends.
func TestHostedPasswordChangeKeepsThisSession(t *testing.T) {
	for name, backend := range backendOptions {
		t.Run(name, func(t *testing.T) {
			ts := accountServer(t, backend)
			ctx := t.Context()
			now := ts.Clock.Now()
			for _, s := range []string{"this-browser", "other-browser"} {
				require.NoError(t, ts.Store.CreateBrowserSession(ctx, storage.BrowserSession{
					IDHash: tokens.HashToken(s), ShopKey: app.DemoShop, CustomerID: 21, AuthTime: now, ExpiresAt: now.Add(time.Hour),
				}))
			}
			elsewhere := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)

			p := newPageClient(t, ts.URL)
			u, _ := url.Parse(ts.URL)
			p.c.Jar.SetCookies(u, []*http.Cookie{{Name: "shopauth_session", Value: "this-browser", Path: "/"}})
			form := p.get("/account/password")
			require.Equal(t, http.StatusOK, form.status)
			require.Contains(t, form.body, app.DemoCustomerEmail)

			change := url.Values{"password": {"wrong"}, "newPassword": {"next-password-2031"}, "confirmPassword": {"next-password-2031"}, "csrf_token": {form.csrf(t)}}
			wrong := p.post("/account/password", change)
			require.Equal(t, http.StatusBadRequest, wrong.status)
			require.Contains(t, wrong.body, "La contraseña actual no es correcta.")

			change.Set("password", app.DemoPassword)
			done := p.post("/account/password", change)
			require.Equal(t, http.StatusOK, done.status, done.body)
			require.Contains(t, done.body, "Tu contraseña ha cambiado")

			_, err := ts.Store.GetBrowserSession(ctx, tokens.HashToken("this-browser"))
			require.NoError(t, err, "this browser stays signed in")
			_, err = ts.Store.GetBrowserSession(ctx, tokens.HashToken("other-browser"))
			require.ErrorIs(t, err, storage.ErrNotFound, "the other browser is signed out")
			requireGlueError(t, ts.SprykerRefresh(t, elsewhere.RefreshToken), http.StatusUnauthorized, "004")
			ts.SprykerLogin(t, app.DemoCustomerEmail, "next-password-2031")

			anonymous := newPageClient(t, ts.URL).get("/account/password")
			require.Equal(t, http.StatusUnauthorized, anonymous.status)
		})
	}
}

// TestHostedAccountRateLimit: the account pages are limited per address.
func TestHostedAccountRateLimit(t *testing.T) {
	ts := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) { c.Accounts.RatePerMinute, c.Accounts.Burst = 1, 1 }))
	p := newPageClient(t, ts.URL)
	csrf := p.get("/account/forgot?shop=" + app.DemoShop).csrf(t)
	form := url.Values{"shop": {app.DemoShop}, "email": {"x@example.com"}, "csrf_token": {csrf}}
	require.Equal(t, http.StatusOK, p.post("/account/forgot", form).status)
	limited := p.post("/account/forgot", form)
	require.Equal(t, http.StatusTooManyRequests, limited.status)
	require.NotEmpty(t, limited.header.Get("Retry-After"))
	require.Contains(t, limited.body, "Demasiadas solicitudes")
}
