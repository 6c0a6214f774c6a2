package grants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/login"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// LoginChecker is the one password check of every login surface;
// *login.Checker implements it.
type LoginChecker interface {
	Allow(clientIP string) error
	Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error)
}

// ShopStore reads shops.
type ShopStore interface {
	GetShop(ctx context.Context, key string) (storage.Shop, error)
}

// FamilyStore starts refresh families.
type FamilyStore interface {
	CreateRefreshToken(ctx context.Context, rt storage.RefreshToken, access storage.IssuedAccessToken) error
}

var _ LoginChecker = (*login.Checker)(nil)

// PasswordConfig holds the password grant's dependencies.
type PasswordConfig struct {
	Issuance
	Login    LoginChecker
	Shops    ShopStore
	Families FamilyStore
}

// Password is the resource owner password credentials grant (RFC 6749
// §4.3), for the shop's own apps only (RFC 9700 §2.4): the legacy dialects'
// logins come here too.
type Password struct {
	cfg PasswordConfig
}

// NewPassword checks cfg and returns the grant.
func NewPassword(cfg PasswordConfig) (*Password, error) {
	if err := cfg.prepare(); err != nil {
		return nil, err
	}
	if cfg.Login == nil || cfg.Shops == nil || cfg.Families == nil {
		return nil, errors.New("grants: the password grant needs Login, Shops and Families")
	}
	return &Password{cfg: cfg}, nil
}

var errFirstPartyOnly = refusal.New(refusal.UnauthorizedClient, "The password grant is for first-party clients only.")

// Run checks the customer's password and issues an access token, an ID
// token for openid, and a refresh token for offline_access.
func (g *Password) Run(ctx context.Context, client *clients.Info, req server.TokenRequest) (*server.TokenResponse, error) {
	if !client.FirstParty {
		return nil, errFirstPartyOnly
	}
	// Every login surface is limited per client address before any
	// hashing.
	if err := g.cfg.Login.Allow(req.ClientIP); err != nil {
		return nil, err
	}
	if req.Username == "" || req.Password == "" {
		return nil, refusal.New(refusal.InvalidRequest, "The username and password parameters are required.")
	}
	scopes, ok := client.GrantScope(req.Scope)
	if !ok {
		return nil, refusal.ErrInvalidScope
	}
	shopKey, err := g.resolveShop(ctx, client, req.ShopKey)
	if err != nil {
		return nil, err
	}
	customer, err := g.cfg.Login.Authenticate(ctx, shopKey, req.Username, req.Password)
	if err != nil {
		return nil, err
	}
	now := g.cfg.clock()
	scope := strings.Join(scopes, " ")
	minted, err := g.cfg.mint(ctx, client, &customer, scope, now, req.Nonce, now)
	if err != nil {
		return nil, err
	}
	if !wantsRefresh(client, scope) {
		return response(client, customer, minted, "", scope), nil
	}
	refresh, err := g.startFamily(ctx, client, customer, scope, now, minted)
	if err != nil {
		return nil, err
	}
	return response(client, customer, minted, refresh, scope), nil
}

// startFamily stores the first refresh token of a new family with the
// access token minted beside it.
func (g *Password) startFamily(ctx context.Context, client *clients.Info, customer storage.Customer, scope string, now time.Time, minted tokens.Minted) (string, error) {
	family, err := newFamilyID()
	if err != nil {
		return "", err
	}
	refresh, row, err := g.cfg.Issuance.startFamily(g.cfg.Policy.NewFamily(family, client, customer, scope, now, now), now)
	if err != nil {
		return "", err
	}
	if err := g.cfg.Families.CreateRefreshToken(ctx, row, issued(minted, family)); err != nil {
		return "", fmt.Errorf("store refresh token: %w", err)
	}
	return refresh, nil
}

// resolveShop decides which shop's customers the grant may sign in: the
// client's own, or the one the request names when the client serves
// several. A shop the client does not serve, an unknown and an inactive
// one all read as wrong credentials.
func (g *Password) resolveShop(ctx context.Context, client *clients.Info, requested string) (string, error) {
	key := client.ShopKey
	switch {
	case key == "" && requested == "":
		return "", refusal.New(refusal.InvalidRequest, "This client serves several shops: the shop must be named.")
	case key == "":
		key = requested
	case requested != "" && requested != key:
		return "", refusal.ErrBadCredentials
	}
	shop, err := g.cfg.Shops.GetShop(ctx, key)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !shop.Active) {
		return "", refusal.ErrBadCredentials
	}
	if err != nil {
		return "", fmt.Errorf("load shop: %w", err)
	}
	return key, nil
}
