package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/server/tokens"
)

// CustomerTokenStore revokes refresh-token families on a customer's behalf.
// Both operations take the families' issued access tokens with them and
// leave every other customer's tokens alone.
type CustomerTokenStore interface {
	RevokeCustomerRefreshFamily(ctx context.Context, customerID uint64, shopKey, tokenHash string, now time.Time) (int64, error)
	RevokeCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string, now time.Time) (int64, error)
}

var errNoCustomerTokens = errors.New("server: no CustomerTokens store configured")

// RevokeCustomerRefreshToken revokes the family of refreshToken (RFC 7009
// §2.1: with the access tokens issued from it) if the token belongs to
// customerID in shopKey. A token that does not — unknown, another
// customer's, another shop's — is left untouched and is not an error: the
// caller, who authenticated as customerID, learns nothing about it.
func (a *Authority) RevokeCustomerRefreshToken(ctx context.Context, customerID uint64, shopKey, refreshToken string) error {
	if a.customerTokens == nil {
		return errNoCustomerTokens
	}
	n, err := a.customerTokens.RevokeCustomerRefreshFamily(ctx, customerID, shopKey, tokens.HashToken(refreshToken), a.now())
	if err != nil {
		return fmt.Errorf("revoke customer refresh token: %w", err)
	}
	a.logger.InfoContext(ctx, "customer revoked a refresh token", "customer_id", customerID, "shop", shopKey, "revoked", n)
	return nil
}

// RevokeAllCustomerRefreshTokens revokes every live refresh-token family of
// customerID in shopKey, whichever client it was issued to ("log out
// everywhere"), with the access tokens issued from them.
func (a *Authority) RevokeAllCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string) error {
	if a.customerTokens == nil {
		return errNoCustomerTokens
	}
	n, err := a.customerTokens.RevokeCustomerRefreshTokens(ctx, customerID, shopKey, a.now())
	if err != nil {
		return fmt.Errorf("revoke customer refresh tokens: %w", err)
	}
	a.logger.InfoContext(ctx, "customer revoked all refresh tokens", "customer_id", customerID, "shop", shopKey, "revoked", n)
	return nil
}
