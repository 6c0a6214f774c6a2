package shopkey

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/carts"
	"github.com/shopauth/shopauth/server/grants"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/shopsession"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/web"
)

// Prefix is where the dialect lives; unmatched requests under it are
// answered in the envelope.
const Prefix = "/api/v1/"

// Routes under /api/v1/{shopKey}.
const (
	routeLogin   = "/customers/login"
	routeLogout  = "/customers/logout"
	routeMe      = "/customers/me"
	routeRefresh = "/customers/refresh"
)

// Shops resolves the path's shop key; *shopsession.Sessions implements it.
type Shops interface {
	Shop(ctx context.Context, key string) (storage.Shop, error)
}

// Logins runs the password grant for the dialect's client;
// *grants.Endpoint implements it.
type Logins interface {
	AdapterToken(ctx context.Context, clientID string, req server.TokenRequest) (*server.TokenResponse, error)
}

// Sessions checks, renews and ends the access tokens private routes take;
// *shopsession.Sessions implements it.
type Sessions interface {
	VerifyShopAccessToken(ctx context.Context, clientID, shopKey, raw string) (tokens.AccessClaims, error)
	TokenCustomer(ctx context.Context, c tokens.AccessClaims) (storage.Customer, error)
	RevokeAccessToken(ctx context.Context, c tokens.AccessClaims) error
	ExchangeAccessToken(ctx context.Context, clientID string, old tokens.AccessClaims) (*server.TokenResponse, error)
}

// Carts hands the anonymous cart over after a login; *carts.Service
// implements it.
type Carts interface {
	AfterLogin(ctx context.Context, req carts.Request) *carts.Cart
}

var (
	_ Shops    = (*shopsession.Sessions)(nil)
	_ Logins   = (*grants.Endpoint)(nil)
	_ Sessions = (*shopsession.Sessions)(nil)
	_ Carts    = (*carts.Service)(nil)

	_ web.Mounter  = (*Handler)(nil)
	_ web.Fallback = (*Handler)(nil)
)

// Config holds the dialect's dependencies.
type Config struct {
	Shops    Shops
	Logins   Logins
	Sessions Sessions
	Carts    Carts
	// ClientID is the client every login runs as (SHOPAUTH_SHOPKEY_CLIENT).
	ClientID string
	Logger   *slog.Logger
}

// Handler serves the dialect.
type Handler struct {
	shops    Shops
	logins   Logins
	sessions Sessions
	carts    Carts
	clientID string
	logger   *slog.Logger
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Shops == nil || cfg.Logins == nil || cfg.Sessions == nil || cfg.Carts == nil || cfg.ClientID == "" {
		return nil, errors.New("shopkey: Shops, Logins, Sessions, Carts and ClientID are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		shops: cfg.Shops, logins: cfg.Logins, sessions: cfg.Sessions, carts: cfg.Carts,
		clientID: cfg.ClientID, logger: cfg.Logger,
	}, nil
}

// Context keys of what the middleware established.
const (
	keyShop   = "shopkey.shop"
	keyClaims = "shopkey.claims"
)

// Mount adds the routes. Every route resolves its shop first, so an
// unknown shop costs no password work; OPTIONS answers CORS preflights.
func (h *Handler) Mount(r gin.IRouter) {
	g := r.Group(Prefix+":shopKey", h.resolveShop)
	g.POST(routeLogin, h.login)
	private := g.Group("", h.authenticate)
	private.POST(routeLogout, h.logout)
	private.POST(routeMe, h.me)
	private.POST(routeRefresh, h.refresh)
	for _, route := range []string{routeLogin, routeLogout, routeMe, routeRefresh} {
		g.OPTIONS(route, h.preflight)
	}
}

// NoRoute answers an unmatched path under /api/v1/ with the 404 envelope.
func (h *Handler) NoRoute(c *gin.Context) bool {
	return h.fallback(c, http.StatusNotFound, msgNotFound)
}

// NoMethod answers a known path with the wrong method with the 405
// envelope.
func (h *Handler) NoMethod(c *gin.Context) bool {
	return h.fallback(c, http.StatusMethodNotAllowed, msgMethodNotAllowed)
}

func (h *Handler) fallback(c *gin.Context, status int, m message) bool {
	rest, ok := strings.CutPrefix(c.Request.URL.Path, Prefix)
	if !ok {
		return false
	}
	locale := requestLocale(c.GetHeader("Accept-Language"))
	// The answer speaks the shop's language when the path names a live
	// shop, and lets the shop's origins read it.
	key, _, _ := strings.Cut(rest, "/")
	if shop, err := h.shops.Shop(c.Request.Context(), key); err == nil {
		locale = shopLocale(shop.Locale)
		allowOrigin(c, shop)
	}
	if status == http.StatusMethodNotAllowed {
		c.Header("Allow", "POST, OPTIONS")
	}
	reply(c, locale, status, m, nil)
	return true
}

// resolveShop loads the path's shop or answers 403 (docs/shopkey.md), and
// applies the shop's CORS policy.
func (h *Handler) resolveShop(c *gin.Context) {
	shop, err := h.shops.Shop(c.Request.Context(), c.Param("shopKey"))
	if err != nil {
		h.fail(c, requestLocale(c.GetHeader("Accept-Language")), err)
		return
	}
	c.Set(keyShop, shop)
	allowOrigin(c, shop)
	c.Next()
}

func shopOf(c *gin.Context) storage.Shop {
	shop, _ := c.MustGet(keyShop).(storage.Shop)
	return shop
}

func localeOf(c *gin.Context) string { return shopLocale(shopOf(c).Locale) }

func (h *Handler) login(c *gin.Context) {
	shop, locale := shopOf(c), localeOf(c)
	in, err := decodeLogin(c.Request)
	if err != nil {
		h.fail(c, locale, err)
		return
	}
	ctx := c.Request.Context()
	resp, err := h.logins.AdapterToken(ctx, h.clientID, server.TokenRequest{
		GrantType: server.GrantPassword, Username: in.Email, Password: in.Password, ShopKey: shop.Key,
		// The login rate limit is per caller address (gin's ClientIP
		// believes X-Forwarded-For only from trusted proxies); without it
		// every shopKey login would share one bucket.
		ClientIP: c.ClientIP(), Dialect: server.DialectShopKey,
	})
	if err != nil {
		h.fail(c, locale, err)
		return
	}
	cart, err := cartDocument(h.carts.AfterLogin(ctx, carts.Request{
		ShopKey: shop.Key, CustomerID: resp.Customer.ID, Token: in.Token,
	}))
	if err != nil {
		h.fail(c, locale, err)
		return
	}
	status := http.StatusAccepted
	writeEnvelope(c, status, loginEnvelope{
		Authenticated: 0,
		envelope: envelope{
			Data:   loginData{Cart: cart, Customer: customerOf(resp.Customer), Token: tokenOf(resp)},
			Locale: locale, Message: text(locale, msgLoginOK), Status: status, Success: true,
		},
	})
}

// authenticate checks `_method` and the Bearer token of a private route
// with the core's one check of customer-facing tokens
// (server/customertoken): signature, expiry, issuer, revocation, the
// token's shop (the path's), its client (the dialect's, or one configured
// for it) and the customer scope.
func (h *Handler) authenticate(c *gin.Context) {
	locale := localeOf(c)
	if err := decodeBody(c.Request); err != nil {
		h.fail(c, locale, err)
		return
	}
	claims, err := h.sessions.VerifyShopAccessToken(c.Request.Context(), h.clientID, shopOf(c).Key, bearerToken(c.GetHeader("Authorization")))
	if err != nil {
		h.fail(c, locale, err)
		return
	}
	c.Set(keyClaims, claims)
	c.Next()
}

func claimsOf(c *gin.Context) tokens.AccessClaims {
	claims, _ := c.MustGet(keyClaims).(tokens.AccessClaims)
	return claims
}

func (h *Handler) logout(c *gin.Context) {
	if err := h.sessions.RevokeAccessToken(c.Request.Context(), claimsOf(c)); err != nil {
		h.fail(c, localeOf(c), err)
		return
	}
	reply(c, localeOf(c), http.StatusOK, msgLogoutOK, nil)
}

func (h *Handler) me(c *gin.Context) {
	customer, err := h.sessions.TokenCustomer(c.Request.Context(), claimsOf(c))
	if err != nil {
		h.fail(c, localeOf(c), err)
		return
	}
	reply(c, localeOf(c), http.StatusOK, msgMeOK, customerData{Customer: customerOf(customer)})
}

func (h *Handler) refresh(c *gin.Context) {
	resp, err := h.sessions.ExchangeAccessToken(c.Request.Context(), h.clientID, claimsOf(c))
	if err != nil {
		h.fail(c, localeOf(c), err)
		return
	}
	reply(c, localeOf(c), http.StatusOK, msgRefreshOK, tokenData{Token: tokenOf(resp)})
}

// fail is the dialect's one error writer and its one table from the core's
// refusals to the envelope (docs/shopkey.md): it maps core and input errors
// onto the spec's error table and logs the cause of a 500 once.
func (h *Handler) fail(c *gin.Context, locale string, err error) {
	defer c.Abort()
	var in *inputError
	if errors.As(err, &in) {
		var data any
		if in.fields != nil {
			data = errorsData{Errors: in.fields(locale)}
		}
		if in.status == http.StatusMethodNotAllowed {
			c.Header("Allow", "POST, OPTIONS")
		}
		reply(c, locale, in.status, in.message, data)
		return
	}
	r := refusal.Of(err)
	if secs := r.RetryAfterSeconds(); secs > 0 {
		c.Header("Retry-After", strconv.Itoa(secs))
	}
	switch r.Kind {
	case refusal.UnknownShop:
		reply(c, locale, http.StatusForbidden, msgInvalidShop, nil)
	case refusal.NotVerified:
		reply(c, locale, http.StatusForbidden, msgNotVerified, nil)
	case refusal.BadCredentials, refusal.InvalidGrant:
		reply(c, locale, http.StatusUnauthorized, msgInvalidCredentials, nil)
	case refusal.InvalidToken:
		// RFC 6750 §3: a 401 names the scheme; error= only when a token
		// was presented.
		challenge := `Bearer realm="shopauth"`
		if c.GetHeader("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		c.Header("WWW-Authenticate", challenge)
		reply(c, locale, http.StatusUnauthorized, msgUnauthorized, nil)
	case refusal.Throttled:
		reply(c, locale, http.StatusTooManyRequests, msgTooManyAttempts, nil)
	case refusal.Unavailable:
		reply(c, locale, http.StatusServiceUnavailable, msgUnavailable, nil)
	default:
		// InvalidClient, UnauthorizedClient, InvalidScope: the adapter's
		// client is misconfigured, which the caller cannot fix; faults.
		h.logger.ErrorContext(c.Request.Context(), "shopkey request failed",
			"request_id", web.RequestID(c), "route", c.FullPath(), "err", err)
		reply(c, locale, http.StatusInternalServerError, msgServerError, nil)
	}
}
