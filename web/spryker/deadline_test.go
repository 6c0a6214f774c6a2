package spryker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
)

// blockedGrants stands for a core whose database (or hashing queue) does
// not answer: every login and refresh waits until the request's deadline
// and returns the context's own error, as a driver does.
type blockedGrants struct{ *fakeCore }

func (blockedGrants) AdapterToken(ctx context.Context, _ string, _ server.TokenRequest) (*server.TokenResponse, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("record login attempt: %w", ctx.Err())
}

// TestDeadlineAnswers503: the request's deadline (SHOPAUTH_REQUEST_TIMEOUT,
// here 20 ms) fires during a Glue login or refresh: 503 with Retry-After
// in JSON:API, never 500.
func TestDeadlineAnswers503(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	core := blockedGrants{&fakeCore{}}
	h, err := New(Config{Grants: core, AccessTokens: core, Revocations: core, ClientID: "spryker-glue", ShopKey: "acme12aa",
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	e := gin.New()
	e.Use(func(c *gin.Context) { // as web's deadline middleware
		ctx, cancel := context.WithTimeout(c.Request.Context(), 20*time.Millisecond)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	})
	h.Mount(e)
	for _, tt := range []struct{ name, path, body string }{
		{"login", PathAccessTokens, loginJSON},
		{"refresh", PathRefreshTokens, refreshJSON},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			w := serve(e, http.MethodPost, tt.path, "application/vnd.api+json", tt.body)
			require.Less(t, time.Since(start), 10*time.Second)
			require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
			require.Equal(t, "1", w.Header().Get("Retry-After"))
			require.Contains(t, w.Header().Get("Content-Type"), "application/vnd.api+json")
			require.Contains(t, w.Body.String(), `"errors"`)
		})
	}
}
