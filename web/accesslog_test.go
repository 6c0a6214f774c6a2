package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/oautherr"
)

type stubTokens struct{}

func (stubTokens) Token(context.Context, server.TokenRequest) (*server.TokenResponse, error) {
	return nil, oautherr.ErrInvalidGrant
}
func (stubTokens) Issuer() string { return "https://auth.example.com" }

type stubKeys struct{}

func (stubKeys) JWKS() []byte                { return []byte(`{"keys":[]}`) }
func (stubKeys) JWKSMaxAge() time.Duration   { return time.Hour }
func (stubKeys) SigningAlgorithms() []string { return []string{"RS256"} }

// TestAccessLogQuietRoutes: the public documents and probes log at debug
// only, every other request at info, and a failure always.
func TestAccessLogQuietRoutes(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ready := func(context.Context) error { return nil }
	e, err := New(Config{Tokens: stubTokens{}, Keys: stubKeys{}, Ready: ready, Logger: logger})
	require.NoError(t, err)

	tests := []struct {
		method, path string
		logged       bool
	}{
		{http.MethodGet, PathJWKS, false},
		{http.MethodGet, PathOIDCDiscovery, false},
		{http.MethodGet, PathRFC8414, false},
		{http.MethodGet, "/healthz", false},
		{http.MethodPost, PathToken, true},
		{http.MethodGet, "/nowhere", true},
	}
	for _, tt := range tests {
		logs.Reset()
		req := httptest.NewRequest(tt.method, tt.path, strings.NewReader("grant_type=password"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		e.ServeHTTP(httptest.NewRecorder(), req)
		require.Equal(t, tt.logged, strings.Contains(logs.String(), `"msg":"http request"`), "%s %s: %s", tt.method, tt.path, logs.String())
	}
}
