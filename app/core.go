package app

import (
	"log/slog"
	"time"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/server/authorize"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/grants"
	"github.com/shopauth/shopauth/server/introspection"
	"github.com/shopauth/shopauth/server/login"
	"github.com/shopauth/shopauth/server/revocation"
	"github.com/shopauth/shopauth/server/shopsession"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/server/userinfo"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// core is the authorization core's services, each wired with only what it
// needs (server/doc.go maps them).
type core struct {
	tokens             *grants.Endpoint
	revocation         *revocation.Endpoint
	customerRevocation *revocation.Customer
	introspection      *introspection.Endpoint
	userInfo           *userinfo.Endpoint
	authorize          *authorize.Endpoint
	logout             *authorize.Logout
	shopSessions       *shopsession.Sessions
}

// coreDeps are what newCore wires together.
type coreDeps struct {
	cfg        config.Config
	store      *sqlstore.Store
	signer     tokens.Signer
	verifier   *tokens.Verifier
	refreshKey []byte
	login      login.Config
	observer   grants.Observer
	now        func() time.Time
	logger     *slog.Logger
}

// newCore builds the core's services over one store.
func newCore(d coreDeps) (*core, error) {
	cfg, store, now, logger := d.cfg, d.store, d.now, d.logger
	clientCache := clients.NewCache(store, clientCacheTTL, now)
	clientAuth, err := clients.NewAuthenticator(clientCache)
	if err != nil {
		return nil, err
	}
	minter, err := tokens.NewMinter(tokens.MinterConfig{Issuer: cfg.Issuer, Signer: d.signer, AccessTTL: cfg.Tokens.AccessTokenTTL})
	if err != nil {
		return nil, err
	}
	secrets, err := tokens.NewRefreshSecrets(d.refreshKey)
	if err != nil {
		return nil, err
	}
	checker, err := login.New(d.login)
	if err != nil {
		return nil, err
	}
	issuance := grants.Issuance{
		Minter: minter, Secrets: secrets, Now: now, Logger: logger,
		Policy: grants.RefreshPolicy{
			TTL: cfg.Tokens.RefreshTokenTTL, IdleTTL: cfg.Tokens.RefreshIdleTTL, ReuseGrace: cfg.Tokens.RefreshReuseGrace,
		},
	}
	password, err := grants.NewPassword(grants.PasswordConfig{Issuance: issuance, Login: checker, Shops: store, Families: store})
	if err != nil {
		return nil, err
	}
	refresh, err := grants.NewRefresh(grants.RefreshConfig{Issuance: issuance, Store: store, Customers: store})
	if err != nil {
		return nil, err
	}
	code, err := grants.NewAuthorizationCode(grants.AuthorizationCodeConfig{Issuance: issuance, Codes: store, Customers: store})
	if err != nil {
		return nil, err
	}
	machine, err := grants.NewClientCredentials(issuance)
	if err != nil {
		return nil, err
	}
	c := &core{}
	if c.tokens, err = grants.New(grants.Config{
		Issuer: cfg.Issuer, Clients: clientAuth, Observer: d.observer,
		Password: password, RefreshToken: refresh, AuthorizationCode: code, ClientCredentials: machine,
	}); err != nil {
		return nil, err
	}
	if c.revocation, err = revocation.New(revocation.Config{
		Clients: clientAuth, AccessTokens: d.verifier, Refresh: store, Revoker: store, Customers: store, Now: now, Logger: logger,
	}); err != nil {
		return nil, err
	}
	if c.customerRevocation, err = revocation.NewCustomer(revocation.CustomerConfig{Store: store, Now: now, Logger: logger}); err != nil {
		return nil, err
	}
	if c.introspection, err = introspection.New(introspection.Config{
		Issuer: cfg.Issuer, Clients: clientAuth, AccessTokens: d.verifier, Holders: store, Refresh: store, Customers: store, Now: now,
	}); err != nil {
		return nil, err
	}
	if c.userInfo, err = userinfo.New(userinfo.Config{AccessTokens: d.verifier, Customers: store}); err != nil {
		return nil, err
	}
	if c.authorize, err = authorize.New(authorize.Config{
		Issuer: cfg.Issuer, Clients: clientCache, Shops: store, Customers: store, Login: checker,
		Codes: store, Consents: store, Sessions: store, SessionTTL: cfg.Login.SessionTTL, Now: now,
	}); err != nil {
		return nil, err
	}
	if c.logout, err = authorize.NewLogout(authorize.LogoutConfig{
		Hints: d.verifier, Clients: clientCache, Shops: store, Sessions: store, Families: store, Now: now,
	}); err != nil {
		return nil, err
	}
	if c.shopSessions, err = shopsession.New(shopsession.Config{
		Shops: store, AccessTokens: d.verifier, Customers: store, Clients: clientCache, Revoker: store, Families: store, Minter: minter, Now: now,
	}); err != nil {
		return nil, err
	}
	return c, nil
}
