package shopkey

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
)

// blockedLogins stands for a core whose database (or hashing queue) does
// not answer: a login waits until the request's deadline and returns the
// context's own error, as a driver does.
type blockedLogins struct{}

func (blockedLogins) AdapterToken(ctx context.Context, _ string, _ server.TokenRequest) (*server.TokenResponse, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("record login attempt: %w", ctx.Err())
}

// TestDeadlineAnswers503: the request's deadline (SHOPAUTH_REQUEST_TIMEOUT,
// here 20 ms) fires during a shopKey login: 503 with Retry-After in the
// envelope, never 500.
func TestDeadlineAnswers503(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	core := &fakeCore{}
	h, err := New(Config{Shops: core, Logins: blockedLogins{}, Sessions: core, Carts: fakeCarts{},
		ClientID: "shopkey-storefront", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	e := gin.New()
	e.Use(func(c *gin.Context) { // as web's deadline middleware
		ctx, cancel := context.WithTimeout(c.Request.Context(), 20*time.Millisecond)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	})
	h.Mount(e)
	r := httptest.NewRequest(http.MethodPost, "/api/v1/acme12aa/customers/login", strings.NewReader(loginBody))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	start := time.Now()
	e.ServeHTTP(w, r)
	require.Less(t, time.Since(start), 10*time.Second)
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	require.NotEmpty(t, w.Header().Get("Retry-After"))
	require.Contains(t, w.Body.String(), `"success":false`)
}
