package web

import (
	"context"
	"fmt"
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

// blockedTokens stands for a core whose database (or hashing queue) does
// not answer: every grant waits until the request's deadline and returns
// the context's own error, as a driver does.
type blockedTokens struct{ stubTokens }

func (blockedTokens) Token(ctx context.Context, _ server.TokenRequest) (*server.TokenResponse, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("record login attempt: %w", ctx.Err())
}

// TestDeadlineAnswers503: the engine's own deadline
// (Config.RequestTimeout, SHOPAUTH_REQUEST_TIMEOUT; here 20 ms) fires
// during a password login or a refresh at /oauth2/token: 503
// temporarily_unavailable with Retry-After, never 500.
func TestDeadlineAnswers503(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e, err := New(Config{Tokens: blockedTokens{}, Keys: stubKeys{}, Ready: func(context.Context) error { return nil },
		RequestTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	for _, form := range []url.Values{
		{"grant_type": {"password"}, "username": {"sonia@spryker.com"}, "password": {"change123"}},
		{"grant_type": {"refresh_token"}, "refresh_token": {"rt"}},
	} {
		t.Run(form.Get("grant_type"), func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("web", "secret")
			w := httptest.NewRecorder()
			start := time.Now()
			e.ServeHTTP(w, req)
			require.Less(t, time.Since(start), 10*time.Second)
			require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
			require.Equal(t, "1", w.Header().Get("Retry-After"))
			require.Contains(t, w.Body.String(), `"error":"temporarily_unavailable"`)
		})
	}
}
