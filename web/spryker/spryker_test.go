package spryker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// fakeCore records what the dialect asks of the core and answers with
// err, or with a token response for the customer.
type fakeCore struct {
	mu       sync.Mutex
	requests []server.TokenRequest
	clientID string
	err      error
	customer storage.Customer

	verifyErr error
	claims    tokens.AccessClaims
	revoked   []string // "one:<customer>:<shop>:<token>" or "all:<customer>:<shop>"
	revokeErr error
}

var (
	_ Grants       = (*fakeCore)(nil)
	_ AccessTokens = (*fakeCore)(nil)
	_ Revocations  = (*fakeCore)(nil)
)

func (f *fakeCore) Issuer() string { return "https://auth.example.com/" }

func (f *fakeCore) AdapterToken(_ context.Context, clientID string, req server.TokenRequest) (*server.TokenResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clientID = clientID
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return &server.TokenResponse{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 28800, RefreshToken: "rt", Customer: f.customer}, nil
}

func (f *fakeCore) VerifyAccessToken(_ context.Context, raw string) (tokens.AccessClaims, error) {
	if f.verifyErr != nil {
		return tokens.AccessClaims{}, f.verifyErr
	}
	if raw != "good" {
		return tokens.AccessClaims{}, tokens.ErrInvalidToken
	}
	return f.claims, nil
}

func (f *fakeCore) RevokeCustomerRefreshToken(_ context.Context, customerID uint64, shopKey, refreshToken string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, fmt.Sprintf("one:%d:%s:%s", customerID, shopKey, refreshToken))
	return f.revokeErr
}

func (f *fakeCore) RevokeAllCustomerRefreshTokens(_ context.Context, customerID uint64, shopKey string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, fmt.Sprintf("all:%d:%s", customerID, shopKey))
	return f.revokeErr
}

// newEngine mounts the dialect over core on a bare gin engine, with the
// body bound the real engine sets.
func newEngine(t testing.TB, core *fakeCore, logs *bytes.Buffer) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	h, err := New(Config{Grants: core, AccessTokens: core, Revocations: core, ClientID: "spryker-glue", ShopKey: "acme12aa", Logger: logger})
	require.NoError(t, err)
	e := gin.New()
	e.Use(func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20)
		c.Next()
	})
	h.Mount(e)
	return e
}

func serve(e http.Handler, method, path, contentType, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

const (
	loginJSON   = `{"data":{"type":"access-tokens","attributes":{"username":"sonia@spryker.com","password":"change123"}}}`
	refreshJSON = `{"data":{"type":"refresh-tokens","attributes":{"refreshToken":"rt-1"}}}`
)

func TestNewRequiresDependencies(t *testing.T) {
	core := &fakeCore{}
	for _, cfg := range []Config{
		{AccessTokens: core, Revocations: core, ClientID: "c", ShopKey: "s"},
		{Grants: core, Revocations: core, ClientID: "c", ShopKey: "s"},
		{Grants: core, AccessTokens: core, ClientID: "c", ShopKey: "s"},
		{Grants: core, AccessTokens: core, Revocations: core, ShopKey: "s"},
		{Grants: core, AccessTokens: core, Revocations: core, ClientID: "c"},
	} {
		_, err := New(cfg)
		require.Error(t, err)
	}
}

// TestTranslation: the dialect builds the core's grant requests for its
// configured client and shop, and nothing else.
func TestTranslation(t *testing.T) {
	tests := []struct {
		name        string
		path, ctype string
		body        string
		want        server.TokenRequest
	}{
		{"access-tokens", PathAccessTokens, contentType, loginJSON,
			server.TokenRequest{GrantType: "password", Username: "sonia@spryker.com", Password: "change123", ShopKey: "acme12aa", ClientIP: "192.0.2.1", Dialect: "spryker"}},
		{"refresh-tokens", PathRefreshTokens, contentType, refreshJSON,
			server.TokenRequest{GrantType: "refresh_token", RefreshToken: "rt-1", ShopKey: "acme12aa", ClientIP: "192.0.2.1", Dialect: "spryker"}},
		{"token password", PathToken, "application/x-www-form-urlencoded",
			url.Values{"grant_type": {"password"}, "username": {"sonia@spryker.com"}, "password": {"change123"}, "client_id": {"evil"}, "client_secret": {"x"}}.Encode(),
			server.TokenRequest{GrantType: "password", Username: "sonia@spryker.com", Password: "change123", ShopKey: "acme12aa", ClientIP: "192.0.2.1", Dialect: "spryker"}},
		{"token refresh", PathToken, "application/x-www-form-urlencoded",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-1"}, "scope": {"customer"}}.Encode(),
			server.TokenRequest{GrantType: "refresh_token", RefreshToken: "rt-1", Scope: "customer", ShopKey: "acme12aa", ClientIP: "192.0.2.1", Dialect: "spryker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := &fakeCore{}
			w := serve(newEngine(t, core, nil), http.MethodPost, tt.path, tt.ctype, tt.body)
			require.Less(t, w.Code, 300, w.Body.String())
			require.Equal(t, []server.TokenRequest{tt.want}, core.requests)
			require.Equal(t, "spryker-glue", core.clientID, "client credentials in the form are ignored")
		})
	}
}

func TestTokenDocument(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		body     string
		customer storage.Customer
		want     string
	}{
		{"B2B login", PathAccessTokens, loginJSON, storage.Customer{ID: 21, CompanyUserID: "ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac"},
			`{"data":{"type":"access-tokens","id":null,"attributes":{"tokenType":"Bearer","expiresIn":28800,"accessToken":"at","refreshToken":"rt","idCompanyUser":"ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac"},"links":{"self":"https://auth.example.com/access-tokens"}}}`},
		{"B2C refresh", PathRefreshTokens, refreshJSON, storage.Customer{ID: 22},
			`{"data":{"type":"refresh-tokens","id":null,"attributes":{"tokenType":"Bearer","expiresIn":28800,"accessToken":"at","refreshToken":"rt"},"links":{"self":"https://auth.example.com/refresh-tokens"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(newEngine(t, &fakeCore{customer: tt.customer}, nil), http.MethodPost, tt.path, contentType, tt.body)
			require.Equal(t, http.StatusCreated, w.Code)
			require.Equal(t, contentType, w.Header().Get("Content-Type"))
			require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			require.Equal(t, "no-cache", w.Header().Get("Pragma"))
			require.Equal(t, tt.want, w.Body.String())
		})
	}
}

// TestGrantErrors maps every core answer to Glue's, with a fake core: the
// throttling answers (429, 503) the core gives for lockouts, rate limits and
// a saturated hashing pool included.
func TestGrantErrors(t *testing.T) {
	notVerified := refusal.ErrNotVerified.WithCause(errors.New("not verified"))
	wrongPassword := refusal.ErrBadCredentials.WithCause(errors.New("wrong password"))
	tests := []struct {
		name       string
		path, body string
		err        error
		status     int
		retryAfter string
		want       string
		logged     bool
	}{
		{"wrong credentials", PathAccessTokens, loginJSON, wrongPassword, 401, "",
			`{"errors":[{"code":"003","status":401,"detail":"Failed to authenticate user."}]}`, false},
		{"not verified", PathAccessTokens, loginJSON, notVerified, 403, "",
			`{"errors":[{"code":"003","status":403,"detail":"Failed to authenticate user."}]}`, false},
		{"refresh refused", PathRefreshTokens, refreshJSON, refusal.ErrInvalidGrant, 401, "",
			`{"errors":[{"code":"004","status":401,"detail":"Failed to refresh token."}]}`, false},
		{"locked out, 90 s", PathAccessTokens, loginJSON, refusal.ErrThrottled.WithRetryAfter(90 * time.Second), 429, "90",
			`{"errors":[{"code":"4401","status":429,"detail":"Too many log in attempts from your address. Please wait 2 minutes before trying again."}]}`, false},
		{"rate limited, 1 s", PathAccessTokens, loginJSON, refusal.ErrThrottled.WithRetryAfter(1 * time.Second), 429, "1",
			`{"errors":[{"code":"4401","status":429,"detail":"Too many log in attempts from your address. Please wait 1 minutes before trying again."}]}`, false},
		{"rate limited, exactly 15 min", PathAccessTokens, loginJSON, refusal.ErrThrottled.WithRetryAfter(900 * time.Second), 429, "900",
			`{"errors":[{"code":"4401","status":429,"detail":"Too many log in attempts from your address. Please wait 15 minutes before trying again."}]}`, false},
		{"rate limited, no Retry-After from the core", PathAccessTokens, loginJSON, refusal.ErrThrottled, 429, "60",
			`{"errors":[{"code":"4401","status":429,"detail":"Too many log in attempts from your address. Please wait 1 minutes before trying again."}]}`, false},
		{"rate limited on refresh", PathRefreshTokens, refreshJSON, refusal.ErrThrottled.WithRetryAfter(61 * time.Second), 429, "61",
			`{"errors":[{"code":"4401","status":429,"detail":"Too many log in attempts from your address. Please wait 2 minutes before trying again."}]}`, false},
		{"hashing pool saturated", PathAccessTokens, loginJSON, refusal.ErrUnavailable.WithRetryAfter(2 * time.Second), 503, "2",
			`{"errors":[{"status":503,"detail":"Service temporarily unavailable. Please try again later."}]}`, false},
		{"database away", PathRefreshTokens, refreshJSON, fmt.Errorf("load refresh token: %w", storage.ErrUnavailable), 503, "1",
			`{"errors":[{"status":503,"detail":"Service temporarily unavailable. Please try again later."}]}`, false},
		{"fault", PathAccessTokens, loginJSON, errors.New("database on fire"), 500, "",
			`{"errors":[{"status":500,"detail":"Internal Server Error"}]}`, true},
		{"misconfigured client", PathRefreshTokens, refreshJSON, refusal.ErrUnauthorizedClient, 500, "",
			`{"errors":[{"status":500,"detail":"Internal Server Error"}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := serve(newEngine(t, &fakeCore{err: tt.err}, &logs), http.MethodPost, tt.path, contentType, tt.body)
			require.Equal(t, tt.status, w.Code)
			require.Equal(t, contentType, w.Header().Get("Content-Type"))
			require.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			require.Equal(t, tt.want, w.Body.String())
			require.NotContains(t, w.Body.String(), "fire", "a fault's cause is never sent")
			require.Equal(t, tt.logged, strings.Contains(logs.String(), "spryker request failed"))
			require.NotContains(t, logs.String(), "change123", "never a password in the logs")
		})
	}
}

func TestFormErrors(t *testing.T) {
	form := url.Values{"grant_type": {"password"}, "username": {"sonia@spryker.com"}, "password": {"change123"}}.Encode()
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt"}}.Encode()
	tests := []struct {
		name       string
		body       string
		err        error
		status     int
		retryAfter string
		want       string
	}{
		{"wrong credentials", form, refusal.ErrBadCredentials, 400, "",
			`{"error":"invalid_grant","error_description":"The user credentials were incorrect."}`},
		{"bad refresh token", refresh, refusal.ErrInvalidGrant, 400, "",
			`{"error":"invalid_request","error_description":"The refresh token is invalid."}`},
		{"scope not allowed", form, refusal.ErrInvalidScope, 400, "",
			`{"error":"invalid_scope","error_description":"The requested scope is invalid, unknown, or exceeds the scope granted."}`},
		{"throttled", form, refusal.ErrThrottled.WithRetryAfter(30 * time.Second), 429, "30",
			`{"error":"slow_down","error_description":"Too many requests. Retry later."}`},
		{"saturated", form, refusal.ErrUnavailable.WithRetryAfter(2 * time.Second), 503, "2",
			`{"error":"temporarily_unavailable","error_description":"The authorization server is temporarily unable to handle the request."}`},
		{"database away", refresh, fmt.Errorf("load refresh token: %w", storage.ErrUnavailable), 503, "1",
			`{"error":"temporarily_unavailable","error_description":"The authorization server is temporarily unable to handle the request."}`},
		{"fault", refresh, errors.New("database on fire"), 500, "",
			`{"error":"server_error","error_description":"The authorization server encountered an unexpected condition."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(newEngine(t, &fakeCore{err: tt.err}, nil), http.MethodPost, PathToken, "application/x-www-form-urlencoded", tt.body)
			require.Equal(t, tt.status, w.Code)
			require.Equal(t, "application/json", w.Header().Get("Content-Type"))
			require.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			require.Equal(t, tt.want, w.Body.String())
		})
	}
}

func TestDelete(t *testing.T) {
	claims := claimsOf21
	sprykerClaims := tokens.AccessClaims{Subject: `{"id_company_user":null,"id_agent":null,"customer_reference":"DE--7","id_customer":7}`,
		ClientID: "spryker-glue", Shop: "acme12aa", Scopes: []string{"customer"}, JTI: "j"}
	with := func(f func(*tokens.AccessClaims)) tokens.AccessClaims { c := claims; f(&c); return c }
	tests := []struct {
		name        string
		path        string
		auth        string
		claims      tokens.AccessClaims
		verifyErr   error
		revokeErr   error
		status      int
		wantRevoked []string
	}{
		{"one token", "/refresh-tokens/rt-9", "Bearer good", claims, nil, nil, 204, []string{"one:21:acme12aa:rt-9"}},
		{"mine", "/refresh-tokens/mine", "bearer  good ", claims, nil, nil, 204, []string{"all:21:acme12aa"}},
		{"Spryker-shaped sub", "/refresh-tokens/mine", "Bearer good", sprykerClaims, nil, nil, 204, []string{"all:7:acme12aa"}},
		{"no customer in the token", "/refresh-tokens/mine", "Bearer good", with(func(c *tokens.AccessClaims) { c.Subject = "machine" }), nil, nil, 401, nil},
		{"another client's token", "/refresh-tokens/mine", "Bearer good", with(func(c *tokens.AccessClaims) {
			c.ClientID, c.Audience = "storefront", tokens.Audience{"storefront"}
		}), nil, nil, 401, nil},
		{"a client configured for the dialect (aud)", "/refresh-tokens/mine", "Bearer good", with(func(c *tokens.AccessClaims) {
			c.ClientID, c.Audience = "partner", tokens.Audience{"spryker-glue"}
		}), nil, nil, 204, []string{"all:21:acme12aa"}},
		{"without the customer scope", "/refresh-tokens/rt-9", "Bearer good", with(func(c *tokens.AccessClaims) { c.Scope = "offline_access" }), nil, nil, 401, nil},
		{"another shop's customer", "/refresh-tokens/rt-9", "Bearer good", with(func(c *tokens.AccessClaims) { c.Shop = "other" }), nil, nil, 401, nil},
		{"no header", "/refresh-tokens/mine", "", claims, nil, nil, 403, nil},
		{"blank header", "/refresh-tokens/mine", "   ", claims, nil, nil, 403, nil},
		{"bad token", "/refresh-tokens/mine", "Bearer bad", claims, nil, nil, 401, nil},
		{"two tokens", "/refresh-tokens/mine", "Bearer good good", claims, nil, nil, 401, nil},
		{"scheme only", "/refresh-tokens/mine", "Bearer", claims, nil, nil, 401, nil},
		{"verifier fault", "/refresh-tokens/mine", "Bearer good", claims, errors.New("db down"), nil, 500, nil},
		{"revocation list away", "/refresh-tokens/mine", "Bearer good", claims, fmt.Errorf("check revocation: %w", storage.ErrUnavailable), nil, 503, nil},
		{"database away on revoke", "/refresh-tokens/rt", "Bearer good", claims, nil, storage.ErrUnavailable, 503, []string{"one:21:acme12aa:rt"}},
		{"revocation fault", "/refresh-tokens/rt", "Bearer good", claims, nil, errors.New("db down"), 500, []string{"one:21:acme12aa:rt"}},
		{"no id", "/refresh-tokens/", "Bearer good", claims, nil, nil, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := &fakeCore{claims: tt.claims, verifyErr: tt.verifyErr, revokeErr: tt.revokeErr}
			var header []string
			if tt.auth != "" {
				header = []string{"Authorization", tt.auth}
			}
			w := serve(newEngine(t, core, nil), http.MethodDelete, tt.path, "", "", header...)
			require.Equal(t, tt.status, w.Code, w.Body.String())
			require.Equal(t, tt.wantRevoked, core.revoked)
			if tt.status == http.StatusNoContent {
				require.Empty(t, w.Body.String())
			} else {
				require.Equal(t, contentType, w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestWrongMethod(t *testing.T) {
	e := newEngine(t, &fakeCore{}, nil)
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, PathAccessTokens}, {http.MethodDelete, PathAccessTokens}, {http.MethodPatch, PathRefreshTokens},
		{http.MethodPost, "/refresh-tokens/mine"}, {http.MethodPut, "/refresh-tokens/x"}, {http.MethodGet, PathToken},
		{http.MethodOptions, PathToken},
	} {
		w := serve(e, tt.method, tt.path, "", "")
		require.Equal(t, http.StatusNotFound, w.Code, "%s %s", tt.method, tt.path)
		require.Equal(t, `{"errors":[{"status":404,"detail":"Not Found"}]}`, w.Body.String())
	}
}

func TestBodyTooLarge(t *testing.T) {
	// Declared lengths are refused by the engine before the dialect runs;
	// a chunked body over the bound fails while being read.
	body := `{"data":{"type":"access-tokens","attributes":{"username":"` + strings.Repeat("a", 2<<20) + `"}}}`
	req := httptest.NewRequest(http.MethodPost, PathAccessTokens, strings.NewReader(body))
	req.ContentLength = -1
	w := httptest.NewRecorder()
	newEngine(t, &fakeCore{}, nil).ServeHTTP(w, req)
	require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	require.Equal(t, `{"errors":[{"status":413,"detail":"Request body is too large."}]}`, w.Body.String())
}

var claimsOf21 = tokens.AccessClaims{Subject: "21", ClientID: "spryker-glue", Shop: "acme12aa", Scope: "customer offline_access", JTI: "j"}
