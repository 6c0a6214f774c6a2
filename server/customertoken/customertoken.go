// Package customertoken is the one check every customer-facing protected
// route of a legacy dialect makes of the Bearer token it is shown
// (docs/security.md, "Customer-facing routes"): the token is a live
// access token of this issuer for a customer of the route's shop, issued
// to the dialect's client or to a client configured for it (one whose
// tokens name the dialect's client in aud: `client add --audience`), and
// it carries the scope customer. Anything else is refusal.InvalidToken,
// which each dialect answers with its own 401. /userinfo keeps the OIDC
// rules (server/userinfo) and does not use this package.
package customertoken

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
)

// Scope is the scope a customer-facing route needs: the first-party scope
// the dialects' logins grant ("use your customer account").
const Scope = "customer"

// Route is what a protected route serves: the dialect's client and the
// shop whose customers it answers for.
type Route struct {
	// ClientID is the dialect's client (SHOPAUTH_SPRYKER_CLIENT,
	// SHOPAUTH_SHOPKEY_CLIENT).
	ClientID string
	// Shop is the shop of the route: the configured Spryker shop, or the
	// shopKey of the path.
	Shop string
}

// Accepts reports whether verified claims may be used on the route: a
// customer's token of the route's shop, issued to the route's client or
// naming it as an audience, with Scope.
func (r Route) Accepts(c tokens.AccessClaims) bool {
	if r.ClientID == "" || r.Shop == "" {
		return false
	}
	if _, ok := c.CustomerID(); !ok || c.Shop != r.Shop {
		return false
	}
	if c.ClientID != r.ClientID && !c.Audience.Contains(r.ClientID) {
		return false
	}
	return HasScope(c)
}

// HasScope reports whether the token carries Scope, in `scope` or in the
// Spryker profile's `scopes`.
func HasScope(c tokens.AccessClaims) bool {
	return slices.Contains(strings.Fields(c.Scope), Scope) || slices.Contains(c.Scopes, Scope)
}

// Verifier checks signature, time claims and the revocation list;
// *tokens.Verifier implements it.
type Verifier interface {
	VerifyAccessToken(ctx context.Context, raw string) (tokens.AccessClaims, error)
}

var _ Verifier = (*tokens.Verifier)(nil)

// Checker checks Bearer tokens for customer-facing routes.
type Checker struct {
	tokens Verifier
}

// New returns a Checker over v.
func New(v Verifier) (*Checker, error) {
	if v == nil {
		return nil, errors.New("customertoken: a Verifier is required")
	}
	return &Checker{tokens: v}, nil
}

// Check returns the claims of raw when the route accepts it. A token that
// is missing, invalid, revoked or not the route's is refusal.InvalidToken
// (RFC 6750 §3.1); a fault of the verifier (the revocation list
// unreachable) is returned as it is, never as a bad token.
func (c *Checker) Check(ctx context.Context, r Route, raw string) (tokens.AccessClaims, error) {
	if raw == "" {
		return tokens.AccessClaims{}, refusal.ErrInvalidToken
	}
	claims, err := c.tokens.VerifyAccessToken(ctx, raw)
	if errors.Is(err, tokens.ErrInvalidToken) {
		return tokens.AccessClaims{}, refusal.ErrInvalidToken.WithCause(err)
	}
	if err != nil {
		return tokens.AccessClaims{}, err
	}
	if !r.Accepts(claims) {
		return tokens.AccessClaims{}, refusal.ErrInvalidToken
	}
	return claims, nil
}
