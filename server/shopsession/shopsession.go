package shopsession

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/customertoken"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ShopStore reads shops.
type ShopStore interface {
	GetShop(ctx context.Context, key string) (storage.Shop, error)
}

// AccessTokens verifies access tokens; *tokens.Verifier implements it.
type AccessTokens interface {
	VerifyAccessToken(ctx context.Context, raw string) (tokens.AccessClaims, error)
}

// Revoker records revoked access-token jtis until the tokens expire.
type Revoker interface {
	RevokeAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
	// SpendAccessToken revokes like RevokeAccessToken but fails with
	// storage.ErrConflict when the jti is revoked already.
	SpendAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
}

// Families ties access tokens to the refresh families they were issued
// from: a logout ends the family of the token it is called with, and an
// exchanged token joins the old one's family, so that revoking the family
// revokes it too (docs/security.md).
type Families interface {
	RevokeAccessTokenFamily(ctx context.Context, jti string, now time.Time) (int64, error)
	AttachToFamilyOf(ctx context.Context, oldJTI string, access storage.IssuedAccessToken) (string, error)
}

// Minter mints access tokens; *tokens.Minter implements it.
type Minter interface {
	Mint(ctx context.Context, g tokens.Grant) (tokens.Minted, error)
}

var (
	_ AccessTokens = (*tokens.Verifier)(nil)
	_ Minter       = (*tokens.Minter)(nil)
)

// Config holds the sessions' dependencies.
type Config struct {
	Shops        ShopStore
	AccessTokens AccessTokens
	Customers    customers.Reader
	Clients      clients.Store
	Revoker      Revoker
	Families     Families
	Minter       Minter
	Now          func() time.Time
}

// Sessions serves the shopKey dialect's shop and token questions.
type Sessions struct {
	cfg    Config
	tokens *customertoken.Checker
}

// New checks cfg and returns Sessions.
func New(cfg Config) (*Sessions, error) {
	if cfg.Shops == nil || cfg.AccessTokens == nil || cfg.Customers == nil || cfg.Clients == nil || cfg.Revoker == nil ||
		cfg.Families == nil || cfg.Minter == nil {
		return nil, errors.New("shopsession: Shops, AccessTokens, Customers, Clients, Revoker, Families and Minter are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	checker, err := customertoken.New(cfg.AccessTokens)
	if err != nil {
		return nil, err
	}
	return &Sessions{cfg: cfg, tokens: checker}, nil
}

// maxShopKeyLength is the width of shops.shop_key: a longer key names no
// shop, so it is refused without a database round trip.
const maxShopKeyLength = 64

// Shop returns the active shop with this key, or an UnknownShop refusal.
// Callers that sign customers in ask it before any password work.
func (s *Sessions) Shop(ctx context.Context, key string) (storage.Shop, error) {
	if key == "" || len(key) > maxShopKeyLength {
		return storage.Shop{}, refusal.ErrUnknownShop
	}
	shop, err := s.cfg.Shops.GetShop(ctx, key)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !shop.Active) {
		return storage.Shop{}, refusal.ErrUnknownShop
	}
	if err != nil {
		return storage.Shop{}, fmt.Errorf("load shop: %w", err)
	}
	return shop, nil
}

// VerifyShopAccessToken returns the claims of a live access token that
// the shopKey route of clientID and shopKey accepts (customertoken.Route:
// a customer of that shop, the dialect's client or one configured for it,
// the customer scope); anything else is InvalidToken (RFC 6750 §3.1). A
// token of another shop is invalid here even though its signature is
// good: the shop is the tenant.
func (s *Sessions) VerifyShopAccessToken(ctx context.Context, clientID, shopKey, raw string) (tokens.AccessClaims, error) {
	return s.tokens.Check(ctx, customertoken.Route{ClientID: clientID, Shop: shopKey}, raw)
}

// TokenCustomer returns the customer a verified access token speaks for,
// who must still be allowed to sign in: a disabled account's tokens stop
// working for customer data at once (InvalidToken).
func (s *Sessions) TokenCustomer(ctx context.Context, c tokens.AccessClaims) (storage.Customer, error) {
	customer, err := customers.LiveOf(ctx, s.cfg.Customers, c)
	if errors.Is(err, customers.ErrGone) {
		return storage.Customer{}, refusal.ErrInvalidToken
	}
	return customer, err
}

// RevokeAccessToken is the dialect's logout: it revokes one verified
// access token by its jti (listed until it would have expired anyway) and
// ends the refresh family it was issued from, if any (a configured
// partner's login), with every access token issued from that family.
func (s *Sessions) RevokeAccessToken(ctx context.Context, c tokens.AccessClaims) error {
	if err := s.cfg.Revoker.RevokeAccessToken(ctx, c.Revocation()); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	if _, err := s.cfg.Families.RevokeAccessTokenFamily(ctx, c.JTI, s.cfg.Now()); err != nil {
		return fmt.Errorf("revoke the access token's family: %w", err)
	}
	return nil
}

var errExchanged = refusal.New(refusal.InvalidToken, "The access token was already exchanged or revoked.")

// ExchangeAccessToken trades a verified, still-live access token that the
// dialect of clientID accepts for a new one of the same client, customer,
// scope and auth_time, and revokes the old token's jti: the dialect's
// `refresh`, which has no refresh tokens. The customer must still be
// allowed to sign in.
func (s *Sessions) ExchangeAccessToken(ctx context.Context, clientID string, old tokens.AccessClaims) (*server.TokenResponse, error) {
	// A token the dialect does not accept is not its to renew.
	if !(customertoken.Route{ClientID: clientID, Shop: old.Shop}).Accepts(old) {
		return nil, refusal.ErrInvalidToken
	}
	client, err := s.cfg.Clients.GetClient(ctx, old.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		// The token's client is gone: nothing to renew for.
		return nil, refusal.ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	customer, err := s.TokenCustomer(ctx, old)
	if err != nil {
		return nil, err
	}
	// Spend the old token first, atomically: of concurrent exchanges of one
	// token exactly one gets a new one (the others find it revoked), and
	// should minting fail the caller signs in again rather than holding two
	// live tokens.
	err = s.cfg.Revoker.SpendAccessToken(ctx, old.Revocation())
	if errors.Is(err, storage.ErrConflict) {
		return nil, errExchanged
	}
	if err != nil {
		return nil, fmt.Errorf("spend access token: %w", err)
	}
	minted, err := s.cfg.Minter.Mint(ctx, tokens.Grant{
		Client: client, Customer: &customer, Scope: old.Scope,
		AuthTime: time.Unix(old.AuthTime, 0).UTC(), IssuedAt: s.cfg.Now(),
	})
	if err != nil {
		return nil, err
	}
	// The new token joins the old one's refresh family, if any, so that
	// ending the family (logout, reuse, consent, a disabled account) ends
	// it too; a family revoked meanwhile refuses it.
	_, err = s.cfg.Families.AttachToFamilyOf(ctx, old.JTI, storage.IssuedAccessToken{JTI: minted.JTI, ExpiresAt: minted.ExpiresAt})
	if errors.Is(err, storage.ErrConflict) {
		return nil, errExchanged
	}
	if err != nil {
		return nil, fmt.Errorf("attach exchanged access token: %w", err)
	}
	return &server.TokenResponse{
		AccessToken: minted.AccessToken, TokenType: "Bearer", ExpiresIn: minted.ExpiresIn(),
		Scope: old.Scope, IDToken: minted.IDToken, Customer: customer, Client: client,
	}, nil
}
