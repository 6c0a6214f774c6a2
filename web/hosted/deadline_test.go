package hosted

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

	"github.com/shopauth/shopauth/server/authorize"
	"github.com/shopauth/shopauth/web"
)

// blockedAuthorizer stands for a core whose database does not answer:
// every step waits until the request's deadline and returns the
// context's own error, as a driver does.
type blockedAuthorizer struct{}

func block(ctx context.Context) (*authorize.Outcome, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("load client: %w", ctx.Err())
}

func (blockedAuthorizer) Authorize(ctx context.Context, _ authorize.Request, _ string) (*authorize.Outcome, error) {
	return block(ctx)
}

func (blockedAuthorizer) LoginPage(ctx context.Context, _ authorize.Request) (*authorize.Outcome, error) {
	return block(ctx)
}

func (blockedAuthorizer) Login(ctx context.Context, _ authorize.Request, _ string, _ authorize.LoginAttempt) (*authorize.Outcome, error) {
	return block(ctx)
}

func (blockedAuthorizer) Consent(ctx context.Context, _ authorize.Request, _ string, _ authorize.ConsentDecision) (*authorize.Outcome, error) {
	return block(ctx)
}

type noLogout struct{ Logout }

// TestDeadlineAnswers503: the request's deadline (SHOPAUTH_REQUEST_TIMEOUT,
// here 20 ms) fires while the authorization endpoint or the login page
// waits for the core: the error page with 503 and Retry-After, never 500.
func TestDeadlineAnswers503(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	h, err := New(Config{Authorizer: blockedAuthorizer{}, Logout: noLogout{}, CSRFKey: make([]byte, 32)})
	require.NoError(t, err)
	e := gin.New()
	e.Use(func(c *gin.Context) { // as web's deadline middleware
		ctx, cancel := context.WithTimeout(c.Request.Context(), 20*time.Millisecond)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	})
	h.Mount(e)
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {"https://shop.test/cb"}, "scope": {"openid"}}
	login := url.Values{"email": {"sonia@spryker.com"}, "password": {"change123"}, "csrf_token": {"x"}}
	for k, v := range q {
		login[k] = v
	}
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, web.PathAuthorize+"?"+q.Encode(), nil),
		httptest.NewRequest(http.MethodGet, PathLogin+"?"+q.Encode(), nil),
		func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, PathLogin, strings.NewReader(login.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(),
	} {
		t.Run(req.Method+" "+req.URL.Path, func(t *testing.T) {
			w := httptest.NewRecorder()
			start := time.Now()
			e.ServeHTTP(w, req)
			require.Less(t, time.Since(start), 10*time.Second)
			require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
			require.Equal(t, "1", w.Header().Get("Retry-After"))
			require.Contains(t, w.Header().Get("Content-Type"), "text/html")
		})
	}
}
