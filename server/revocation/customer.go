package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// CustomerConfig holds the customer revocation's dependencies.
type CustomerConfig struct {
	Store  CustomerTokenStore
	Now    func() time.Time
	Logger *slog.Logger
}

// Customer revokes a customer's refresh tokens at the customer's request.
type Customer struct {
	cfg CustomerConfig
}

// NewCustomer checks cfg and returns a Customer.
func NewCustomer(cfg CustomerConfig) (*Customer, error) {
	if cfg.Store == nil {
		return nil, errors.New("revocation: a CustomerTokenStore is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Customer{cfg: cfg}, nil
}

// RevokeCustomerRefreshToken revokes the family of refreshToken (RFC 7009
// §2.1: with the access tokens issued from it) if the token belongs to
// customerID in shopKey. A token that does not — unknown, another
// customer's, another shop's — is left untouched and is not an error: the
// caller, who authenticated as customerID, learns nothing about it.
func (c *Customer) RevokeCustomerRefreshToken(ctx context.Context, customerID uint64, shopKey, refreshToken string) error {
	n, err := c.cfg.Store.RevokeCustomerRefreshFamily(ctx, customerID, shopKey, tokens.HashToken(refreshToken), c.cfg.Now())
	if err != nil {
		return fmt.Errorf("revoke customer refresh token: %w", err)
	}
	c.cfg.Logger.InfoContext(ctx, "customer revoked a refresh token", "customer_id", customerID, "shop", shopKey, "revoked", n)
	return nil
}

// RevokeAllCustomerRefreshTokens revokes every live refresh-token family of
// customerID in shopKey, whichever client it was issued to ("log out
// everywhere"), with the access tokens issued from them.
func (c *Customer) RevokeAllCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string) error {
	n, err := c.cfg.Store.RevokeCustomerRefreshTokens(ctx, customerID, shopKey, c.cfg.Now())
	if err != nil {
		return fmt.Errorf("revoke customer refresh tokens: %w", err)
	}
	c.cfg.Logger.InfoContext(ctx, "customer revoked all refresh tokens", "customer_id", customerID, "shop", shopKey, "revoked", n)
	return nil
}
