package introspection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ClientAuthenticator is the shared client-authentication step;
// *clients.Authenticator implements it.
type ClientAuthenticator interface {
	Authenticate(ctx context.Context, creds server.ClientCredentials) (*clients.Info, error)
}

// AccessTokens checks access tokens; *tokens.Verifier implements it.
type AccessTokens interface {
	ParseAccessToken(raw string) (tokens.AccessClaims, error)
	CheckRevocation(ctx context.Context, jti string) error
}

// TokenHolders reads a customer together with the revocation of one of
// their tokens, in one query: every introspection asks it.
type TokenHolders interface {
	GetTokenHolder(ctx context.Context, shopKey string, id uint64, jti string) (storage.TokenHolder, error)
}

// RefreshTokens finds refresh tokens.
type RefreshTokens interface {
	GetRefreshToken(ctx context.Context, tokenHash string) (storage.RefreshToken, error)
}

var (
	_ ClientAuthenticator = (*clients.Authenticator)(nil)
	_ AccessTokens        = (*tokens.Verifier)(nil)
)

// Config holds the endpoint's dependencies.
type Config struct {
	Issuer       string
	Clients      ClientAuthenticator
	AccessTokens AccessTokens
	Holders      TokenHolders
	Refresh      RefreshTokens
	Customers    customers.Reader
	Now          func() time.Time
}

// Endpoint is the introspection endpoint.
type Endpoint struct {
	cfg Config
}

// New checks cfg and returns an Endpoint.
func New(cfg Config) (*Endpoint, error) {
	if cfg.Issuer == "" || cfg.Clients == nil || cfg.AccessTokens == nil || cfg.Holders == nil || cfg.Refresh == nil || cfg.Customers == nil {
		return nil, errors.New("introspection: Issuer, Clients, AccessTokens, Holders, Refresh and Customers are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Endpoint{cfg: cfg}, nil
}

// Result is the RFC 7662 §2.2 answer about one token. When Active is
// false nothing else is set: the reason is not told (RFC 7662 §2.2).
type Result struct {
	Active    bool
	Scope     string
	ClientID  string
	Username  string // the customer's e-mail address
	TokenType string // "Bearer" for access tokens, TokenTypeRefresh for refresh tokens
	ExpiresAt int64
	IssuedAt  int64
	NotBefore int64
	Subject   string
	Audience  []string
	Issuer    string
	JTI       string
}

// TokenTypeRefresh is the token_type introspection reports for refresh
// tokens, which have no RFC 6749 §7.1 access token type.
const TokenTypeRefresh = "refresh_token"

var inactive = Result{}

// errPublicIntrospection: RFC 7662 §2.1 requires authorization to stop
// token scanning, and a public client proves nothing.
var errPublicIntrospection = refusal.New(refusal.InvalidClient, "Introspection requires a confidential client.")

// Introspect tells an authenticated confidential client whether a token is
// active (RFC 7662). Expired, revoked, spent, foreign-signed and malformed
// tokens are inactive, as are tokens whose customer is gone or disabled,
// and tokens the caller may not see: an access token is visible to the
// client it was issued to and to the clients named in its aud (the resource
// servers, RFC 7662 §4); a refresh token only to its own client.
func (e *Endpoint) Introspect(ctx context.Context, q server.TokenQuery) (Result, error) {
	client, err := e.cfg.Clients.Authenticate(ctx, q.Client)
	if err != nil {
		return inactive, err
	}
	if client.IsPublic() {
		return inactive, errPublicIntrospection
	}
	if q.Token == "" {
		return inactive, refusal.New(refusal.InvalidRequest, "The token parameter is required.")
	}
	for _, kind := range server.LookupOrder(q.TokenTypeHint) {
		var (
			result Result
			found  bool
			err    error
		)
		switch kind {
		case server.TokenTypeHintAccessToken:
			result, found, err = e.introspectAccess(ctx, client, q.Token)
		case server.TokenTypeHintRefreshToken:
			result, found, err = e.introspectRefresh(ctx, client, q.Token)
		}
		if err != nil || found {
			return result, err
		}
	}
	return inactive, nil
}

// introspectAccess reports found=false when raw is no live access token of
// this issuer (signature, type, time claims and revocation are checked).
// A customer's token costs one read: the customer and the revocation list
// together.
func (e *Endpoint) introspectAccess(ctx context.Context, caller *clients.Info, raw string) (Result, bool, error) {
	c, err := e.cfg.AccessTokens.ParseAccessToken(raw)
	if errors.Is(err, tokens.ErrInvalidToken) {
		return inactive, false, nil
	}
	if err != nil {
		return inactive, false, err
	}
	if c.ClientID != caller.ID && !c.Audience.Contains(caller.ID) {
		return inactive, true, nil
	}
	var username string
	switch id, forCustomer := c.CustomerID(); {
	case forCustomer:
		holder, err := e.cfg.Holders.GetTokenHolder(ctx, c.Shop, id, c.JTI)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return inactive, true, nil
		case err != nil:
			return inactive, false, fmt.Errorf("load customer: %w", err)
		case holder.Revoked:
			return inactive, false, nil
		case !holder.MayUseTokens():
			return inactive, true, nil
		}
		username = holder.Email
	case c.Subject != c.ClientID:
		// Neither a customer's token nor a client's own: nobody it can
		// speak for.
		return inactive, true, nil
	default:
		// A client_credentials token speaks for its client (sub =
		// client_id): only the revocation list applies.
		err := e.cfg.AccessTokens.CheckRevocation(ctx, c.JTI)
		if errors.Is(err, tokens.ErrInvalidToken) {
			return inactive, false, nil
		}
		if err != nil {
			return inactive, false, err
		}
	}
	return Result{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, Username: username, TokenType: "Bearer",
		ExpiresAt: c.ExpiresAt, IssuedAt: c.IssuedAt, NotBefore: c.NotBefore,
		Subject: c.Subject, Audience: c.Audience, Issuer: c.Issuer, JTI: c.JTI,
	}, true, nil
}

// introspectRefresh reports found=false when no refresh token has raw's
// hash.
func (e *Endpoint) introspectRefresh(ctx context.Context, caller *clients.Info, raw string) (Result, bool, error) {
	row, err := e.cfg.Refresh.GetRefreshToken(ctx, tokens.HashToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return inactive, false, nil
	}
	if err != nil {
		return inactive, false, fmt.Errorf("load refresh token: %w", err)
	}
	now := e.cfg.Now()
	if row.ClientID != caller.ID || row.SpentAt != nil || row.RevokedAt != nil || !now.Before(row.ExpiresAt) {
		return inactive, true, nil
	}
	customer, err := customers.Live(ctx, e.cfg.Customers, row.ShopKey, row.CustomerID)
	if errors.Is(err, customers.ErrGone) {
		return inactive, true, nil
	}
	if err != nil {
		return inactive, false, err
	}
	return Result{
		Active: true, Scope: row.Scope, ClientID: row.ClientID, Username: customer.Email, TokenType: TokenTypeRefresh,
		ExpiresAt: row.ExpiresAt.Unix(), IssuedAt: row.IssuedAt.Unix(), NotBefore: row.IssuedAt.Unix(),
		Subject: tokens.CustomerSubject(row.CustomerID), Audience: []string{row.ClientID}, Issuer: e.cfg.Issuer,
	}, true, nil
}
