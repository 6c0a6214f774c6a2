package harness

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// Clients of the code-flow tests: a third-party public app (consent, PKCE
// required) and a first-party confidential web shop (no consent).
const (
	AppClientID   = "photo-printer"
	AppRedirect   = "https://app.example/cb"
	AppLogoutURI  = "https://app.example/bye"
	WebClientID   = "shop-web"
	WebSecret     = "shop-web-secret"
	WebRedirect   = "https://shop.example/auth/callback"
	TestVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B
	TestChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// AddCodeFlowClients registers the code-flow clients on ts.
func AddCodeFlowClients(t testing.TB, ts *TestServer) {
	t.Helper()
	for _, c := range []storage.Client{
		{ID: AppClientID, Public: true, ShopKey: app.DemoShop,
			GrantTypes:   []string{"authorization_code", "refresh_token"},
			Scopes:       []string{"openid", "profile", "email", "offline_access", "customer"},
			RedirectURIs: []string{AppRedirect}, PostLogoutRedirectURIs: []string{AppLogoutURI}},
		{ID: WebClientID, SecretHash: clients.HashSecret(WebSecret), ShopKey: app.DemoShop, FirstParty: true,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "email"},
			RedirectURIs: []string{WebRedirect}},
	} {
		require.NoError(t, ts.Store.CreateClient(t.Context(), c))
	}
}

// Browser is a cookie-keeping HTTP client that stops at every redirect, so
// a test sees where the server sends it.
type Browser struct {
	t    testing.TB
	ts   *TestServer
	http *http.Client
}

// NewBrowser is a browser with an empty cookie jar.
func NewBrowser(t testing.TB, ts *TestServer) *Browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &Browser{t: t, ts: ts, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Page is a response with its body read.
type Page struct {
	Status   int
	Location string
	Body     string
	Header   http.Header
}

// Do sends req with the browser's cookies.
func (b *Browser) Do(req *http.Request) Page {
	b.t.Helper()
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return Page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(body), Header: resp.Header}
}

// Get loads a path of the server, or any URL.
func (b *Browser) Get(pathOrURL string) Page {
	b.t.Helper()
	if strings.HasPrefix(pathOrURL, "/") {
		pathOrURL = b.ts.URL + pathOrURL
	}
	req, err := http.NewRequest(http.MethodGet, pathOrURL, nil)
	require.NoError(b.t, err)
	return b.Do(req)
}

// Post submits form to a path of the server.
func (b *Browser) Post(path string, form url.Values) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

// Jar is the browser's cookie jar (to plant or read cookies).
func (b *Browser) Jar() http.CookieJar { return b.http.Jar }

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// FormOf returns the hidden fields of the page's form, as a browser would
// post them.
func FormOf(t testing.TB, p Page) url.Values {
	t.Helper()
	f := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(p.Body, -1) {
		f.Add(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, f.Get("csrf_token"), "page has no form: %s", p.Body)
	return f
}

// SubmitLogin fills the login page's form and posts it.
func (b *Browser) SubmitLogin(loginPage Page, email, password string) Page {
	b.t.Helper()
	f := FormOf(b.t, loginPage)
	f.Set("email", email)
	f.Set("password", password)
	return b.Post("/login", f)
}

// AuthorizeURL is an authorization request of clientID with PKCE, state
// and nonce; extra overrides parameters (an empty value removes one).
func AuthorizeURL(clientID, redirectURI string, extra url.Values) string {
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email offline_access"}, "state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {TestChallenge}, "code_challenge_method": {"S256"},
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

// Callback parses a redirect to the client and checks it goes to want.
func Callback(t testing.TB, p Page, want string) url.Values {
	t.Helper()
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, p.Status, "body: %s", p.Body)
	u, err := url.Parse(p.Location)
	require.NoError(t, err)
	require.Equal(t, want, u.Scheme+"://"+u.Host+u.Path)
	return u.Query()
}

// ExchangeCode redeems code at the token endpoint with form's extra
// parameters, as user (HTTP Basic) when user is not empty.
func ExchangeCode(t testing.TB, ts *TestServer, code string, form url.Values, user, pass string) (*http.Response, TokenBody) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	for k, v := range form {
		f[k] = v
	}
	resp := ts.PostForm(t, "/oauth2/token", f, user, pass)
	return resp, DecodeToken(t, resp)
}

// AppExchange is the third-party app's code redemption (PKCE, no secret).
func AppExchange(code string) url.Values {
	return url.Values{"client_id": {AppClientID}, "redirect_uri": {AppRedirect}, "code_verifier": {TestVerifier}}
}

// ExchangeRefresh runs the refresh grant as the third-party app.
func ExchangeRefresh(t testing.TB, ts *TestServer, refresh string) (*http.Response, TokenBody) {
	t.Helper()
	resp := ts.PostForm(t, "/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {AppClientID},
	}, "", "")
	return resp, DecodeToken(t, resp)
}

// CodeFor signs in through the first-party client (no consent) and
// returns a fresh code for it.
func CodeFor(t testing.TB, ts *TestServer, b *Browser, extra url.Values) string {
	t.Helper()
	q := url.Values{"scope": {"openid email"}}
	for k, v := range extra {
		q[k] = v
	}
	p := b.Get(AuthorizeURL(WebClientID, WebRedirect, q))
	if p.Status == http.StatusOK {
		p = b.SubmitLogin(p, app.DemoCustomerEmail, app.DemoPassword)
	}
	code := Callback(t, p, WebRedirect).Get("code")
	require.NotEmpty(t, code, p.Location)
	return code
}
