package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// shopKey fixtures besides the demo data: an English shop with a CORS
// origin, its own customer and an unverified one, an inactive shop, a
// disabled customer.
const (
	skEnglishShop   = "london01"
	skClosedShop    = "closed01"
	skOrigin        = "https://shop.london.example"
	skTomEmail      = "tom@london.example"
	skTomPassword   = "london123"
	skDisabledEmail = "gone@example.com"
)

// withoutLoginRateLimit turns the per-address login limit off for tests
// that make many logins from 127.0.0.1 on purpose; the 429 itself is
// TestShopKeyTooManyAttempts'.
func withoutLoginRateLimit() harness.TestOption {
	return harness.WithConfig(func(c *config.Config) { c.Login.RatePerMinute = 0 })
}

type skLogin struct {
	Authenticated int `json:"authenticated"`
	Data          struct {
		Cart     json.RawMessage `json:"cart"`
		Customer struct {
			CustomerID uint64 `json:"customer_id"`
			Email      string `json:"email"`
		} `json:"customer"`
		Token struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
			TokenType   string `json:"token_type"`
		} `json:"token"`
	} `json:"data"`
	Message string `json:"message"`
}

func decodeLoginResponse(t testing.TB, r harness.SkResponse) skLogin {
	t.Helper()
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	var l skLogin
	require.NoError(t, json.Unmarshal([]byte(r.Body), &l))
	return l
}

func (l skLogin) cartID(t testing.TB) uint64 {
	t.Helper()
	if string(l.Data.Cart) == "null" {
		return 0
	}
	var c struct {
		ID uint64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal(l.Data.Cart, &c))
	require.NotZero(t, c.ID)
	return c.ID
}

// seedShopKeyFixtures adds the shops and customers above.
func seedShopKeyFixtures(t testing.TB, ts *harness.TestServer) (tomID uint64) {
	t.Helper()
	ctx := context.Background()
	hasher, err := customers.NewHasher(harness.TestHashParams)
	require.NoError(t, err)
	hash := func(pw string) string {
		h, err := hasher.Hash(pw)
		require.NoError(t, err)
		return h
	}
	now := time.Now().UTC()
	require.NoError(t, ts.Store.CreateShop(ctx, storage.Shop{Key: skEnglishShop, Name: "London", Locale: "en_GB", Active: true, CORSOrigins: []string{skOrigin}, CreatedAt: now}))
	require.NoError(t, ts.Store.CreateShop(ctx, storage.Shop{Key: skClosedShop, Name: "Closed", Locale: "es", Active: false, CreatedAt: now}))
	tom := &storage.Customer{ShopKey: skEnglishShop, Email: skTomEmail, EmailNormalized: skTomEmail, Name: "Tom", PasswordHash: hash(skTomPassword), EmailVerifiedAt: &now, AccountID: 77, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, ts.Store.CreateCustomer(ctx, tom))
	closed := &storage.Customer{ShopKey: skClosedShop, Email: app.DemoCustomerEmail, EmailNormalized: app.DemoCustomerEmail, Name: "Closed", PasswordHash: hash(app.DemoPassword), EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, ts.Store.CreateCustomer(ctx, closed))
	tomUnverified := &storage.Customer{ShopKey: skEnglishShop, Email: app.DemoUnverifiedUser, EmailNormalized: app.DemoUnverifiedUser, Name: "New", PasswordHash: hash(app.DemoPassword), CreatedAt: now, UpdatedAt: now}
	require.NoError(t, ts.Store.CreateCustomer(ctx, tomUnverified))
	gone := &storage.Customer{ShopKey: app.DemoShop, Email: skDisabledEmail, EmailNormalized: skDisabledEmail, Name: "Gone", PasswordHash: hash(app.DemoPassword), EmailVerifiedAt: &now, DisabledAt: &now, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, ts.Store.CreateCustomer(ctx, gone))
	return tom.ID
}

// specExample returns the first ```json block after heading in the spec.
func specExample(t testing.TB, heading string) string {
	t.Helper()
	spec, err := os.ReadFile("testdata/shopkey.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(spec), heading)
	require.True(t, ok, heading)
	_, rest, ok = strings.Cut(rest, "```json\n")
	require.True(t, ok)
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	return block
}

// skJSONShape flattens a JSON document into "path=value" lines in document
// order, so two documents compare key order and values alike.
func skJSONShape(t testing.TB, doc string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var out []string
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		require.NoError(t, err)
		switch tok {
		case json.Delim('{'):
			out = append(out, path+"={")
			for dec.More() {
				key, err := dec.Token()
				require.NoError(t, err)
				walk(path + "." + key.(string))
			}
			_, err = dec.Token()
			require.NoError(t, err)
		case json.Delim('['):
			out = append(out, path+"=[")
			for i := 0; dec.More(); i++ {
				walk(path + "[" + strconv.Itoa(i) + "]")
			}
			_, err = dec.Token()
			require.NoError(t, err)
		default:
			out = append(out, fmt.Sprintf("%s=%v", path, tok))
		}
	}
	walk("")
	return out
}

// TestShopKeyLoginGolden compares a login's answer with the spec's example
// key by key, in order; the spec's placeholders ("…", "<JWT>") stand for
// the demo customer's values and a real token.
func TestShopKeyLoginGolden(t *testing.T) {
	ts := harness.NewTestServer(t)
	want := specExample(t, "## POST /api/v1/{shopKey}/customers/login")
	for name, login := range map[string]func(testing.TB, string, string, string, string) harness.SkResponse{
		"json": ts.SkLoginJSON, "form": ts.SkLoginForm,
	} {
		t.Run(name, func(t *testing.T) {
			resp := login(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")
			require.Equal(t, http.StatusAccepted, resp.Status)
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			l := decodeLoginResponse(t, resp)
			expected := strings.NewReplacer(`"email":"…"`, `"email":"`+app.DemoCustomerEmail+`"`, `"name":"…"`, `"name":"Sonia"`,
				`"<JWT>"`, strconv.Quote(l.Data.Token.AccessToken)).Replace(want)
			require.Equal(t, skJSONShape(t, expected), skJSONShape(t, resp.Body))

			claims, err := ts.App.Verifier.VerifyAccessToken(context.Background(), l.Data.Token.AccessToken)
			require.NoError(t, err)
			require.Equal(t, app.DemoShop, claims.Shop)
			require.Equal(t, "21", claims.Subject)
			require.Equal(t, ts.Config.Adapters.ShopKeyClientID, claims.ClientID)
			require.Equal(t, int64(86400), claims.ExpiresAt-claims.IssuedAt, "expires_in is the client's TTL")
		})
	}
}

func TestShopKeyLogoutGolden(t *testing.T) {
	ts := harness.NewTestServer(t)
	token := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")).Data.Token.AccessToken
	resp := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/logout", "", "", "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.Status)
	// The spec gives this answer inline: `{"data":[],…}`.
	spec, err := os.ReadFile("testdata/shopkey.md")
	require.NoError(t, err)
	_, section, _ := strings.Cut(string(spec), "## POST /api/v1/{shopKey}/customers/logout")
	want := regexp.MustCompile("`(\\{\"data\".*?\\})`").FindStringSubmatch(section)
	require.Len(t, want, 2, "the spec's logout answer")
	require.Equal(t, want[1], resp.Body)
}

// skSpecErrorRow is one row of the spec's error table.
type skSpecErrorRow struct {
	Case   string
	Status int
	ES, EN string
}

func skSpecErrorTable(t testing.TB) []skSpecErrorRow {
	t.Helper()
	f, err := os.Open("testdata/shopkey.md")
	require.NoError(t, err)
	defer f.Close()
	quoted := regexp.MustCompile("`([^`]*)`")
	var rows []skSpecErrorRow
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "| case |"):
			in = true
		case !in || strings.HasPrefix(line, "| ---"):
		case !strings.HasPrefix(line, "|"):
			in = false
		default:
			cells := strings.Split(strings.Trim(line, "|"), "|")
			status, err := strconv.Atoi(strings.TrimSpace(cells[1])[:3])
			require.NoError(t, err)
			msgs := quoted.FindAllStringSubmatch(cells[2], -1)
			require.Len(t, msgs, 2, line)
			rows = append(rows, skSpecErrorRow{Case: strings.TrimSpace(cells[0]), Status: status, ES: msgs[0][1], EN: msgs[1][1]})
		}
	}
	require.Len(t, rows, 7)
	return rows
}

// TestShopKeyErrorTable runs every row of the spec's error table against
// the real server, in the Spanish demo shop and the English one, with JSON
// and form bodies. Each answer is compared whole.
func TestShopKeyErrorTable(t *testing.T) {
	ts := harness.NewTestServer(t, withoutLoginRateLimit())
	seedShopKeyFixtures(t, ts)
	tomToken := decodeLoginResponse(t, ts.SkLoginJSON(t, skEnglishShop, skTomEmail, skTomPassword, "")).Data.Token.AccessToken
	soniaToken := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")).Data.Token.AccessToken

	type attempt struct {
		name string
		do   func(t testing.TB, shop string, form bool) harness.SkResponse
	}
	login := func(email, password string) func(testing.TB, string, bool) harness.SkResponse {
		return func(t testing.TB, shop string, form bool) harness.SkResponse {
			if form {
				return ts.SkLoginForm(t, shop, email, password, "")
			}
			return ts.SkLoginJSON(t, shop, email, password, "")
		}
	}
	private := func(route, header string) func(testing.TB, string, bool) harness.SkResponse {
		return func(t testing.TB, shop string, _ bool) harness.SkResponse {
			return ts.SkPost(t, http.MethodPost, shop+route, "", "", "Authorization", header)
		}
	}
	// Each shop's own customer, and a token of the other shop.
	own := map[string]struct{ email, password, foreignToken string }{
		app.DemoShop:  {app.DemoCustomerEmail, app.DemoPassword, tomToken},
		skEnglishShop: {skTomEmail, skTomPassword, soniaToken},
	}
	scenarios := map[string]func(shop string) []attempt{
		"wrong password, unknown e-mail, disabled account": func(shop string) []attempt {
			other := map[string][2]string{app.DemoShop: {skTomEmail, skTomPassword}, skEnglishShop: {app.DemoCustomerEmail, app.DemoPassword}}[shop]
			return []attempt{
				{"wrong password", login(own[shop].email, "wrong-password")},
				{"unknown e-mail", login("nobody@example.com", app.DemoPassword)},
				{"disabled account", login(skDisabledEmail, app.DemoPassword)},
				{"customer of another shop", login(other[0], other[1])},
			}
		},
		"e-mail not verified": func(string) []attempt {
			return []attempt{{"unverified", login(app.DemoUnverifiedUser, app.DemoPassword)}}
		},
		"unknown or inactive shopKey": func(string) []attempt {
			return []attempt{
				{"unknown shop", func(t testing.TB, _ string, form bool) harness.SkResponse {
					return login(app.DemoCustomerEmail, app.DemoPassword)(t, "nosuchshop", form)
				}},
				{"inactive shop", func(t testing.TB, _ string, form bool) harness.SkResponse {
					return login(app.DemoCustomerEmail, app.DemoPassword)(t, skClosedShop, form)
				}},
			}
		},
		"missing/invalid Bearer on a private route, or a token of another shop": func(shop string) []attempt {
			return []attempt{
				{"missing", private("/customers/me", "")},
				{"not bearer", private("/customers/me", "Basic Zm9vOmJhcg==")},
				{"garbage", private("/customers/logout", "Bearer not.a.jwt")},
				{"token of another shop", private("/customers/refresh", "Bearer "+own[shop].foreignToken)},
			}
		},
		"missing/blank/invalid field": func(string) []attempt {
			return []attempt{
				{"blank", login("", "")},
				{"invalid e-mail", login("not-an-email", "x")},
			}
		},
		"too many attempts": func(string) []attempt { return nil }, // TestShopKeyTooManyAttempts
		"unknown route under `/api/v1/`": func(string) []attempt {
			return []attempt{
				{"unknown route", private("/customers/register", "")},
				{"unknown shop and route", func(t testing.TB, _ string, _ bool) harness.SkResponse {
					return ts.SkPost(t, http.MethodGet, "nosuchshop/products", "", "")
				}},
			}
		},
	}
	for _, row := range skSpecErrorTable(t) {
		build, ok := scenarios[row.Case]
		require.True(t, ok, "no scenario for the spec's row %q", row.Case)
		for _, shop := range []string{app.DemoShop, skEnglishShop} {
			for _, a := range build(shop) {
				for _, form := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%s/%s/form=%t", row.Case, shop, a.name, form), func(t *testing.T) {
						resp := a.do(t, shop, form)
						locale, message := "es", row.ES
						// Without a live shop in the path there is no
						// shop locale: the default is English.
						noShop := strings.Contains(a.name, "unknown shop") || a.name == "inactive shop"
						if shop == skEnglishShop || noShop {
							locale, message = "en", row.EN
						}
						require.Equal(t, row.Status, resp.Status, resp.Body)
						data := "[]"
						if row.Status == http.StatusUnprocessableEntity {
							data = skFieldErrors(t, resp.Body)
						}
						require.Equal(t, fmt.Sprintf(`{"data":%s,"locale":"%s","message":"%s","status":%d,"success":false}`,
							data, locale, message, row.Status), resp.Body)
					})
				}
			}
		}
	}
}

// skFieldErrors returns the data of a 422 answer after checking it names
// the email or password field.
func skFieldErrors(t testing.TB, body string) string {
	t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &env))
	require.Regexp(t, `^\{"errors":\{"(email|password)":\["`, string(env.Data))
	return string(env.Data)
}

// TestShopKeyTooManyAttempts is the spec's 429 row end to end: the core's
// per-address login limit or the account lockout answers slow_down.
func TestShopKeyTooManyAttempts(t *testing.T) {
	ts := harness.NewTestServer(t)
	var last harness.SkResponse
	for i := 0; i < 40; i++ {
		last = ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, "wrong-password", "")
		if last.Status == http.StatusTooManyRequests {
			break
		}
		require.Equal(t, http.StatusUnauthorized, last.Status, last.Body)
	}
	require.Equal(t, http.StatusTooManyRequests, last.Status, "no 429 after 40 failed logins")
	require.Equal(t, `{"data":[],"locale":"es","message":"Demasiados intentos, inténtelo más tarde","status":429,"success":false}`, last.Body)
	retry, err := strconv.Atoi(last.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, retry)
}

func TestShopKeySuccessMessagesInEnglish(t *testing.T) {
	ts := harness.NewTestServer(t)
	tomID := seedShopKeyFixtures(t, ts)
	l := decodeLoginResponse(t, ts.SkLoginForm(t, skEnglishShop, skTomEmail, skTomPassword, ""))
	require.Equal(t, "Access granted", l.Message)
	require.Equal(t, tomID, l.Data.Customer.CustomerID)
	resp := ts.SkPost(t, http.MethodPost, skEnglishShop+"/customers/me", "", "", "Authorization", "Bearer "+l.Data.Token.AccessToken)
	require.Equal(t, fmt.Sprintf(`{"data":{"customer":{"customer_id":%d,"account_id":77,"email":"%s","name":"Tom"}},"locale":"en","message":"Customer data","status":200,"success":true}`, tomID, skTomEmail), resp.Body)
}

// TestShopKeySession walks a session: login, me, refresh (the old token
// dies), logout, and me again is 401.
func TestShopKeySession(t *testing.T) {
	ts := harness.NewTestServer(t)
	first := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")).Data.Token.AccessToken
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	me := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/me", "", "", bearer(first)...)
	require.Equal(t, `{"data":{"customer":{"customer_id":21,"account_id":21,"email":"sonia@spryker.com","name":"Sonia"}},"locale":"es","message":"Datos del cliente","status":200,"success":true}`, me.Body)

	ts.Clock.Advance(time.Minute)
	refreshed := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/refresh", "application/json", `{"_method":"POST"}`, bearer(first)...)
	require.Equal(t, http.StatusOK, refreshed.Status, refreshed.Body)
	var r struct {
		Data struct {
			Token struct {
				AccessToken string `json:"access_token"`
				ExpiresIn   int64  `json:"expires_in"`
				TokenType   string `json:"token_type"`
			} `json:"token"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(refreshed.Body), &r))
	second := r.Data.Token.AccessToken
	require.NotEqual(t, first, second)
	require.Equal(t, int64(86400), r.Data.Token.ExpiresIn)
	require.Equal(t, "bearer", r.Data.Token.TokenType)
	oldClaims := unverifiedClaims(t, first)
	newClaims, err := ts.App.Verifier.VerifyAccessToken(context.Background(), second)
	require.NoError(t, err)
	require.NotEqual(t, oldClaims.JTI, newClaims.JTI)
	require.Equal(t, oldClaims.AuthTime, newClaims.AuthTime, "a refresh is no new sign-in")
	require.Greater(t, newClaims.ExpiresAt, oldClaims.ExpiresAt)

	for _, route := range []string{"me", "refresh", "logout"} {
		resp := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/"+route, "", "", bearer(first)...)
		require.Equal(t, http.StatusUnauthorized, resp.Status, "the refreshed-away token is revoked (%s)", route)
	}

	logout := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/logout", "application/x-www-form-urlencoded", "_method=POST", bearer(second)...)
	require.Equal(t, http.StatusOK, logout.Status)
	after := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/me", "", "", bearer(second)...)
	require.Equal(t, http.StatusUnauthorized, after.Status)
	require.Equal(t, `{"data":[],"locale":"es","message":"No autorizado","status":401,"success":false}`, after.Body)
	require.Contains(t, after.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}

// TestShopKeyConcurrentRefresh: one token refreshed by many browser tabs
// at once (racer.N, released together) yields exactly one new token; the
// other tabs get 401, as they would a moment later. Each round races a
// fresh token: one round catches a check-then-insert only some of the time.
//
// Mutant (storage/sqlstore/tokens.go, SpendAccessToken): check
// IsAccessTokenRevoked first, then insert with ON CONFLICT DO NOTHING: two
// tabs both see the token unspent and both get 200.
func TestShopKeyConcurrentRefresh(t *testing.T) {
	const rounds = 4
	for name, opts := range backendOptions {
		t.Run(name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append(opts, withoutLoginRateLimit())...)
			for round := range rounds {
				tok := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")).Data.Token.AccessToken
				statuses := make([]int, racer.N)
				errs := racer.Run(racer.N, func(i int) error {
					req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/"+app.DemoShop+"/customers/refresh", strings.NewReader(`{"_method":"POST"}`))
					if err != nil {
						return err
					}
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return err
					}
					statuses[i] = resp.StatusCode
					return resp.Body.Close()
				})
				got := map[int]int{}
				for i, err := range errs {
					require.NoError(t, err, "round %d, tab %d", round, i)
					got[statuses[i]]++
				}
				require.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: racer.N - 1}, got, "round %d", round)
			}
		})
	}
}

func TestShopKeyPrivateRouteRejections(t *testing.T) {
	ts := harness.NewTestServer(t)
	token := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")).Data.Token.AccessToken
	parts := strings.Split(token, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]

	// A token of another client (the confidential storefront), same shop.
	other := ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {app.DemoPassword}, "scope": {"openid"}},
		app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, http.StatusOK, other.StatusCode)
	var otj struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(other.Body).Decode(&otj))

	tests := []struct {
		name, route, header string
		advance             time.Duration
		want                int
	}{
		{"tampered", "me", "Bearer " + tampered, 0, 401},
		{"expired", "me", "Bearer " + token, 86400*time.Second + 2*time.Minute, 401},
		{"lowercase scheme works", "me", "bearer " + token, 0, 200},
		{"another client's token cannot be refreshed here", "refresh", "Bearer " + otj.AccessToken, 0, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.Clock.Advance(tt.advance)
			defer ts.Clock.Advance(-tt.advance)
			resp := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/"+tt.route, "", "", "Authorization", tt.header)
			require.Equal(t, tt.want, resp.Status, resp.Body)
		})
	}
}

// TestShopKeyTransport covers _method, the envelope on unmatched routes
// and methods, and bodies that must never reach the core.
func TestShopKeyTransport(t *testing.T) {
	ts := harness.NewTestServer(t, withoutLoginRateLimit())
	long := strings.Repeat("ñ", 10_000)
	tests := []struct {
		name, method, path, contentType, body string
		wantStatus                            int
		wantBody                              string // "" skips
	}{
		{name: "_method PUT", method: "POST", path: app.DemoShop + "/customers/login", contentType: "application/json",
			body: `{"_method":"PUT","email":"sonia@spryker.com","password":"change123"}`, wantStatus: 405,
			wantBody: `{"data":[],"locale":"es","message":"Método no permitido","status":405,"success":false}`},
		{name: "_method delete in a form", method: "POST", path: app.DemoShop + "/customers/login", contentType: "application/x-www-form-urlencoded",
			body: "_method=delete&email=sonia%40spryker.com&password=change123", wantStatus: 405},
		{name: "GET on login", method: "GET", path: app.DemoShop + "/customers/login", wantStatus: 405,
			wantBody: `{"data":[],"locale":"es","message":"Método no permitido","status":405,"success":false}`},
		{name: "unknown route", method: "POST", path: app.DemoShop + "/customers/register", wantStatus: 404,
			wantBody: `{"data":[],"locale":"es","message":"No encontrado","status":404,"success":false}`},
		{name: "malformed JSON", method: "POST", path: app.DemoShop + "/customers/login", contentType: "application/json", body: `{"email":"sonia@spryker.com",`, wantStatus: 400,
			wantBody: `{"data":[],"locale":"es","message":"Solicitud no válida","status":400,"success":false}`},
		{name: "repeated form fields", method: "POST", path: app.DemoShop + "/customers/login", contentType: "application/x-www-form-urlencoded",
			body: "email=sonia%40spryker.com&email=x%40y.example&password=change123", wantStatus: 422,
			wantBody: `{"data":{"errors":{"email":["El campo email no debe repetirse."]}},"locale":"es","message":"Datos no válidos","status":422,"success":false}`},
		{name: "non-alphanumeric 32-char token", method: "POST", path: app.DemoShop + "/customers/login", contentType: "application/json",
			body: `{"email":"sonia@spryker.com","password":"change123","token":"sadsdfuh3r4bibcjsdh8sdssd9hs78d-"}`, wantStatus: 422,
			wantBody: `{"data":{"errors":{"token":["El campo token debe tener 32 letras o dígitos."]}},"locale":"es","message":"Datos no válidos","status":422,"success":false}`},
		{name: "10,000-character unicode fields", method: "POST", path: app.DemoShop + "/customers/login", contentType: "application/json",
			body: `{"email":"` + long + `","password":"` + long + `","token":"` + long + `"}`, wantStatus: 422,
			wantBody: `{"data":{"errors":{"email":["El campo email debe ser una dirección de correo válida."],"password":["El campo password no debe tener más de 1024 caracteres."],"token":["El campo token debe tener 32 letras o dígitos."]}},"locale":"es","message":"Datos no válidos","status":422,"success":false}`},
		{name: "unicode e-mail that is no customer", method: "POST", path: app.DemoShop + "/customers/login", contentType: "application/json",
			body: `{"email":"sönia@spryker.com","password":"change123"}`, wantStatus: 401},
		{name: "other paths keep the OAuth dialect", method: "GET", path: "/nowhere", wantStatus: 404, wantBody: `{"error":"not_found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.SkPost(t, tt.method, tt.path, tt.contentType, tt.body)
			require.Equal(t, tt.wantStatus, resp.Status, resp.Body)
			if tt.wantBody != "" {
				require.Equal(t, tt.wantBody, resp.Body)
			}
		})
	}
}

func TestShopKeyCORS(t *testing.T) {
	ts := harness.NewTestServer(t)
	seedShopKeyFixtures(t, ts)
	tests := []struct {
		name, method, shop, origin string
		wantStatus                 int
		wantAllowed                bool
	}{
		{"allowed origin", "POST", skEnglishShop, skOrigin, 202, true},
		{"allowed origin's preflight", "OPTIONS", skEnglishShop, skOrigin, 204, true},
		{"other origin", "POST", skEnglishShop, "https://evil.example", 202, false},
		{"other origin's preflight", "OPTIONS", skEnglishShop, "https://evil.example", 204, false},
		{"origin of another shop", "POST", app.DemoShop, skOrigin, 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := []string{"Origin", tt.origin}
			if tt.method == "OPTIONS" {
				header = append(header, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
			}
			body := url.Values{"email": {skTomEmail}, "password": {skTomPassword}}.Encode()
			resp := ts.SkPost(t, tt.method, tt.shop+"/customers/login", "application/x-www-form-urlencoded", body, header...)
			require.Equal(t, tt.wantStatus, resp.Status, resp.Body)
			require.Contains(t, resp.Header.Values("Vary"), "Origin")
			if !tt.wantAllowed {
				for name := range resp.Header {
					require.False(t, strings.HasPrefix(name, "Access-Control-"), "%s sent to %s", name, tt.origin)
				}
				return
			}
			require.Equal(t, tt.origin, resp.Header.Get("Access-Control-Allow-Origin"))
			if tt.method == "OPTIONS" {
				require.Equal(t, "POST, OPTIONS", resp.Header.Get("Access-Control-Allow-Methods"))
				require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
				require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type")
			}
		})
	}
}

// emptyDemoCart is the demo's anonymous cart in the spec's cart shape.
func emptyDemoCart(id uint64) string {
	return fmt.Sprintf(`{"id":%d,"notes":null,"total":0,"total_IVA":0,"total_RE":0,"total_discount":0,"total_original":0,"total_shipping":0,"total_taxes":0,"total_total":0,"info":"NOTE: This cart is empty!","lines":[]}`, id)
}

// TestShopKeyCarts covers every cart case of the hand-over with the
// database store.
func TestShopKeyCarts(t *testing.T) {
	ctx := context.Background()
	const foreignToken = "LondonCart0000000000000000000001"
	const unknownToken = "unknown000000000000000000000000A"
	setup := func(t *testing.T) (*harness.TestServer, storage.Cart) {
		ts := harness.NewTestServer(t)
		seedShopKeyFixtures(t, ts)
		demo, err := ts.Store.GetAnonymousCart(ctx, app.DemoShop, app.DemoCartToken)
		require.NoError(t, err, "--demo creates the seed's anonymous cart")
		require.NoError(t, ts.Store.CreateCart(ctx, &storage.Cart{ShopKey: skEnglishShop, Token: foreignToken}))
		return ts, demo
	}

	t.Run("token hands the anonymous cart over (json and form)", func(t *testing.T) {
		for _, form := range []bool{false, true} {
			ts, demo := setup(t)
			login := ts.SkLoginJSON
			if form {
				login = ts.SkLoginForm
			}
			l := decodeLoginResponse(t, login(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, app.DemoCartToken))
			require.Equal(t, emptyDemoCart(demo.ID), string(l.Data.Cart))
			owned, err := ts.Store.GetCustomerCart(ctx, app.DemoShop, 21)
			require.NoError(t, err)
			require.Equal(t, demo.ID, owned.ID)
			_, err = ts.Store.GetAnonymousCart(ctx, app.DemoShop, app.DemoCartToken)
			require.ErrorIs(t, err, storage.ErrNotFound)

			// The next login, without a token, finds the same cart.
			again := decodeLoginResponse(t, login(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, ""))
			require.Equal(t, demo.ID, again.cartID(t))
			// And a second customer with the spent token gets nothing.
			ts.SkLoginJSON(t, app.DemoShop, skDisabledEmail, app.DemoPassword, app.DemoCartToken) // disabled: 401, no hand-over
			_, err = ts.Store.GetCustomerCart(ctx, app.DemoShop, 21)
			require.NoError(t, err)
		}
	})

	t.Run("previous cart is removed", func(t *testing.T) {
		ts, demo := setup(t)
		previous := &storage.Cart{ShopKey: app.DemoShop, CustomerID: 21, Total: 500, TotalTotal: 605,
			Lines: []storage.CartLine{{SKU: "OLD-1", Name: "Old mug", Quantity: 1, UnitPrice: 500, Total: 500}}}
		require.NoError(t, ts.Store.CreateCart(ctx, previous))
		l := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, app.DemoCartToken))
		require.Equal(t, demo.ID, l.cartID(t))
		current, err := ts.Store.GetCustomerCart(ctx, app.DemoShop, 21)
		require.NoError(t, err)
		require.Equal(t, demo.ID, current.ID)
	})

	noHandOver := []struct{ name, token string }{
		{"token of another shop", foreignToken},
		{"unknown token", unknownToken},
		{"no token", ""},
	}
	for _, tt := range noHandOver {
		t.Run(tt.name+" without a cart: null", func(t *testing.T) {
			ts, _ := setup(t)
			l := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, tt.token))
			require.Equal(t, "null", string(l.Data.Cart))
			_, err := ts.Store.GetAnonymousCart(ctx, app.DemoShop, app.DemoCartToken)
			require.NoError(t, err, "the demo cart stays anonymous")
			_, err = ts.Store.GetAnonymousCart(ctx, skEnglishShop, foreignToken)
			require.NoError(t, err, "the other shop's cart stays anonymous")
		})
		t.Run(tt.name+" with a cart: the current cart", func(t *testing.T) {
			ts, _ := setup(t)
			current := &storage.Cart{ShopKey: app.DemoShop, CustomerID: 21, Total: 1250, TotalIVA: 263, TotalTotal: 1513,
				Lines: []storage.CartLine{{SKU: "A-1", Name: "Taza ☕", Quantity: 2, UnitPrice: 625, Total: 1250}}}
			require.NoError(t, ts.Store.CreateCart(ctx, current))
			l := decodeLoginResponse(t, ts.SkLoginForm(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, tt.token))
			require.Equal(t, fmt.Sprintf(`{"id":%d,"notes":null,"total":12.5,"total_IVA":2.63,"total_RE":0,"total_discount":0,"total_original":0,"total_shipping":0,"total_taxes":0,"total_total":15.13,"info":null,"lines":[{"id":%d,"sku":"A-1","name":"Taza ☕","quantity":2,"price":6.25,"total":12.5}]}`,
				current.ID, current.Lines[0].ID), string(l.Data.Cart))
		})
	}

	t.Run("failed login hands nothing over", func(t *testing.T) {
		ts, _ := setup(t)
		resp := ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, "wrong-password", app.DemoCartToken)
		require.Equal(t, http.StatusUnauthorized, resp.Status)
		_, err := ts.Store.GetAnonymousCart(ctx, app.DemoShop, app.DemoCartToken)
		require.NoError(t, err)
	})
}

// TestShopKeyCartRace logs racer.N customers in at once with one anonymous
// cart token: exactly one of them gets the cart, on SQLite and MySQL.
func TestShopKeyCartRace(t *testing.T) {
	backends := map[string][]harness.TestOption{"sqlite": nil, "mysql": {harness.WithMySQL()}}
	for name, opts := range backends {
		t.Run(name, func(t *testing.T) {
			// A hashing slot for every racer: on a loaded machine some
			// would otherwise wait out the queue and get 503, which is not
			// what this test is about.
			ts := harness.NewTestServer(t, append(opts, withoutLoginRateLimit(),
				harness.WithConfig(func(c *config.Config) { c.Login.HashConcurrency = racer.N }))...)
			seedShopKeyFixtures(t, ts)
			ctx := context.Background()
			hasher, err := customers.NewHasher(harness.TestHashParams)
			require.NoError(t, err)
			hash, err := hasher.Hash("racer-pass")
			require.NoError(t, err)
			now := time.Now().UTC()
			creds := [][2]string{{app.DemoCustomerEmail, app.DemoPassword}}
			for i := 1; i < racer.N; i++ {
				email := fmt.Sprintf("rival-%d@example.com", i)
				rival := &storage.Customer{ShopKey: app.DemoShop, Email: email, EmailNormalized: email, Name: "Rival",
					PasswordHash: hash, EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
				require.NoError(t, ts.Store.CreateCustomer(ctx, rival))
				creds = append(creds, [2]string{email, "racer-pass"})
			}
			demo, err := ts.Store.GetAnonymousCart(ctx, app.DemoShop, app.DemoCartToken)
			require.NoError(t, err)

			for round := 0; round < 5; round++ {
				if round > 0 {
					// A fresh anonymous cart for the next round.
					token := fmt.Sprintf("race%028d", round)
					c := &storage.Cart{ShopKey: app.DemoShop, Token: token}
					require.NoError(t, ts.Store.CreateCart(ctx, c))
					demo = *c
				}
				results := make([]skLogin, len(creds))
				racer.Run(len(creds), func(i int) error {
					results[i] = decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, creds[i][0], creds[i][1], demo.Token))
					return nil
				})
				winners := 0
				for _, r := range results {
					if r.cartID(t) == demo.ID {
						winners++
					}
				}
				require.Equal(t, 1, winners, "round %d: exactly one customer gets the cart", round)
			}
		})
	}
}

// TestShopKeyCartWebhook switches the hand-over to a commerce back end.
func TestShopKeyCartWebhook(t *testing.T) {
	type call struct {
		Shop       string  `json:"shop"`
		CustomerID uint64  `json:"customer_id"`
		CartToken  *string `json:"cart_token"`
	}
	var (
		mu     sync.Mutex
		calls  []call
		status = http.StatusOK
		answer = `{"id":"ext-77","total":9.99,"lines":[{"sku":"X"}]}`
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var c call
		_ = json.NewDecoder(r.Body).Decode(&c)
		calls = append(calls, c)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	defer hook.Close()
	ts := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) { c.Adapters.ShopKeyCartURL = hook.URL + "/carts/handover" }))

	l := decodeLoginResponse(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, app.DemoCartToken))
	require.Equal(t, `{"id":"ext-77","total":9.99,"lines":[{"sku":"X"}]}`, string(l.Data.Cart))
	token := app.DemoCartToken
	mu.Lock()
	require.Equal(t, []call{{Shop: app.DemoShop, CustomerID: 21, CartToken: &token}}, calls)
	mu.Unlock()
	_, err := ts.Store.GetAnonymousCart(context.Background(), app.DemoShop, app.DemoCartToken)
	require.NoError(t, err, "the database's carts are not touched")

	mu.Lock()
	status = http.StatusBadGateway
	mu.Unlock()
	resp := ts.SkLoginForm(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")
	l = decodeLoginResponse(t, resp)
	require.Equal(t, "null", string(l.Data.Cart), "a failing back end never fails the login")
	require.NotEmpty(t, l.Data.Token.AccessToken)
	require.Contains(t, ts.Logs.String(), "cart hand-over failed")
	require.Contains(t, ts.Logs.String(), `"level":"WARN"`)
	require.NotContains(t, ts.Logs.String(), app.DemoCartToken, "tokens are never logged")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, calls, 2)
	require.Equal(t, call{Shop: app.DemoShop, CustomerID: 21}, calls[1], "no token is sent as null")
}

// unverifiedClaims reads a JWT's claims without checking it (the token is
// revoked by now; it was verified when issued).
func unverifiedClaims(t testing.TB, jwt string) tokens.AccessClaims {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c tokens.AccessClaims
	require.NoError(t, json.Unmarshal(payload, &c))
	return c
}
