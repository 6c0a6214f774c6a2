package userinfo

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
)

// AccessTokens verifies access tokens; *tokens.Verifier implements it.
type AccessTokens interface {
	VerifyAccessToken(ctx context.Context, raw string) (tokens.AccessClaims, error)
}

var _ AccessTokens = (*tokens.Verifier)(nil)

// Config holds the endpoint's dependencies.
type Config struct {
	AccessTokens AccessTokens
	Customers    customers.Reader
}

// Endpoint is the UserInfo endpoint.
type Endpoint struct {
	cfg Config
}

// New checks cfg and returns an Endpoint.
func New(cfg Config) (*Endpoint, error) {
	if cfg.AccessTokens == nil || cfg.Customers == nil {
		return nil, errors.New("userinfo: AccessTokens and Customers are required")
	}
	return &Endpoint{cfg: cfg}, nil
}

// UserInfo returns the claims that a live access token's scopes release
// about its customer (OIDC Core §5.3). A bad, expired or revoked token, or
// one whose customer is gone or disabled, is InvalidToken; a token granted
// without openid is InsufficientScope (OIDC Core §5.3: UserInfo serves
// tokens of OpenID requests only).
func (e *Endpoint) UserInfo(ctx context.Context, accessToken string) (tokens.UserClaims, error) {
	claims, err := e.cfg.AccessTokens.VerifyAccessToken(ctx, accessToken)
	if errors.Is(err, tokens.ErrInvalidToken) {
		return tokens.UserClaims{}, refusal.ErrInvalidToken.WithCause(err)
	}
	if err != nil {
		return tokens.UserClaims{}, err
	}
	scopes := strings.Fields(claims.Scope)
	if !slices.Contains(scopes, server.ScopeOpenID) {
		return tokens.UserClaims{}, refusal.New(refusal.InsufficientScope, "The access token was not granted the openid scope.")
	}
	customer, err := customers.LiveOf(ctx, e.cfg.Customers, claims)
	if errors.Is(err, customers.ErrGone) {
		return tokens.UserClaims{}, refusal.ErrInvalidToken.WithCause(err)
	}
	if err != nil {
		return tokens.UserClaims{}, err
	}
	return tokens.UserClaimsOf(customer, scopes), nil
}
