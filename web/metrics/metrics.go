package metrics

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/mail"
)

const namespace = "shopauth"

// latencyBuckets span a JWKS GET served from memory (~100 µs) to a login
// that queued for the hashing pool (seconds).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// KeyLister lists the signing keys; *keys.Manager implements it.
type KeyLister interface {
	List() []keys.KeyInfo
}

// Config says where the scrape-time values come from. Every field is
// optional: a missing source leaves its metrics out.
type Config struct {
	// Registry receives every metric; required.
	Registry *prometheus.Registry
	// DBStats reads the database pool (sql.DB.Stats).
	DBStats func() sql.DBStats
	// Keys gives the age of the current signing key.
	Keys KeyLister
	// HashQueue reports how many password hashes wait for the pool.
	HashQueue func() int
	// Now defaults to time.Now.
	Now func() time.Time
}

// Metrics holds shopauth's collectors. It is safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
	issued   *prometheus.CounterVec
	failed   *prometheus.CounterVec
	hashWait prometheus.Histogram
	mail     *prometheus.CounterVec
}

var (
	_ server.Observer = (*Metrics)(nil)
	_ mail.Observer   = (*Metrics)(nil)
)

// New registers shopauth's metrics, the Go runtime's and the process's on
// cfg.Registry.
func New(cfg Config) (*Metrics, error) {
	if cfg.Registry == nil {
		return nil, errors.New("metrics: Config.Registry is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Metrics{
		registry: cfg.Registry,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern, method and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "code"}),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tokens_issued_total",
			Help: "Grants that issued tokens, by grant type, dialect and client.",
		}, []string{"grant", "dialect", "client"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "token_failures_total",
			Help: "Grants refused or failed, by grant type, dialect and OAuth error code.",
		}, []string{"grant", "dialect", "reason"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "password_hash", Name: "wait_seconds",
			Help:    "Time a password verification waited for a slot in the hashing pool.",
			Buckets: latencyBuckets,
		}),
		mail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "mail_deliveries_total",
			Help: "Attempts to deliver a mail from the outbox, by outcome: sent, retry (will be tried again), failed (given up).",
		}, []string{"outcome"}),
	}
	cs := []prometheus.Collector{
		m.requests, m.issued, m.failed, m.hashWait, m.mail,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newScrapeCollector(cfg),
	}
	for _, c := range cs {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// TokenIssued implements server.Observer.
func (m *Metrics) TokenIssued(grant, dialect, clientID string) {
	m.issued.WithLabelValues(grant, dialect, clientID).Inc()
}

// TokenFailed implements server.Observer.
func (m *Metrics) TokenFailed(grant, dialect, reason string) {
	m.failed.WithLabelValues(grant, dialect, reason).Inc()
}

// MailDelivered counts one delivery attempt of the mail outbox.
func (m *Metrics) MailDelivered(outcome string) {
	m.mail.WithLabelValues(outcome).Inc()
}

// HashWaited records how long a verification queued for the hashing pool.
func (m *Metrics) HashWaited(d time.Duration) {
	m.hashWait.Observe(d.Seconds())
}

// Middleware times every request by its route pattern. The raw path is
// never a label: paths carry tokens (DELETE /refresh-tokens/{token}) and
// would grow the metric without bound.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, method(c.Request.Method), statusCode(c.Writer.Status())).
			Observe(time.Since(start).Seconds())
	}
}

// method bounds the method label to the ones HTTP defines; any token is a
// valid method on the wire.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

func statusCode(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}
