package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
)

// Demo data (docs/design.md, "Demo data"). The values are public: never use them in
// production.
const (
	DemoShop          = "acme12aa"
	DemoCustomerEmail = "sonia@spryker.com"
	DemoPassword      = "change123"
	DemoClientID      = "storefront"
	DemoClientSecret  = "storefront-secret"
	// DemoAppClientID is the demo app's client (web/demo).
	DemoAppClientID    = "demo-app"
	DemoCompanyUserID  = "ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac"
	DemoUnverifiedUser = "new@example.com"
	// DemoCartToken is the anonymous cart token of seed 001's example.
	DemoCartToken = "sadsdfuh3r4bibcjsdh8sdssd9hs78dh"
)

// Spryker's lifetimes (docs/spryker.md), used by `client add --preset
// spryker`.
const (
	SprykerAccessTTL  = 28800 * time.Second
	SprykerRefreshTTL = 2628000 * time.Second
	ShopKeyAccessTTL  = 86400 * time.Second
)

// demoStore is what seeding writes to.
type demoStore interface {
	IsEmpty(ctx context.Context) (bool, error)
	CreateShop(ctx context.Context, s storage.Shop) error
	CreateCustomer(ctx context.Context, c *storage.Customer) error
	CreateClient(ctx context.Context, c storage.Client) error
	CreateCart(ctx context.Context, c *storage.Cart) error
}

// SeedDemo fills an empty database with the demo shop, customers and
// clients and prints the credentials once. A database with data is left
// alone.
func SeedDemo(ctx context.Context, store demoStore, out io.Writer, cfg config.Config, params customers.Argon2Params) error {
	empty, err := store.IsEmpty(ctx)
	if err != nil || !empty {
		return err
	}
	hasher, err := customers.NewHasher(params)
	if err != nil {
		return err
	}
	hash, err := hasher.Hash(DemoPassword)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if err := store.CreateShop(ctx, storage.Shop{Key: DemoShop, Name: "ACME Shop", Locale: "es", Active: true, CreatedAt: now}); err != nil {
		return err
	}
	sonia := &storage.Customer{
		ID: 21, ShopKey: DemoShop, Email: DemoCustomerEmail, EmailNormalized: DemoCustomerEmail, Name: "Sonia",
		PasswordHash: hash, EmailVerifiedAt: &now, AccountID: 21, CustomerReference: "DE--21",
		CompanyUserID: DemoCompanyUserID, CreatedAt: now, UpdatedAt: now,
	}
	unverified := &storage.Customer{
		ShopKey: DemoShop, Email: DemoUnverifiedUser, EmailNormalized: DemoUnverifiedUser, Name: "New Customer",
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	for _, c := range []*storage.Customer{sonia, unverified} {
		if err := store.CreateCustomer(ctx, c); err != nil {
			return fmt.Errorf("customer %s: %w", c.Email, err)
		}
	}
	grants := []string{server.GrantPassword, server.GrantRefreshToken}
	demoClients := []storage.Client{
		{
			ID: DemoClientID, SecretHash: clients.HashSecret(DemoClientSecret), ShopKey: DemoShop,
			GrantTypes: grants, Scopes: []string{"openid", "profile", "email", "offline_access", "customer"},
			FirstParty: true, CreatedAt: now,
		},
		{
			ID: cfg.Adapters.SprykerClientID, Public: true, ShopKey: cfg.Adapters.SprykerShop,
			GrantTypes: grants, Scopes: []string{"customer", "offline_access"},
			AccessTokenTTL: SprykerAccessTTL, RefreshTokenTTL: SprykerRefreshTTL, FirstParty: true, CreatedAt: now,
		},
		{
			// The demo app (web/demo, mounted only by serve --demo): a
			// browser signs in with the hosted pages and lands on it.
			ID: DemoAppClientID, Public: true, ShopKey: DemoShop, FirstParty: true,
			GrantTypes: []string{server.GrantAuthorizationCode}, Scopes: []string{"openid", "profile", "email"},
			RedirectURIs:           []string{strings.TrimRight(cfg.Issuer, "/") + "/demo/callback"},
			PostLogoutRedirectURIs: []string{strings.TrimRight(cfg.Issuer, "/") + "/demo"},
			CreatedAt:              now,
		},
		{
			// The shopKey API serves every shop through one client.
			ID: cfg.Adapters.ShopKeyClientID, Public: true,
			GrantTypes: []string{server.GrantPassword}, Scopes: []string{"customer"},
			AccessTokenTTL: ShopKeyAccessTTL, FirstParty: true, CreatedAt: now,
		},
	}
	for _, c := range demoClients {
		if err := store.CreateClient(ctx, c); err != nil {
			return fmt.Errorf("client %s: %w", c.ID, err)
		}
	}
	if err := store.CreateCart(ctx, &storage.Cart{ShopKey: DemoShop, Token: DemoCartToken, CreatedAt: now, UpdatedAt: now}); err != nil {
		return fmt.Errorf("anonymous cart: %w", err)
	}
	_, err = fmt.Fprintf(out, `Demo data created (shown once; for trying shopauth out, never for production):
  shop      %s (locale es)
  customer  %s / %s (verified, customer id 21)
  customer  %s / %s (e-mail not verified)
  client    %s / %s (confidential; password, refresh_token)
  adapters  %s (Spryker Glue, shop %s), %s (shopKey API)
  cart      anonymous, token %s (shopKey login with "token")
  browser   %s/demo: sign in, create an account, reset a forgotten password (docs/accounts.md)
`, DemoShop, DemoCustomerEmail, DemoPassword, DemoUnverifiedUser, DemoPassword, DemoClientID, DemoClientSecret,
		cfg.Adapters.SprykerClientID, cfg.Adapters.SprykerShop, cfg.Adapters.ShopKeyClientID, DemoCartToken,
		strings.TrimRight(cfg.Issuer, "/"))
	return err
}
