package metrics

import (
	"database/sql"
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

func TestMiddlewareLabelsRoutePatternsOnly(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	m, err := New(Config{Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	e := gin.New()
	e.Use(m.Middleware())
	e.DELETE("/refresh-tokens/:token", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	tests := []struct {
		method, path      string
		route, verb, code string
	}{
		{http.MethodDelete, "/refresh-tokens/s3cr3t-refresh-token", "/refresh-tokens/:token", "DELETE", "204"},
		{"BREW", "/refresh-tokens/x", "unmatched", "other", "404"},
		{http.MethodGet, "/elsewhere/s3cr3t", "unmatched", "GET", "404"},
	}
	for _, tt := range tests {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, nil))
		require.Equal(t, 1, testutil.CollectAndCount(m.requests.WithLabelValues(tt.route, tt.verb, tt.code).(prometheus.Histogram)), tt.path)
	}
	n, err := testutil.GatherAndCount(m.registry, "shopauth_http_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, len(tests), n, "one series per (pattern, method, code)")
}

func TestObserverCounts(t *testing.T) {
	m, err := New(Config{Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	m.TokenIssued("password", "spryker", "spryker-glue")
	m.TokenIssued("password", "spryker", "spryker-glue")
	m.TokenFailed("refresh_token", "oauth2", "invalid_grant")
	m.HashWaited(3 * time.Millisecond)

	require.Equal(t, 2.0, testutil.ToFloat64(m.issued.WithLabelValues("password", "spryker", "spryker-glue")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.failed.WithLabelValues("refresh_token", "oauth2", "invalid_grant")))
	require.Equal(t, 1, testutil.CollectAndCount(m.hashWait))

	m.MailDelivered("retry")
	m.MailDelivered("failed")
	m.MailDelivered("failed")
	require.Equal(t, 1.0, testutil.ToFloat64(m.mail.WithLabelValues("retry")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.mail.WithLabelValues("failed")))
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
