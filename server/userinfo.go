package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// UserInfo returns the claims that a live access token's scopes release
// about its customer (OIDC Core §5.3). A bad, expired or revoked token, or
// one whose customer is gone or disabled, is oautherr.ErrInvalidToken; a
// token granted without openid is oautherr.ErrInsufficientScope (OIDC Core
// §5.3: UserInfo serves tokens of OpenID requests only).
func (a *Authority) UserInfo(ctx context.Context, accessToken string) (tokens.UserClaims, error) {
	claims, err := a.verifier.VerifyAccessToken(ctx, accessToken)
	if errors.Is(err, tokens.ErrInvalidToken) {
		return tokens.UserClaims{}, oautherr.ErrInvalidToken.WithCause(err)
	}
	if err != nil {
		return tokens.UserClaims{}, err
	}
	scopes := strings.Fields(claims.Scope)
	if !slices.Contains(scopes, ScopeOpenID) {
		return tokens.UserClaims{}, oautherr.ErrInsufficientScope.WithDescription("The access token was not granted the openid scope.")
	}
	customer, err := a.tokenCustomer(ctx, claims)
	if err != nil {
		return tokens.UserClaims{}, err
	}
	return userClaims(customer, scopes), nil
}

// errNoCustomer is why a token whose customer is gone or disabled stops
// counting as live.
var errNoCustomer = errors.New("server: the token's customer is unknown or disabled")

// tokenCustomer loads the live customer an access token speaks for, or
// returns oautherr.ErrInvalidToken.
func (a *Authority) tokenCustomer(ctx context.Context, c tokens.AccessClaims) (storage.Customer, error) {
	id, ok := c.CustomerID()
	if !ok {
		return storage.Customer{}, oautherr.ErrInvalidToken.WithCause(errNoCustomer)
	}
	return a.liveCustomer(ctx, c.Shop, id)
}

// liveCustomer loads a customer who may still use tokens, or returns
// oautherr.ErrInvalidToken.
func (a *Authority) liveCustomer(ctx context.Context, shopKey string, id uint64) (storage.Customer, error) {
	customer, err := a.customers.GetCustomer(ctx, shopKey, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !customer.MayUseTokens()) {
		return storage.Customer{}, oautherr.ErrInvalidToken.WithCause(errNoCustomer)
	}
	if err != nil {
		return storage.Customer{}, fmt.Errorf("load customer: %w", err)
	}
	return customer, nil
}
