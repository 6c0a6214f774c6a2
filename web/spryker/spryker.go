package spryker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
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

// Grants runs grants for the adapter's client; *server.Authority
// implements it.
type Grants interface {
	AdapterToken(ctx context.Context, clientID string, req server.TokenRequest) (*server.TokenResponse, error)
	Issuer() string
}

// Sessions verifies a customer's access token and revokes their refresh
// tokens; *server.Authority implements it.
type Sessions interface {
	VerifyAccessToken(ctx context.Context, raw string) (tokens.AccessClaims, error)
	RevokeCustomerRefreshToken(ctx context.Context, customerID uint64, shopKey, refreshToken string) error
	RevokeAllCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string) error
}

var (
	_ Grants   = (*server.Authority)(nil)
	_ Sessions = (*server.Authority)(nil)
)

// Config holds the dialect's dependencies.
type Config struct {
	Grants   Grants
	Sessions Sessions
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
	grants   Grants
	sessions Sessions
	clientID string
	shopKey  string
	// selfBase is the issuer without a trailing slash: links.self is built
	// on it.
	selfBase string
	logger   *slog.Logger

	registrations Registrations
	passwords     Passwords
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Grants == nil || cfg.Sessions == nil || cfg.ClientID == "" || cfg.ShopKey == "" {
		return nil, errors.New("spryker: Grants, Sessions, ClientID and ShopKey are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		grants: cfg.Grants, sessions: cfg.Sessions, clientID: cfg.ClientID, shopKey: cfg.ShopKey,
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
