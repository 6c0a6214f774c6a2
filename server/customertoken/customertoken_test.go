package customertoken

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
)

// verifier answers claims by raw token, or err.
type verifier struct {
	claims map[string]tokens.AccessClaims
	err    error
}

func (v verifier) VerifyAccessToken(_ context.Context, raw string) (tokens.AccessClaims, error) {
	if v.err != nil {
		return tokens.AccessClaims{}, v.err
	}
	c, ok := v.claims[raw]
	if !ok {
		return tokens.AccessClaims{}, tokens.ErrInvalidToken
	}
	return c, nil
}

// TestRouteAccepts: only a customer's token of the route's shop, issued to
// the route's client or naming it in aud, with the customer scope.
func TestRouteAccepts(t *testing.T) {
	route := Route{ClientID: "shopkey-storefront", Shop: "acme"}
	own := tokens.AccessClaims{Subject: "21", ClientID: "shopkey-storefront", Audience: tokens.Audience{"shopkey-storefront"}, Shop: "acme", Scope: "customer"}
	with := func(f func(*tokens.AccessClaims)) tokens.AccessClaims { c := own; f(&c); return c }
	for _, tt := range []struct {
		name   string
		claims tokens.AccessClaims
		route  Route
		want   bool
	}{
		{"the dialect's own token", own, route, true},
		{"a client configured for the dialect (aud)", with(func(c *tokens.AccessClaims) {
			c.ClientID, c.Audience, c.Scope = "partner", tokens.Audience{"partner-api", "shopkey-storefront"}, "openid customer"
		}), route, true},
		{"Spryker profile: sub is JSON, scopes an array", with(func(c *tokens.AccessClaims) {
			c.Subject, c.Scope, c.Scopes = `{"id_customer":21}`, "", []string{"customer"}
		}), route, true},
		{"another client, aud its own", with(func(c *tokens.AccessClaims) {
			c.ClientID, c.Audience = "storefront", tokens.Audience{"storefront"}
		}), route, false},
		{"third-party app with openid only", with(func(c *tokens.AccessClaims) {
			c.ClientID, c.Audience, c.Scope = "app", tokens.Audience{"app"}, "openid"
		}), route, false},
		{"the dialect's client without the customer scope", with(func(c *tokens.AccessClaims) { c.Scope = "offline_access" }), route, false},
		{"a scope that merely contains the word", with(func(c *tokens.AccessClaims) { c.Scope = "customers customer:read" }), route, false},
		{"configured partner without the customer scope", with(func(c *tokens.AccessClaims) {
			c.ClientID, c.Audience, c.Scope = "partner", tokens.Audience{"shopkey-storefront"}, "openid"
		}), route, false},
		{"another shop", with(func(c *tokens.AccessClaims) { c.Shop = "other" }), route, false},
		{"no customer (a machine client's token)", with(func(c *tokens.AccessClaims) { c.Subject = "shopkey-storefront" }), route, false},
		{"a route without a client accepts nothing", own, Route{Shop: "acme"}, false},
		{"a route without a shop accepts nothing", own, Route{ClientID: "shopkey-storefront"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.route.Accepts(tt.claims))
		})
	}
}

// TestCheck: a refused token is InvalidToken; a verifier fault stays a
// fault, never a bad token.
func TestCheck(t *testing.T) {
	route := Route{ClientID: "spryker-glue", Shop: "acme"}
	good := tokens.AccessClaims{Subject: "21", ClientID: "spryker-glue", Shop: "acme", Scope: "customer offline_access"}
	foreign := tokens.AccessClaims{Subject: "21", ClientID: "app", Audience: tokens.Audience{"app"}, Shop: "acme", Scope: "customer"}
	c, err := New(verifier{claims: map[string]tokens.AccessClaims{"good": good, "foreign": foreign}})
	require.NoError(t, err)

	got, err := c.Check(context.Background(), route, "good")
	require.NoError(t, err)
	require.Equal(t, good, got)
	for _, raw := range []string{"", "garbage", "foreign"} {
		_, err := c.Check(context.Background(), route, raw)
		require.Equal(t, refusal.InvalidToken, refusal.Of(err).Kind, raw)
	}

	fault := errors.New("revocation list unreachable")
	c, err = New(verifier{err: fault})
	require.NoError(t, err)
	_, err = c.Check(context.Background(), route, "good")
	require.ErrorIs(t, err, fault)
	require.NotEqual(t, refusal.InvalidToken, refusal.Of(err).Kind)

	_, err = New(nil)
	require.Error(t, err)
}
