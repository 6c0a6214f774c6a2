package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ErrUnknownShop is returned for a shop key that names no shop, or an
// inactive one. Callers that sign customers in check it before any
// password work.
var ErrUnknownShop = errors.New("server: unknown or inactive shop")

// maxShopKeyLength is the width of shops.shop_key: a longer key names no
// shop, so it is refused without a database round trip.
const maxShopKeyLength = 64

// Shop returns the active shop with this key, or ErrUnknownShop.
func (a *Authority) Shop(ctx context.Context, key string) (storage.Shop, error) {
	if key == "" || len(key) > maxShopKeyLength {
		return storage.Shop{}, ErrUnknownShop
	}
	shop, err := a.shops.GetShop(ctx, key)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !shop.Active) {
		return storage.Shop{}, ErrUnknownShop
	}
	if err != nil {
		return storage.Shop{}, fmt.Errorf("load shop: %w", err)
	}
	return shop, nil
}

// VerifyShopAccessToken returns the claims of a live access token of this
// issuer that was issued for a customer of shopKey (RFC 6750 §3.1: any
// failure is invalid_token). A token of another shop is invalid here even
// though its signature is good: the shop is the tenant.
func (a *Authority) VerifyShopAccessToken(ctx context.Context, shopKey, raw string) (tokens.AccessClaims, error) {
	if raw == "" {
		return tokens.AccessClaims{}, oautherr.ErrInvalidToken
	}
	c, err := a.verifier.VerifyAccessToken(ctx, raw)
	if errors.Is(err, tokens.ErrInvalidToken) {
		return tokens.AccessClaims{}, oautherr.ErrInvalidToken.WithCause(err)
	}
	if err != nil {
		return tokens.AccessClaims{}, err
	}
	if _, ok := c.CustomerID(); !ok || c.Shop == "" || c.Shop != shopKey {
		return tokens.AccessClaims{}, oautherr.ErrInvalidToken
	}
	return c, nil
}

// TokenCustomer returns the customer a verified access token speaks for,
// who must still be allowed to sign in: a disabled account's tokens stop
// working for customer data at once (invalid_token).
func (a *Authority) TokenCustomer(ctx context.Context, c tokens.AccessClaims) (storage.Customer, error) {
	m, err := a.manager()
	if err != nil {
		return storage.Customer{}, err
	}
	id, ok := c.CustomerID()
	if !ok {
		return storage.Customer{}, oautherr.ErrInvalidToken
	}
	customer, err := m.liveCustomer(ctx, storage.RefreshToken{ShopKey: c.Shop, CustomerID: id})
	if errors.Is(err, oautherr.ErrInvalidGrant) {
		return storage.Customer{}, oautherr.ErrInvalidToken
	}
	return customer, err
}
