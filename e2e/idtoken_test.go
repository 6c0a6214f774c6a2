package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// idClaims are the ID token claims the tests read.
type idClaims struct {
	Issuer        string `json:"iss"`
	Subject       string `json:"sub"`
	Audience      string `json:"aud"`
	IssuedAt      int64  `json:"iat"`
	ExpiresAt     int64  `json:"exp"`
	AuthTime      int64  `json:"auth_time"`
	Nonce         *string
	Email         *string `json:"email"`
	EmailVerified *bool   `json:"email_verified"`
	Name          *string `json:"name"`
	Shop          string  `json:"shop"`
}

// verifyIDToken checks raw the way a relying party does, with go-oidc
// reading our discovery document and JWKS, and returns its claims.
func verifyIDToken(t *testing.T, s *harness.TestServer, raw string) (idClaims, map[string]any) {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
	provider, err := oidc.NewProvider(ctx, s.URL)
	require.NoError(t, err)
	tok, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: app.DemoClientID, Now: s.Clock.Now}).Verify(ctx, raw)
	require.NoError(t, err)
	var c idClaims
	require.NoError(t, tok.Claims(&c))
	var all map[string]any
	require.NoError(t, tok.Claims(&all))
	if n, ok := all["nonce"].(string); ok {
		c.Nonce = &n
	}
	return c, all
}

func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(b, &h))
	return h
}

func TestIDToken(t *testing.T) {
	s := harness.NewTestServer(t, withoutRateLimit())

	t.Run("claims per scope, nonce, RS256 with kid", func(t *testing.T) {
		before := s.Clock.Now().Unix()
		body := s.Login(t, "openid profile email offline_access", "n-0S6_WzA2Mj")
		require.NotEmpty(t, body.IDToken)
		h := jwtHeader(t, body.IDToken)
		require.Equal(t, "RS256", h["alg"])
		require.Equal(t, s.Keys.CurrentKID(), h["kid"])

		c, _ := verifyIDToken(t, s, body.IDToken)
		require.Equal(t, s.URL, c.Issuer)
		require.Equal(t, "21", c.Subject)
		require.Equal(t, app.DemoClientID, c.Audience)
		require.NotNil(t, c.Nonce)
		require.Equal(t, "n-0S6_WzA2Mj", *c.Nonce)
		require.GreaterOrEqual(t, c.AuthTime, before)
		require.Equal(t, c.IssuedAt, c.AuthTime)
		require.Equal(t, c.IssuedAt+body.ExpiresIn, c.ExpiresAt)
		require.Equal(t, app.DemoCustomerEmail, *c.Email)
		require.True(t, *c.EmailVerified)
		require.Equal(t, "Sonia", *c.Name)
		require.Equal(t, app.DemoShop, c.Shop)
	})

	t.Run("openid alone releases no email or name; no nonce unless sent", func(t *testing.T) {
		body := s.Login(t, "openid", "")
		c, all := verifyIDToken(t, s, body.IDToken)
		require.Equal(t, "21", c.Subject)
		for _, claim := range []string{"email", "email_verified", "name", "nonce"} {
			require.NotContains(t, all, claim)
		}
	})

	t.Run("no openid, no ID token", func(t *testing.T) {
		body := s.Login(t, "profile email", "")
		require.Empty(t, body.IDToken)
	})

	t.Run("refresh: same iss sub aud auth_time, new iat, no nonce", func(t *testing.T) {
		first := s.Login(t, "openid email offline_access", "login-nonce")
		orig, _ := verifyIDToken(t, s, first.IDToken)
		s.Clock.Advance(90 * time.Second)
		status, next := s.Refresh(t, first.RefreshToken)
		require.Equal(t, http.StatusOK, status, next.Error)
		c, all := verifyIDToken(t, s, next.IDToken)
		require.Equal(t, orig.Issuer, c.Issuer)
		require.Equal(t, orig.Subject, c.Subject)
		require.Equal(t, orig.Audience, c.Audience)
		require.Equal(t, orig.AuthTime, c.AuthTime)
		require.GreaterOrEqual(t, c.IssuedAt, orig.IssuedAt+90)
		require.NotContains(t, all, "nonce")
		require.Equal(t, app.DemoCustomerEmail, *c.Email)
	})

	t.Run("an ID token is no access token", func(t *testing.T) {
		body := s.Login(t, "openid", "")
		resp, _ := s.UserInfo(t, body.IDToken)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		s.RequireActive(t, body.IDToken, false)
	})
}
