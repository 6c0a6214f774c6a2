package spryker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/tokens"
)

// answeringCore answers every grant with the same response and keeps no
// record, so a benchmark's memory stays flat.
type answeringCore struct{ resp server.TokenResponse }

func (a answeringCore) AdapterToken(context.Context, string, server.TokenRequest) (*server.TokenResponse, error) {
	resp := a.resp
	return &resp, nil
}

func (answeringCore) Issuer() string { return "https://auth.example.com/" }

func (answeringCore) VerifyAccessToken(context.Context, string) (tokens.AccessClaims, error) {
	return tokens.AccessClaims{}, tokens.ErrInvalidToken
}

func (answeringCore) RevokeCustomerRefreshToken(context.Context, uint64, string, string) error {
	return nil
}

func (answeringCore) RevokeAllCustomerRefreshTokens(context.Context, uint64, string) error {
	return nil
}

// BenchmarkAccessTokens measures the dialect's own share of a Glue login:
// reading and checking the JSON:API document, translating it into a grant
// and writing the 201 token document. The core answers at once, so
// password hashing and signing are not in it.
func BenchmarkAccessTokens(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	// Tokens of a realistic size: an RS256 JWT and a refresh token.
	core := answeringCore{resp: server.TokenResponse{
		AccessToken: strings.Repeat("a", 780), TokenType: "Bearer", ExpiresIn: 28800,
		RefreshToken: strings.Repeat("r", 64),
	}}
	h, err := New(Config{Grants: core, AccessTokens: core, Revocations: core, ClientID: "spryker-glue", ShopKey: "acme12aa"})
	if err != nil {
		b.Fatal(err)
	}
	e := gin.New()
	h.Mount(e)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, PathAccessTokens, strings.NewReader(loginJSON))
		r.Header.Set("Content-Type", "application/vnd.api+json")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
