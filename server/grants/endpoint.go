package grants

import (
	"context"
	"errors"
	"slices"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/refusal"
)

// Grant runs one grant type for an authenticated client whose allow-list
// has it.
type Grant interface {
	Run(ctx context.Context, client *clients.Info, req server.TokenRequest) (*server.TokenResponse, error)
}

// ClientAuthenticator is the shared client-authentication step;
// *clients.Authenticator implements it.
type ClientAuthenticator interface {
	Authenticate(ctx context.Context, creds server.ClientCredentials) (*clients.Info, error)
	Trusted(ctx context.Context, id string) (*clients.Info, error)
}

// Observer is told the outcome of every grant, so that metrics see every
// dialect without each handler counting for itself. Its methods must be
// cheap and safe for concurrent use.
type Observer interface {
	// TokenIssued counts a grant that issued tokens to an authenticated
	// client (a registered, hence bounded, client id).
	TokenIssued(grant, dialect, clientID string)
	// TokenFailed counts a refused or failed grant. reason is the RFC 6749
	// error code, or "server_error" for faults. No client id: an
	// unauthenticated one is whatever the caller sent.
	TokenFailed(grant, dialect, reason string)
}

var (
	_ ClientAuthenticator = (*clients.Authenticator)(nil)
	_ Grant               = (*Password)(nil)
	_ Grant               = (*Refresh)(nil)
	_ Grant               = (*AuthorizationCode)(nil)
	_ Grant               = (*ClientCredentials)(nil)
)

// Config holds the endpoint's dependencies: the client-authentication step
// and one Grant per grant type.
type Config struct {
	Issuer            string
	Clients           ClientAuthenticator
	Password          Grant
	RefreshToken      Grant
	AuthorizationCode Grant
	ClientCredentials Grant
	// Observer is told every grant's outcome (metrics); nil: nobody.
	Observer Observer
}

// Endpoint is the token endpoint every dialect calls: one path issues
// tokens.
type Endpoint struct {
	cfg Config
}

// New checks cfg and returns an Endpoint.
func New(cfg Config) (*Endpoint, error) {
	if cfg.Issuer == "" || cfg.Clients == nil || cfg.Password == nil || cfg.RefreshToken == nil ||
		cfg.AuthorizationCode == nil || cfg.ClientCredentials == nil {
		return nil, errors.New("grants: Issuer, Clients and every Grant are required")
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return &Endpoint{cfg: cfg}, nil
}

// Issuer is the `iss` of every token.
func (e *Endpoint) Issuer() string { return e.cfg.Issuer }

// Token runs one grant: client authentication first, then the grant
// allow-list, then the grant itself (RFC 6749 §4.3.2, §6). Errors are
// refusals, or plain errors for faults.
func (e *Endpoint) Token(ctx context.Context, req server.TokenRequest) (*server.TokenResponse, error) {
	resp, err := e.token(ctx, req, false)
	e.observe(req, resp, err)
	return resp, err
}

// AdapterToken runs a grant for a legacy dialect's configured client. The
// adapter route is the client: no secret is checked, every other rule is.
func (e *Endpoint) AdapterToken(ctx context.Context, clientID string, req server.TokenRequest) (*server.TokenResponse, error) {
	req.Client = server.ClientCredentials{ID: clientID, Method: server.ClientAuthNone}
	resp, err := e.token(ctx, req, true)
	e.observe(req, resp, err)
	return resp, err
}

func (e *Endpoint) token(ctx context.Context, req server.TokenRequest, trusted bool) (*server.TokenResponse, error) {
	if req.GrantType == "" {
		return nil, refusal.New(refusal.InvalidRequest, "The grant_type parameter is required.")
	}
	grant := e.grant(req.GrantType)
	if grant == nil {
		return nil, refusal.ErrUnsupportedGrantType
	}
	var client *clients.Info
	var err error
	if trusted {
		client, err = e.cfg.Clients.Trusted(ctx, req.Client.ID)
	} else {
		client, err = e.cfg.Clients.Authenticate(ctx, req.Client)
	}
	if err != nil {
		return nil, err
	}
	if !client.AllowsGrant(req.GrantType) {
		return nil, refusal.ErrUnauthorizedClient
	}
	return grant.Run(ctx, client, req)
}

// grant is the Grant of grantType, nil for one not implemented.
func (e *Endpoint) grant(grantType string) Grant {
	switch grantType {
	case server.GrantPassword:
		return e.cfg.Password
	case server.GrantRefreshToken:
		return e.cfg.RefreshToken
	case server.GrantAuthorizationCode:
		return e.cfg.AuthorizationCode
	case server.GrantClientCredentials:
		return e.cfg.ClientCredentials
	}
	return nil
}

// Metric labels for what the caller sent that names nothing bounded: the
// label must not echo what a caller typed, or an attacker could grow the
// metric without bound.
const (
	dialectOther = "other"
	grantOther   = "other"
)

// observe reports the outcome of req to the observer with bounded labels.
func (e *Endpoint) observe(req server.TokenRequest, resp *server.TokenResponse, err error) {
	grant := req.GrantType
	if !slices.Contains(server.SupportedGrantTypes(), grant) {
		grant = grantOther
	}
	dialect := req.Dialect
	if dialect == "" {
		dialect = dialectOther
	}
	if err == nil {
		e.cfg.Observer.TokenIssued(grant, dialect, resp.Client.ID)
		return
	}
	e.cfg.Observer.TokenFailed(grant, dialect, oautherr.From(err).Code)
}

// nopObserver is the Observer of an Endpoint configured without one.
type nopObserver struct{}

func (nopObserver) TokenIssued(string, string, string) {}
func (nopObserver) TokenFailed(string, string, string) {}
