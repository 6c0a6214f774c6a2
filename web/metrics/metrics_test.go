package metrics

import (
	"database/sql"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/keys"
)

type fakeKeys []keys.KeyInfo

func (f fakeKeys) List() []keys.KeyInfo { return f }

func TestNewRequiresRegistry(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err)
}

// TestMiddlewareLabelsRoutePatternsOnly: every request is one sample in
// the series of its route pattern, method and code; raw paths never appear.
// Samples are read from the registry: WithLabelValues would create the
// series it is asked about.
//
// Mutant (web/metrics/metrics.go, Middleware): delete the Observe call.
// No series exists and the counts are 0, want 1 and 2.
func TestMiddlewareLabelsRoutePatternsOnly(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	m, err := New(Config{Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	e := gin.New()
	e.Use(m.Middleware())
	e.DELETE("/refresh-tokens/:token", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	tests := []struct {
		method, path      string
		requests          int
		route, verb, code string
	}{
		{http.MethodDelete, "/refresh-tokens/s3cr3t-refresh-token", 2, "/refresh-tokens/:token", "DELETE", "204"},
		{"BREW", "/refresh-tokens/x", 1, "unmatched", "other", "404"},
		{http.MethodGet, "/elsewhere/s3cr3t", 1, "unmatched", "GET", "404"},
	}
	for _, tt := range tests {
		for range tt.requests {
			e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, nil))
		}
	}
	for _, tt := range tests {
		got := histogramSamples(t, m.registry, "shopauth_http_request_duration_seconds",
			map[string]string{"route": tt.route, "method": tt.verb, "code": tt.code})
		require.Equal(t, uint64(tt.requests), got, tt.path)
	}
	n, err := testutil.GatherAndCount(m.registry, "shopauth_http_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, len(tests), n, "one series per (pattern, method, code)")
}

// TestObserverCounts: each observation is counted once in its series.
//
// Counts are read from the registry: WithLabelValues would create the
// series it is asked about.
//
// Mutants (web/metrics/metrics.go): an empty HashWaited gives 0 samples,
// want 2; an empty TokenIssued, TokenFailed or MailDelivered leaves its
// series out.
func TestObserverCounts(t *testing.T) {
	m, err := New(Config{Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	m.TokenIssued("password", "spryker", "spryker-glue")
	m.TokenIssued("password", "spryker", "spryker-glue")
	m.TokenFailed("refresh_token", "oauth2", "invalid_grant")
	m.HashWaited(3 * time.Millisecond)
	m.HashWaited(0)

	m.MailDelivered("retry")
	m.MailDelivered("failed")
	m.MailDelivered("failed")

	want := `
# HELP shopauth_mail_deliveries_total Attempts to deliver a mail from the outbox, by outcome: sent, retry (will be tried again), failed (given up).
# TYPE shopauth_mail_deliveries_total counter
shopauth_mail_deliveries_total{outcome="failed"} 2
shopauth_mail_deliveries_total{outcome="retry"} 1
# HELP shopauth_token_failures_total Grants refused or failed, by grant type, dialect and OAuth error code.
# TYPE shopauth_token_failures_total counter
shopauth_token_failures_total{dialect="oauth2",grant="refresh_token",reason="invalid_grant"} 1
# HELP shopauth_tokens_issued_total Grants that issued tokens, by grant type, dialect and client.
# TYPE shopauth_tokens_issued_total counter
shopauth_tokens_issued_total{client="spryker-glue",dialect="spryker",grant="password"} 2
`
	require.NoError(t, testutil.GatherAndCompare(m.registry, strings.NewReader(want),
		"shopauth_tokens_issued_total", "shopauth_token_failures_total", "shopauth_mail_deliveries_total"))
	require.Equal(t, uint64(2), histogramSamples(t, m.registry, "shopauth_password_hash_wait_seconds", nil))
}

func TestScrapeTimeValues(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	_, err := New(Config{
		Registry: reg,
		DBStats: func() sql.DBStats {
			return sql.DBStats{MaxOpenConnections: 4, OpenConnections: 3, InUse: 1, Idle: 2, WaitCount: 7}
		},
		Keys: fakeKeys{
			{KID: "old", State: keys.StateRetired, CreatedAt: now.Add(-60 * 24 * time.Hour)},
			{KID: "cur", State: keys.StateCurrent, CreatedAt: now.Add(-90 * time.Minute)},
			{KID: "next", State: keys.StateNext, CreatedAt: now.Add(-time.Minute)},
		},
		HashQueue: func() int { return 5 },
		Now:       func() time.Time { return now },
	})
	require.NoError(t, err)
	want := `
# HELP shopauth_db_in_use_connections Database connections in use.
# TYPE shopauth_db_in_use_connections gauge
shopauth_db_in_use_connections 1
# HELP shopauth_db_max_open_connections Maximum open database connections (the pool size).
# TYPE shopauth_db_max_open_connections gauge
shopauth_db_max_open_connections 4
# HELP shopauth_db_wait_count_total Times a query waited for a free database connection.
# TYPE shopauth_db_wait_count_total counter
shopauth_db_wait_count_total 7
# HELP shopauth_password_hash_queue_length Password verifications waiting for a slot in the hashing pool.
# TYPE shopauth_password_hash_queue_length gauge
shopauth_password_hash_queue_length 5
# HELP shopauth_signing_key_age_seconds Age of the key that signs tokens now (absent when none may sign).
# TYPE shopauth_signing_key_age_seconds gauge
shopauth_signing_key_age_seconds{kid="cur"} 5400
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"shopauth_db_in_use_connections", "shopauth_db_max_open_connections", "shopauth_db_wait_count_total",
		"shopauth_password_hash_queue_length", "shopauth_signing_key_age_seconds"))
}

// histogramSamples returns the sample count of the histogram series name
// with exactly these labels, read from reg; 0 when the series does not
// exist.
func histogramSamples(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) uint64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if maps.Equal(got, labels) {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}
