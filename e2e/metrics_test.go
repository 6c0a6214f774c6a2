package e2e

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// scrape returns the /metrics exposition of ts.
func scrape(t *testing.T, ts *harness.TestServer) string {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// sample returns the value of the sample of metric name carrying every
// label in labels (k="v" pairs), and whether there is one.
func sample(exposition, name string, labels ...string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(series, l) {
				match = false
			}
		}
		if match {
			v, err := strconv.ParseFloat(value, 64)
			return v, err == nil
		}
	}
	return 0, false
}

func TestMetricsCountGrantsAndRoutes(t *testing.T) {
	ts := harness.NewTestServer(t)
	tokenOK(t, ts, harness.PasswordForm("offline_access"), app.DemoClientID, app.DemoClientSecret)
	bad := ts.PostForm(t, "/oauth2/token", withValue(harness.PasswordForm(""), "password", "nope"), app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, http.StatusBadRequest, bad.StatusCode)
	ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"made-up-grant"}}, app.DemoClientID, app.DemoClientSecret)
	resp, err := http.Get(ts.URL + "/no/such/route/secret-looking-token")
	require.NoError(t, err)
	resp.Body.Close()

	body := scrape(t, ts)
	tests := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"issued password grant", "shopauth_tokens_issued_total",
			[]string{`client="storefront"`, `dialect="oauth2"`, `grant="password"`}, 1},
		{"wrong password", "shopauth_token_failures_total",
			[]string{`dialect="oauth2"`, `grant="password"`, `reason="invalid_grant"`}, 1},
		{"unknown grant type is not echoed", "shopauth_token_failures_total",
			[]string{`grant="other"`, `reason="unsupported_grant_type"`}, 1},
		{"token endpoint latency by pattern", "shopauth_http_request_duration_seconds_count",
			[]string{`route="/oauth2/token"`, `method="POST"`, `code="200"`}, 1},
		{"token endpoint errors", "shopauth_http_request_duration_seconds_count",
			[]string{`route="/oauth2/token"`, `code="400"`}, 2},
		{"unmatched paths share one label", "shopauth_http_request_duration_seconds_count",
			[]string{`route="unmatched"`, `code="404"`}, 1},
		{"pool size", "shopauth_db_max_open_connections", nil, float64(ts.Store.Stats().MaxOpenConnections)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := sample(body, tt.metric, tt.labels...)
			require.True(t, ok, "no sample %s%v in:\n%s", tt.metric, tt.labels, body)
			require.Equal(t, tt.want, got)
		})
	}
	require.NotContains(t, body, "secret-looking-token", "a raw path became a label")
	require.NotContains(t, body, "made-up-grant", "a caller's grant_type became a label")

	age, ok := sample(body, "shopauth_signing_key_age_seconds", `kid="`+ts.Keys.CurrentKID()+`"`)
	require.True(t, ok)
	require.GreaterOrEqual(t, age, 0.0)
	queue, ok := sample(body, "shopauth_password_hash_queue_length")
	require.True(t, ok)
	require.Zero(t, queue)
	waits, ok := sample(body, "shopauth_password_hash_wait_seconds_count")
	require.True(t, ok)
	require.Equal(t, 2.0, waits, "both password logins took a hashing slot")
	rss, ok := sample(body, "process_resident_memory_bytes")
	require.True(t, ok)
	require.Greater(t, rss, 0.0)
}
