package spryker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/customertoken"
	"github.com/shopauth/shopauth/server/grants"
	"github.com/shopauth/shopauth/server/revocation"
	"github.com/shopauth/shopauth/server/tokens"
)

// Routes of the dialect (docs/spryker.md).
const (
	PathAccessTokens  = "/access-tokens"
	PathRefreshTokens = "/refresh-tokens"
	PathToken         = "/token"
	// Mine is the refresh-token id that names all of the caller's tokens.
	Mine = "mine"
)

// JSON:API resource types; a request's data.type must be its route's.
const (
	typeAccessTokens  = "access-tokens"
	typeRefreshTokens = "refresh-tokens"
)

// Grants runs grants for the adapter's client; *grants.Endpoint
// implements it.
type Grants interface {
	AdapterToken(ctx context.Context, clientID string, req server.TokenRequest) (*server.TokenResponse, error)
	Issuer() string
}

// AccessTokens verifies a customer's access token; *tokens.Verifier
// implements it.
type AccessTokens interface {
	VerifyAccessToken(ctx context.Context, raw string) (tokens.AccessClaims, error)
}

// Revocations revokes a customer's refresh tokens at their request;
// *revocation.Customer implements it.
type Revocations interface {
	RevokeCustomerRefreshToken(ctx context.Context, customerID uint64, shopKey, refreshToken string) error
	RevokeAllCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string) error
}

var (
	_ Grants       = (*grants.Endpoint)(nil)
	_ AccessTokens = (*tokens.Verifier)(nil)
	_ Revocations  = (*revocation.Customer)(nil)
)

// Config holds the dialect's dependencies.
type Config struct {
	Grants       Grants
	AccessTokens AccessTokens
	Revocations  Revocations
	// ClientID is the client every grant runs for (SHOPAUTH_SPRYKER_CLIENT).
	ClientID string
	// ShopKey is the shop whose customers sign in (SHOPAUTH_SPRYKER_SHOP).
	ShopKey string
	// Registrations and Passwords serve the customer account resources
	// (POST /customers and the password routes); without them those
	// routes are not mounted.
	Registrations Registrations
	Passwords     Passwords
	Logger        *slog.Logger
}

// Handler serves the dialect's routes.
type Handler struct {
	grants Grants
	// customerTokens is the core's one check of the Bearer tokens of
	// customer-facing routes (server/customertoken).
	customerTokens *customertoken.Checker
	revocations    Revocations
	clientID       string
	shopKey        string
	// selfBase is the issuer without a trailing slash: links.self is built
	// on it.
	selfBase string
	logger   *slog.Logger

	registrations Registrations
	passwords     Passwords
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Grants == nil || cfg.AccessTokens == nil || cfg.Revocations == nil || cfg.ClientID == "" || cfg.ShopKey == "" {
		return nil, errors.New("spryker: Grants, AccessTokens, Revocations, ClientID and ShopKey are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	customerTokens, err := customertoken.New(cfg.AccessTokens)
	if err != nil {
		return nil, err
	}
	return &Handler{
		grants: cfg.Grants, customerTokens: customerTokens, revocations: cfg.Revocations,
		clientID: cfg.ClientID, shopKey: cfg.ShopKey,
		selfBase: strings.TrimRight(cfg.Grants.Issuer(), "/"), logger: cfg.Logger,
		registrations: cfg.Registrations, passwords: cfg.Passwords,
	}, nil
}

// allMethods are the methods a wrong-method request may use; each Spryker
// route answers the ones it does not serve with JSON:API 404, as Glue does.
var allMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// route is one path and the handlers of its methods.
type route struct {
	path     string
	handlers map[string]gin.HandlerFunc
}

// Mount adds the routes.
func (h *Handler) Mount(r gin.IRouter) {
	routes := []route{
		{PathAccessTokens, map[string]gin.HandlerFunc{http.MethodPost: h.createAccessToken}},
		{PathRefreshTokens, map[string]gin.HandlerFunc{http.MethodPost: h.refreshAccessToken, http.MethodDelete: h.deleteWithoutID}},
		{PathRefreshTokens + "/", map[string]gin.HandlerFunc{http.MethodDelete: h.deleteWithoutID}},
		{PathRefreshTokens + "/:refreshToken", map[string]gin.HandlerFunc{http.MethodDelete: h.deleteRefreshToken}},
		{PathToken, map[string]gin.HandlerFunc{http.MethodPost: h.formToken}},
	}
	routes = append(routes, h.accountRoutes()...)
	for _, route := range routes {
		for _, method := range allMethods {
			handler, ok := route.handlers[method]
			if !ok {
				handler = h.notFound
			}
			r.Handle(method, route.path, handler)
		}
	}
}
