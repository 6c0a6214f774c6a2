package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/grants"
)

// TokenIssuer runs grants; *grants.Endpoint implements it.
type TokenIssuer interface {
	Token(ctx context.Context, req server.TokenRequest) (*server.TokenResponse, error)
	Issuer() string
}

var _ TokenIssuer = (*grants.Endpoint)(nil)

// KeyPublisher serves the public signing keys.
type KeyPublisher interface {
	JWKS() []byte
	JWKSMaxAge() time.Duration
	// SigningAlgorithms lists the algorithms that have a signing key now,
	// for discovery.
	SigningAlgorithms() []string
}

// Mounter is a feature that adds its routes to the engine (the legacy
// dialects).
type Mounter interface {
	Mount(r gin.IRouter)
}

// Instrumentation times every request and serves /metrics.
type Instrumentation interface {
	Middleware() gin.HandlerFunc
	Handler() http.Handler
}

// Fallback is a feature that answers, in its own dialect, requests under
// its own paths that match no route (NoRoute) or no method (NoMethod);
// each reports whether it wrote the answer.
type Fallback interface {
	NoRoute(c *gin.Context) bool
	NoMethod(c *gin.Context) bool
}

// Config holds the engine's dependencies.
type Config struct {
	Tokens TokenIssuer
	Keys   KeyPublisher
	// Ready reports whether the server can serve tokens (database reachable,
	// a signing key loaded).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string
	// MaxBodyBytes bounds request bodies (default 1 MiB); larger get 413.
	MaxBodyBytes int64
	// Lifecycle, when set, serves revocation, introspection and UserInfo.
	Lifecycle *Lifecycle
	// Features are mounted after the standard routes.
	Features []Mounter
	// Admin, when set, is the admin API (web/admin), mounted with the
	// features; NewAdmin serves it on a listener of its own instead.
	Admin Mounter
	// Metrics, when set, times every request and serves GET /metrics.
	Metrics Instrumentation
	// RequestTimeout is every request's deadline (default
	// DefaultRequestTimeout): a database that has not answered by then gets
	// the request a 503 with Retry-After instead of a wait without end.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout is Config.RequestTimeout's default.
const DefaultRequestTimeout = 5 * time.Second

// New builds the gin engine with every route.
func New(cfg Config) (*gin.Engine, error) {
	if cfg.Tokens == nil || cfg.Keys == nil || cfg.Ready == nil {
		return nil, errors.New("web: Tokens, Keys and Ready are required")
	}
	e, err := newEngine(&cfg)
	if err != nil {
		return nil, err
	}

	disc, err := newDiscovery(cfg.Tokens.Issuer(), cfg.Keys.SigningAlgorithms, cfg.Lifecycle != nil)
	if err != nil {
		return nil, err
	}
	disc.Mount(e)
	(&jwksHandler{keys: cfg.Keys}).Mount(e)
	(&tokenHandler{tokens: cfg.Tokens, logger: cfg.Logger}).Mount(e)
	(&health{ready: cfg.Ready}).Mount(e)
	if cfg.Metrics != nil {
		e.GET(PathMetrics, gin.WrapH(cfg.Metrics.Handler()))
	}
	if cfg.Lifecycle != nil {
		if cfg.Lifecycle.Revoker == nil || cfg.Lifecycle.Introspector == nil || cfg.Lifecycle.UserInfo == nil {
			return nil, errors.New("web: a Lifecycle needs its Revoker, Introspector and UserInfo")
		}
		(&lifecycleHandler{core: *cfg.Lifecycle, logger: cfg.Logger}).Mount(e)
	}
	features := cfg.Features
	if cfg.Admin != nil {
		features = append(slices.Clone(features), cfg.Admin)
	}
	for _, f := range features {
		f.Mount(e)
	}
	fallBack(e, features)
	return e, nil
}

// NewAdmin builds the engine of the admin API's own listener
// (SHOPAUTH_ADMIN_ADDR): the same middleware (deadline, request id, access
// log, metrics by route, recoverer, body limit) and /healthz, nothing else.
func NewAdmin(cfg Config, admin Mounter) (*gin.Engine, error) {
	if admin == nil {
		return nil, errors.New("web: the admin API is required")
	}
	e, err := newEngine(&cfg)
	if err != nil {
		return nil, err
	}
	e.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	admin.Mount(e)
	fallBack(e, []Mounter{admin})
	return e, nil
}

// newEngine is a gin engine with the middleware every listener runs,
// cfg's defaults filled in.
func newEngine(cfg *Config) (*gin.Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	quiet := map[string]bool{
		PathJWKS: true, PathOIDCDiscovery: true, PathRFC8414: true, PathMetrics: true, "/healthz": true, "/readyz": true,
	}
	e.Use(deadline(cfg.RequestTimeout), requestID(), accessLog(cfg.Logger, quiet))
	if cfg.Metrics != nil {
		// Outside the recoverer, so a recovered panic is timed as its 500.
		e.Use(cfg.Metrics.Middleware())
	}
	e.Use(recoverer(cfg.Logger), limitBody(cfg.MaxBodyBytes))
	return e, nil
}

// fallBack answers unmatched requests: each feature's own words first.
func fallBack(e *gin.Engine, features []Mounter) {
	var fallbacks []Fallback
	for _, f := range features {
		if fb, ok := f.(Fallback); ok {
			fallbacks = append(fallbacks, fb)
		}
	}
	e.NoRoute(func(c *gin.Context) {
		for _, fb := range fallbacks {
			if fb.NoRoute(c) {
				return
			}
		}
		c.JSON(http.StatusNotFound, gin.H{"error": "not_found"})
	})
	e.NoMethod(func(c *gin.Context) {
		for _, fb := range fallbacks {
			if fb.NoMethod(c) {
				return
			}
		}
		c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method_not_allowed"})
	})
}

// NewHTTPServer wraps handler in an http.Server with the timeouts a public
// server needs: slow clients cannot hold connections or goroutines forever.
func NewHTTPServer(addr string, handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
