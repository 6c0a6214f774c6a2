package authorize

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// memory is an in-memory store of everything the endpoint reads and
// writes.
type memory struct {
	mu       sync.Mutex
	clients  map[string]storage.Client
	shops    map[string]storage.Shop
	customer storage.Customer
	codes    []storage.AuthorizationCode
	consents map[string]storage.Consent
	sessions map[string]storage.BrowserSession
}

func (m *memory) GetClient(_ context.Context, id string) (storage.Client, error) {
	if c, ok := m.clients[id]; ok {
		return c, nil
	}
	return storage.Client{}, storage.ErrNotFound
}

func (m *memory) GetShop(_ context.Context, key string) (storage.Shop, error) {
	if s, ok := m.shops[key]; ok {
		return s, nil
	}
	return storage.Shop{}, storage.ErrNotFound
}

func (m *memory) GetCustomer(_ context.Context, shop string, id uint64) (storage.Customer, error) {
	if m.customer.ID != id || m.customer.ShopKey != shop {
		return storage.Customer{}, storage.ErrNotFound
	}
	return m.customer, nil
}

func (m *memory) CreateAuthorizationCode(_ context.Context, c storage.AuthorizationCode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.codes = append(m.codes, c)
	return nil
}

func (m *memory) SaveConsent(_ context.Context, c storage.Consent) error {
	m.consents[c.ClientID] = c
	return nil
}

func (m *memory) GetConsent(_ context.Context, _ uint64, clientID string) (storage.Consent, error) {
	if c, ok := m.consents[clientID]; ok {
		return c, nil
	}
	return storage.Consent{}, storage.ErrNotFound
}

func (m *memory) CreateBrowserSession(_ context.Context, s storage.BrowserSession) error {
	m.sessions[s.IDHash] = s
	return nil
}

func (m *memory) GetBrowserSession(_ context.Context, h string) (storage.BrowserSession, error) {
	if s, ok := m.sessions[h]; ok {
		return s, nil
	}
	return storage.BrowserSession{}, storage.ErrNotFound
}

func (m *memory) DeleteBrowserSession(_ context.Context, h string) error {
	delete(m.sessions, h)
	return nil
}

// passwordIs accepts one password for the memory's customer.
type passwordIs struct {
	m        *memory
	password string
}

func (p passwordIs) Allow(string) error { return nil }

func (p passwordIs) Authenticate(_ context.Context, _, email, password string) (storage.Customer, error) {
	if email != p.m.customer.Email || password != p.password {
		return storage.Customer{}, refusal.ErrBadCredentials
	}
	return p.m.customer, nil
}

const (
	cb        = "https://printer.example/cb"
	challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func newEndpoint(t *testing.T) (*Endpoint, *memory) {
	t.Helper()
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	verified := now.Add(-time.Hour)
	m := &memory{
		clients: map[string]storage.Client{
			"printer": {ID: "printer", Public: true, ShopKey: "acme12aa", RedirectURIs: []string{cb},
				GrantTypes: []string{server.GrantAuthorizationCode}, Scopes: []string{"openid", "email"}},
			"storefront": {ID: "storefront", SecretHash: "x", ShopKey: "acme12aa", RedirectURIs: []string{cb}, FirstParty: true,
				GrantTypes: []string{server.GrantAuthorizationCode}, Scopes: []string{"openid"}},
			"machine": {ID: "machine", SecretHash: "x", ShopKey: "acme12aa", RedirectURIs: []string{cb},
				GrantTypes: []string{server.GrantClientCredentials}},
		},
		shops:    map[string]storage.Shop{"acme12aa": {Key: "acme12aa", Active: true}},
		customer: storage.Customer{ID: 21, ShopKey: "acme12aa", Email: "sonia@spryker.com", EmailVerifiedAt: &verified},
		consents: map[string]storage.Consent{}, sessions: map[string]storage.BrowserSession{},
	}
	e, err := New(Config{
		Issuer: "https://auth.example.com", Clients: m, Shops: m, Customers: m, Login: passwordIs{m, "change123"},
		Codes: m, Consents: m, Sessions: m, SessionTTL: time.Hour, Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	return e, m
}

func request(client, redirect string) Request {
	return Request{ClientID: client, RedirectURI: redirect, ResponseType: "code", Scope: "openid", State: "xyz",
		CodeChallenge: challenge, CodeChallengeMethod: "S256"}
}

// TestValidate: the redirect URI matches exactly or the error is shown on
// a page, never redirected (RFC 6749 §4.1.2.1, RFC 9700 §2.1); after that,
// errors go to the client with state and iss.
func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		req   func() Request
		step  Step
		error string // the redirect's error, or the page's description
	}{
		{"valid: the login page", func() Request { return request("printer", cb) }, StepLogin, ""},
		{"unknown client", func() Request { return request("ghost", cb) }, StepError, "The client is unknown."},
		{"redirect URI with a trailing slash", func() Request { return request("printer", cb+"/") }, StepError, "The redirect_uri is not registered for this client."},
		{"redirect URI by prefix", func() Request { return request("printer", cb+"x") }, StepError, "The redirect_uri is not registered for this client."},
		{"redirect URI of another host", func() Request { return request("printer", "https://evilprinter.example/cb") }, StepError, "The redirect_uri is not registered for this client."},
		{"redirect URI with another query", func() Request { return request("printer", cb+"?a=b") }, StepError, "The redirect_uri is not registered for this client."},
		{"no redirect URI", func() Request { return request("printer", "") }, StepError, "The redirect_uri parameter is required."},
		{"repeated redirect_uri", func() Request { r := request("printer", cb); r.Repeated = "redirect_uri"; return r }, StepError, "The parameter redirect_uri is repeated."},
		{"public client without PKCE", func() Request { r := request("printer", cb); r.CodeChallenge, r.CodeChallengeMethod = "", ""; return r }, StepRedirect, "invalid_request"},
		{"plain PKCE", func() Request { r := request("printer", cb); r.CodeChallengeMethod = "plain"; return r }, StepRedirect, "invalid_request"},
		{"PKCE method absent means plain", func() Request { r := request("printer", cb); r.CodeChallengeMethod = ""; return r }, StepRedirect, "invalid_request"},
		{"malformed challenge", func() Request { r := request("printer", cb); r.CodeChallenge = "short"; return r }, StepRedirect, "invalid_request"},
		{"token response type", func() Request { r := request("printer", cb); r.ResponseType = "token"; return r }, StepRedirect, "unsupported_response_type"},
		{"a client without the grant", func() Request { return request("machine", cb) }, StepRedirect, "unauthorized_client"},
		{"scope outside the client's", func() Request { r := request("printer", cb); r.Scope = "admin"; return r }, StepRedirect, "invalid_scope"},
		{"prompt=none without a session", func() Request { r := request("printer", cb); r.Prompt = "none"; return r }, StepRedirect, "login_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, m := newEndpoint(t)
			out, err := e.Authorize(context.Background(), tt.req(), "")
			require.NoError(t, err)
			require.Equal(t, tt.step, out.Step)
			require.Empty(t, m.codes)
			switch tt.step {
			case StepError:
				require.Equal(t, tt.error, out.Error.Description)
				require.Empty(t, out.RedirectURL, "never redirected")
			case StepRedirect:
				u, err := url.Parse(out.RedirectURL)
				require.NoError(t, err)
				require.True(t, strings.HasPrefix(out.RedirectURL, cb+"?"))
				require.Equal(t, tt.error, u.Query().Get("error"))
				require.Equal(t, "xyz", u.Query().Get("state"))
				require.Equal(t, "https://auth.example.com", u.Query().Get("iss"), "RFC 9207")
			}
		})
	}
}

// TestLoginIssuesCode: a login starts a session and, for a first-party
// client, answers with a code bound to the request; a wrong password
// shows the page again with the refusal.
func TestLoginIssuesCode(t *testing.T) {
	e, m := newEndpoint(t)
	req := request("storefront", cb)
	req.Nonce = "n-1"
	out, err := e.Login(context.Background(), req, "", LoginAttempt{Email: "sonia@spryker.com", Password: "nope"})
	require.NoError(t, err)
	require.Equal(t, StepLogin, out.Step)
	require.Equal(t, refusal.BadCredentials, out.Problem.Kind)
	require.Empty(t, m.sessions)

	out, err = e.Login(context.Background(), req, "", LoginAttempt{Email: "sonia@spryker.com", Password: "change123"})
	require.NoError(t, err)
	require.Equal(t, StepRedirect, out.Step)
	require.NotNil(t, out.Session)
	require.Contains(t, m.sessions, tokens.HashToken(out.Session.Token))
	u, err := url.Parse(out.RedirectURL)
	require.NoError(t, err)
	code := u.Query().Get("code")
	require.Len(t, m.codes, 1)
	c := m.codes[0]
	require.Equal(t, tokens.HashToken(code), c.CodeHash)
	require.Equal(t, cb, c.RedirectURI)
	require.Equal(t, challenge, c.CodeChallenge)
	require.Equal(t, "n-1", c.Nonce)
	require.Equal(t, c.IssuedAt.Add(server.CodeTTL), c.ExpiresAt)
	require.Equal(t, tokens.HashToken(out.Session.Token), c.SessionHash, "the code remembers its browser session")
}

// families records which sessions' families were ended, or fails.
type families struct {
	ended []string
	err   error
}

func (f *families) RevokeSessionRefreshTokens(_ context.Context, sessionHash string, _ time.Time) (int64, error) {
	if f.err != nil {
		return 0, f.err
	}
	f.ended = append(f.ended, sessionHash)
	return 1, nil
}

// noHints knows no ID token.
type noHints struct{}

func (noHints) ParseIDTokenHint(string) (tokens.IDTokenHint, error) {
	return tokens.IDTokenHint{}, tokens.ErrInvalidToken
}

// TestLogoutEndsTheSessionsFamilies: a confirmed logout ends the session's
// families before the session; should that fail, the session stands and
// the logout is an error; an unconfirmed one ends nothing.
func TestLogoutEndsTheSessionsFamilies(t *testing.T) {
	e, m := newEndpoint(t)
	out, err := e.Login(context.Background(), request("storefront", cb), "", LoginAttempt{Email: "sonia@spryker.com", Password: "change123"})
	require.NoError(t, err)
	session := out.Session.Token
	f := &families{}
	l, err := NewLogout(LogoutConfig{Hints: noHints{}, Clients: m, Shops: m, Sessions: m, Families: f})
	require.NoError(t, err)

	step, err := l.EndSession(context.Background(), LogoutRequest{}, session, false)
	require.NoError(t, err)
	require.Equal(t, LogoutConfirm, step.Step)
	require.Empty(t, f.ended, "nothing ends before the customer confirms")

	f.err = storage.ErrUnavailable
	_, err = l.EndSession(context.Background(), LogoutRequest{}, session, true)
	require.ErrorIs(t, err, storage.ErrUnavailable)
	require.Contains(t, m.sessions, tokens.HashToken(session), "the session stands when its families could not be ended")

	f.err = nil
	step, err = l.EndSession(context.Background(), LogoutRequest{}, session, true)
	require.NoError(t, err)
	require.Equal(t, LogoutDone, step.Step)
	require.Equal(t, []string{tokens.HashToken(session)}, f.ended)
	require.NotContains(t, m.sessions, tokens.HashToken(session))

	_, err = NewLogout(LogoutConfig{Hints: noHints{}, Clients: m, Shops: m, Sessions: m})
	require.Error(t, err, "Families is required")
}
