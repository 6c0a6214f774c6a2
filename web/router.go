package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
)

// TokenIssuer runs grants; *server.Authority implements it.
type TokenIssuer interface {
	Token(ctx context.Context, req server.TokenRequest) (*server.TokenResponse, error)
	Issuer() string
}

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
	Lifecycle TokenLifecycle
	// Features are mounted after the standard routes.
	Features []Mounter
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
		(&lifecycleHandler{tokens: cfg.Lifecycle, logger: cfg.Logger}).Mount(e)
	}
	for _, f := range cfg.Features {
		f.Mount(e)
	}
	var fallbacks []Fallback
	for _, f := range cfg.Features {
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
	return e, nil
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
