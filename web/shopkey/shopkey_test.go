package shopkey

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/carts"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/web"
)

const goodToken = "good.token"

var sonia = storage.Customer{ID: 21, AccountID: 21, ShopKey: "acme12aa", Email: "sonia@spryker.com", Name: "Sonia"}

// fakeCore stands for the core services: the shops acme12aa (es) and
// london01 (en), one valid token of acme12aa, and a login error to answer
// with.
type fakeCore struct {
	loginErr  error
	logins    int
	revoked   []string
	lastLogin server.TokenRequest
}

func (f *fakeCore) Shop(_ context.Context, key string) (storage.Shop, error) {
	switch key {
	case "acme12aa":
		return storage.Shop{Key: key, Locale: "es", Active: true, CORSOrigins: []string{"https://shop.example/"}}, nil
	case "london01":
		return storage.Shop{Key: key, Locale: "en_GB", Active: true}, nil
	}
	return storage.Shop{}, refusal.ErrUnknownShop
}

func (f *fakeCore) AdapterToken(_ context.Context, clientID string, req server.TokenRequest) (*server.TokenResponse, error) {
	f.logins++
	f.lastLogin = req
	if clientID != "shopkey-storefront" {
		return nil, errors.New("wrong client")
	}
	if f.loginErr != nil {
		return nil, f.loginErr
	}
	return &server.TokenResponse{AccessToken: "jwt", TokenType: "Bearer", ExpiresIn: 86400, Customer: sonia}, nil
}

func (f *fakeCore) VerifyShopAccessToken(_ context.Context, clientID, shopKey, raw string) (tokens.AccessClaims, error) {
	if raw != goodToken || shopKey != "acme12aa" || clientID != "shopkey-storefront" {
		return tokens.AccessClaims{}, refusal.ErrInvalidToken
	}
	return tokens.AccessClaims{JTI: "jti-1", Shop: shopKey, Subject: "21", ClientID: "shopkey-storefront"}, nil
}

func (f *fakeCore) TokenCustomer(context.Context, tokens.AccessClaims) (storage.Customer, error) {
	return sonia, nil
}

func (f *fakeCore) RevokeAccessToken(_ context.Context, c tokens.AccessClaims) error {
	f.revoked = append(f.revoked, c.JTI)
	return nil
}

func (f *fakeCore) ExchangeAccessToken(_ context.Context, clientID string, old tokens.AccessClaims) (*server.TokenResponse, error) {
	f.revoked = append(f.revoked, old.JTI)
	return &server.TokenResponse{AccessToken: "jwt2", TokenType: "Bearer", ExpiresIn: 86400}, nil
}

type fakeCarts struct{ cart *carts.Cart }

func (f fakeCarts) AfterLogin(context.Context, carts.Request) *carts.Cart { return f.cart }

type fixture struct {
	core   *fakeCore
	engine *gin.Engine
	logs   *bytes.Buffer
}

func newFixture(t testing.TB, cart *carts.Cart) *fixture {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	core := &fakeCore{}
	logs := &bytes.Buffer{}
	h, err := New(Config{Shops: core, Logins: core, Sessions: core, Carts: fakeCarts{cart: cart},
		ClientID: "shopkey-storefront", Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	require.NoError(t, err)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	h.Mount(e)
	e.NoRoute(func(c *gin.Context) { h.NoRoute(c) })
	e.NoMethod(func(c *gin.Context) { h.NoMethod(c) })
	return &fixture{core: core, engine: e, logs: logs}
}

func (f *fixture) do(method, path, contentType, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.engine.ServeHTTP(w, r)
	return w
}

const loginBody = `{"email":"sonia@spryker.com","password":"change123"}`

// specErrorRow is one row of the legacy error table (a copy of the
// original document is kept in e2e/testdata/shopkey.md; docs/shopkey.md).
type specErrorRow struct {
	Case     string
	Status   int
	Messages map[string]string // locale → message
}

// specErrorTable reads the error table of the spec (copied to testdata),
// so the tests check the spec's own words.
func specErrorTable(t testing.TB) []specErrorRow {
	t.Helper()
	f, err := os.Open("../../e2e/testdata/shopkey.md")
	require.NoError(t, err)
	defer f.Close()
	var rows []specErrorRow
	inTable := false
	quoted := regexp.MustCompile("`([^`]*)`")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "| case |") {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(line, "| ---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		require.Len(t, cells, 3, line)
		status, err := strconv.Atoi(strings.TrimSpace(cells[1])[:3])
		require.NoError(t, err, line)
		msgs := quoted.FindAllStringSubmatch(cells[2], -1)
		require.Len(t, msgs, 2, line)
		rows = append(rows, specErrorRow{
			Case: strings.TrimSpace(cells[0]), Status: status,
			Messages: map[string]string{localeES: msgs[0][1], localeEN: msgs[1][1]},
		})
	}
	require.NoError(t, sc.Err())
	require.Len(t, rows, 7, "the spec's error table")
	return rows
}

// TestSpecErrorTable answers every row of the spec's error table through
// a fake core, in Spanish (acme12aa) and English (london01).
func TestSpecErrorTable(t *testing.T) {
	type call struct {
		method, path, contentType, body string
		header                          []string
		loginErr                        error
	}
	login := func(shop string) string { return "/api/v1/" + shop + "/customers/login" }
	scenarios := map[string][]func(shop string) call{
		"wrong password, unknown e-mail, disabled account": {func(shop string) call {
			return call{method: "POST", path: login(shop), contentType: jsonType, body: loginBody,
				loginErr: refusal.ErrBadCredentials}
		}},
		"e-mail not verified": {func(shop string) call {
			return call{method: "POST", path: login(shop), contentType: jsonType, body: loginBody,
				loginErr: refusal.ErrNotVerified}
		}},
		"unknown or inactive shopKey": {func(string) call {
			return call{method: "POST", path: login("nope"), contentType: jsonType, body: loginBody}
		}},
		"missing/invalid Bearer on a private route, or a token of another shop": {
			func(shop string) call { return call{method: "POST", path: "/api/v1/" + shop + "/customers/me"} },
			func(shop string) call {
				return call{method: "POST", path: "/api/v1/" + shop + "/customers/logout", header: []string{"Authorization", "Bearer forged"}}
			},
		},
		"missing/blank/invalid field": {func(shop string) call {
			return call{method: "POST", path: login(shop), contentType: formType, body: "email=&password="}
		}},
		"too many attempts": {func(shop string) call {
			return call{method: "POST", path: login(shop), contentType: jsonType, body: loginBody,
				loginErr: refusal.ErrThrottled.WithRetryAfter(42 * time.Second)}
		}},
		"unknown route under `/api/v1/`": {
			func(shop string) call { return call{method: "POST", path: "/api/v1/" + shop + "/customers/register"} },
			func(shop string) call { return call{method: "GET", path: "/api/v1/" + shop} },
		},
	}
	for _, row := range specErrorTable(t) {
		builders, ok := scenarios[row.Case]
		require.True(t, ok, "no scenario for the spec's row %q", row.Case)
		for _, shop := range []struct{ key, locale, accept string }{{"acme12aa", localeES, ""}, {"london01", localeEN, "es-ES"}} {
			for i, build := range builders {
				t.Run(row.Case+"/"+shop.locale+"/"+strconv.Itoa(i), func(t *testing.T) {
					f := newFixture(t, nil)
					c := build(shop.key)
					f.core.loginErr = c.loginErr
					header := c.header
					want := shop.locale
					if row.Status == http.StatusForbidden && row.Case == "unknown or inactive shopKey" {
						// No shop, no shop locale: Accept-Language decides.
						header = append(header, "Accept-Language", map[string]string{localeES: "es-ES,es;q=0.9", localeEN: "en-US"}[shop.locale])
					} else if shop.accept != "" {
						header = append(header, "Accept-Language", shop.accept) // the shop's locale wins
					}
					w := f.do(c.method, c.path, c.contentType, c.body, header...)
					require.Equal(t, row.Status, w.Code, w.Body.String())
					var env struct {
						Data    json.RawMessage `json:"data"`
						Locale  string          `json:"locale"`
						Message string          `json:"message"`
						Status  int             `json:"status"`
						Success bool            `json:"success"`
					}
					require.NoError(t, json.Unmarshal(w.Body.Bytes(), &env))
					require.Equal(t, row.Messages[want], env.Message)
					require.Equal(t, want, env.Locale)
					require.Equal(t, row.Status, env.Status)
					require.False(t, env.Success)
					if row.Status == http.StatusUnprocessableEntity {
						require.Contains(t, string(env.Data), `{"errors":{"email":[`)
					} else {
						require.Equal(t, "[]", string(env.Data))
					}
					if row.Status == http.StatusTooManyRequests {
						require.Equal(t, "42", w.Header().Get("Retry-After"))
					}
					if row.Status == http.StatusForbidden && row.Case == "unknown or inactive shopKey" {
						require.Zero(t, f.core.logins, "no password work for an unknown shop")
					}
				})
			}
		}
	}
}

func TestEnvelopeKeyOrder(t *testing.T) {
	notes := "ring twice"
	f := newFixture(t, &carts.Cart{Stored: &storage.Cart{ID: 3, Notes: &notes, Total: 1250, TotalIVA: 263, TotalTotal: 1513,
		Lines: []storage.CartLine{{ID: 9, SKU: "A-1", Name: "Tazón", Quantity: 2, UnitPrice: 625, Total: 1250}}}})
	w := f.do("POST", "/api/v1/acme12aa/customers/login", formType, "email=sonia%40spryker.com&password=change123&_method=POST")
	require.Equal(t, http.StatusAccepted, w.Code)
	require.Equal(t, `{"authenticated":0,"data":{"cart":{"id":3,"notes":"ring twice","total":12.5,"total_IVA":2.63,"total_RE":0,"total_discount":0,"total_original":0,"total_shipping":0,"total_taxes":0,"total_total":15.13,"info":null,"lines":[{"id":9,"sku":"A-1","name":"Tazón","quantity":2,"price":6.25,"total":12.5}]},"customer":{"customer_id":21,"account_id":21,"email":"sonia@spryker.com","name":"Sonia"},"token":{"access_token":"jwt","expires_in":86400,"token_type":"bearer"}},"locale":"es","message":"Acceso autorizado","status":202,"success":true}`,
		w.Body.String())
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	// The caller's address keys the login rate limit (issue 13 item 1).
	require.Equal(t, server.TokenRequest{GrantType: "password", Username: "sonia@spryker.com", Password: "change123", ShopKey: "acme12aa", ClientIP: "192.0.2.1", Dialect: "shopkey"}, f.core.lastLogin)
}

func TestWebhookCartPassedOn(t *testing.T) {
	f := newFixture(t, &carts.Cart{Document: json.RawMessage(`{"id":"ext-1","lines":[{"x":1}]}`)})
	w := f.do("POST", "/api/v1/acme12aa/customers/login", jsonType, loginBody)
	require.Equal(t, http.StatusAccepted, w.Code)
	require.Contains(t, w.Body.String(), `"data":{"cart":{"id":"ext-1","lines":[{"x":1}]},"customer":`)
}

func TestCoreErrors(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantStatus  int
		wantMessage string
		wantRetry   string
		wantLogged  bool
	}{
		{"rate limited", refusal.ErrThrottled.WithRetryAfter(60 * time.Second), 429, "Demasiados intentos, inténtelo más tarde", "60", false},
		{"hashing saturated", refusal.ErrUnavailable.WithRetryAfter(2 * time.Second), 503, "Servicio no disponible temporalmente, inténtelo más tarde", "2", false},
		{"not verified", refusal.ErrNotVerified, 403, "Cuenta no verificada", "", false},
		{"wrong credentials", refusal.ErrBadCredentials, 401, "Email o contraseña incorrectos", "", false},
		{"misconfigured client", refusal.ErrUnauthorizedClient, 500, "Error interno del servidor", "", true},
		{"database away", fmt.Errorf("load customer: %w", storage.ErrUnavailable), 503, "Servicio no disponible temporalmente, inténtelo más tarde", "1", false},
		{"fault", errors.New("database on fire"), 500, "Error interno del servidor", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.core.loginErr = tt.err
			w := f.do("POST", "/api/v1/acme12aa/customers/login", jsonType, loginBody)
			require.Equal(t, tt.wantStatus, w.Code)
			require.Equal(t, `{"data":[],"locale":"es","message":"`+tt.wantMessage+`","status":`+strconv.Itoa(tt.wantStatus)+`,"success":false}`, w.Body.String())
			require.Equal(t, tt.wantRetry, w.Header().Get("Retry-After"))
			require.Equal(t, tt.wantLogged, strings.Contains(f.logs.String(), "shopkey request failed"))
			require.NotContains(t, w.Body.String(), "fire", "causes never leak")
		})
	}
}

func TestPrivateRoutes(t *testing.T) {
	bearer := []string{"Authorization", "Bearer " + goodToken}
	tests := []struct {
		name     string
		path     string
		body     string
		header   []string
		want     string
		wantCode int
		revoked  []string
	}{
		{name: "me", path: "/api/v1/acme12aa/customers/me", header: bearer, wantCode: 200,
			want: `{"data":{"customer":{"customer_id":21,"account_id":21,"email":"sonia@spryker.com","name":"Sonia"}},"locale":"es","message":"Datos del cliente","status":200,"success":true}`},
		{name: "logout", path: "/api/v1/acme12aa/customers/logout", header: bearer, wantCode: 200, revoked: []string{"jti-1"},
			want: `{"data":[],"locale":"es","message":"Sesión cerrada","status":200,"success":true}`},
		{name: "refresh", path: "/api/v1/acme12aa/customers/refresh", header: bearer, wantCode: 200, revoked: []string{"jti-1"},
			want: `{"data":{"token":{"access_token":"jwt2","expires_in":86400,"token_type":"bearer"}},"locale":"es","message":"Token renovado","status":200,"success":true}`},
		{name: "_method DELETE on logout", path: "/api/v1/acme12aa/customers/logout", body: `{"_method":"DELETE"}`, header: append([]string{"Content-Type", jsonType}, bearer...), wantCode: 405,
			want: `{"data":[],"locale":"es","message":"Método no permitido","status":405,"success":false}`},
		{name: "token of another shop", path: "/api/v1/london01/customers/me", header: bearer, wantCode: 401,
			want: `{"data":[],"locale":"en","message":"Unauthorized","status":401,"success":false}`},
		{name: "Basic is not Bearer", path: "/api/v1/acme12aa/customers/me", header: []string{"Authorization", "Basic Zm9vOmJhcg=="}, wantCode: 401,
			want: `{"data":[],"locale":"es","message":"No autorizado","status":401,"success":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.do("POST", tt.path, "", tt.body, tt.header...)
			require.Equal(t, tt.wantCode, w.Code)
			require.Equal(t, tt.want, w.Body.String())
			require.Equal(t, tt.revoked, f.core.revoked)
			if tt.wantCode == 401 {
				require.Contains(t, w.Header().Get("WWW-Authenticate"), `Bearer realm="shopauth"`)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		origin      string
		wantCode    int
		wantAllowed bool
	}{
		{"allowed origin", "POST", "https://shop.example", 202, true},
		{"allowed origin, case differs", "POST", "https://SHOP.example", 202, true},
		{"other origin", "POST", "https://evil.example", 202, false},
		{"null origin", "POST", "null", 202, false},
		{"no origin", "POST", "", 202, false},
		{"preflight from allowed origin", "OPTIONS", "https://shop.example", 204, true},
		{"preflight from other origin", "OPTIONS", "https://evil.example", 204, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			header := []string{"Origin", tt.origin}
			if tt.method == "OPTIONS" {
				header = append(header, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
			}
			w := f.do(tt.method, "/api/v1/acme12aa/customers/login", jsonType, loginBody, header...)
			require.Equal(t, tt.wantCode, w.Code)
			require.Contains(t, w.Header().Values("Vary"), "Origin")
			if !tt.wantAllowed {
				for name := range w.Header() {
					require.False(t, strings.HasPrefix(name, "Access-Control-"), "CORS header %s sent to %q", name, tt.origin)
				}
				return
			}
			require.Equal(t, tt.origin, w.Header().Get("Access-Control-Allow-Origin"))
			require.Empty(t, w.Header().Get("Access-Control-Allow-Credentials"))
			if tt.method == "OPTIONS" {
				require.Equal(t, "POST, OPTIONS", w.Header().Get("Access-Control-Allow-Methods"))
				require.Contains(t, w.Header().Get("Access-Control-Allow-Headers"), "Authorization")
				require.Contains(t, w.Header().Get("Access-Control-Allow-Headers"), "Content-Type")
				require.Empty(t, w.Body.String())
			}
		})
	}
}

func TestMoney(t *testing.T) {
	tests := map[int64]string{0: "0", 1: "0.01", 10: "0.1", 99: "0.99", 100: "1", 1250: "12.5", 1513: "15.13", -399: "-3.99", -100: "-1",
		9223372036854775807: "92233720368547758.07", -9223372036854775808: "-92233720368547758.08"}
	for cents, want := range tests {
		got, err := money(cents).MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, want, string(got), "%d", cents)
	}
}

func TestLocales(t *testing.T) {
	require.Equal(t, "es", shopLocale("es_ES"))
	require.Equal(t, "en", shopLocale("en-GB"))
	require.Equal(t, "en", shopLocale("de_DE"))
	require.Equal(t, "es", requestLocale("fr-FR, es;q=0.8, en;q=0.5"))
	require.Equal(t, "en", requestLocale(""))
	for _, locale := range []string{localeES, localeEN} {
		for m := range messageCount {
			require.NotEmpty(t, catalog[locale][m], "message %d in %s", m, locale)
		}
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err)
}

var _ web.Fallback = (*Handler)(nil)
