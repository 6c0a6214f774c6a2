package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
)

// waitingTokens waits for its context like a grant whose database does
// not answer, and reports the deadline it was given.
type waitingTokens struct {
	stubTokens
	deadline chan time.Time
}

func (w waitingTokens) Token(ctx context.Context, _ server.TokenRequest) (*server.TokenResponse, error) {
	d, _ := ctx.Deadline()
	w.deadline <- d
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestEveryRequestHasADeadline: a request's context ends RequestTimeout
// after it arrives, so nothing it waits for (the database above all) can
// hold it longer. Without the deadline the handler would wait forever and
// the test time out.
func TestEveryRequestHasADeadline(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	tokens := waitingTokens{deadline: make(chan time.Time, 1)}
	const timeout = 200 * time.Millisecond
	e, err := New(Config{Tokens: tokens, Keys: stubKeys{}, Ready: func(context.Context) error { return nil }, RequestTimeout: timeout})
	require.NoError(t, err)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "client_secret": {"s"}}
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.ServeHTTP(httptest.NewRecorder(), req)
	}()
	select {
	case d := <-tokens.deadline:
		require.WithinDuration(t, start.Add(timeout), d, 100*time.Millisecond)
	case <-time.After(5 * time.Second):
		t.Fatal("the grant was never called")
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the request outlived its deadline")
	}
}

// TestDefaultRequestTimeout: a Config without one gets the documented
// default, not no deadline.
func TestDefaultRequestTimeout(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	tokens := waitingTokens{deadline: make(chan time.Time, 1)}
	e, err := New(Config{Tokens: tokens, Keys: stubKeys{}, Ready: func(context.Context) error { return nil }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=client_credentials&client_id=c&client_secret=s"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	go e.ServeHTTP(httptest.NewRecorder(), req)
	d := <-tokens.deadline
	cancel()
	require.WithinDuration(t, start.Add(DefaultRequestTimeout), d, time.Second)
}

// TestStartingAnswers: while serve waits for the database, liveness is
// fine, readiness is not, and any other request gets a clear 503 with
// Retry-After; Set swaps the real engine in for every later request.
func TestStartingAnswers(t *testing.T) {
	sw := NewSwitch(Starting())
	tests := []struct {
		path       string
		wantStatus int
		wantRetry  bool
	}{
		{"/healthz", http.StatusOK, false},
		{"/readyz", http.StatusServiceUnavailable, false},
		{"/oauth2/token", http.StatusServiceUnavailable, true},
		{"/.well-known/jwks.json", http.StatusServiceUnavailable, true},
		{"/api/v1/acme12aa/customers/login", http.StatusServiceUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			sw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			require.Equal(t, tt.wantStatus, rec.Code)
			require.Equal(t, tt.wantRetry, rec.Header().Get("Retry-After") != "")
			require.True(t, json.Valid(rec.Body.Bytes()), rec.Body.String())
		})
	}
	sw.Set(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	rec := httptest.NewRecorder()
	sw.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusTeapot, rec.Code)
}
