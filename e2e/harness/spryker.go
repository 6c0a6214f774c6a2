package harness

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
)

// GlueResponse is one answer of the Spryker dialect, body read.
type GlueResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// Glue sends a Spryker Glue request: body as given (JSON:API content type
// when it is not empty), and a Bearer token when bearer is not empty.
func (s *TestServer) Glue(t testing.TB, method, path, body, bearer string) GlueResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return Do(t, req)
}

// Do sends req and returns the answer with its body read.
func Do(t testing.TB, req *http.Request) GlueResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return GlueResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// GlueTokens is the attributes object of a 201 token document.
type GlueTokens struct {
	TokenType     string `json:"tokenType"`
	ExpiresIn     int64  `json:"expiresIn"`
	AccessToken   string `json:"accessToken"`
	RefreshToken  string `json:"refreshToken"`
	IDCompanyUser string `json:"idCompanyUser"`
}

// RequireTokens checks a 201 token document of resourceType and returns its
// attributes.
func (s *TestServer) RequireTokens(t testing.TB, r GlueResponse, resourceType, path string) GlueTokens {
	t.Helper()
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	require.Equal(t, "application/vnd.api+json", r.Header.Get("Content-Type"))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	var doc struct {
		Data struct {
			Type       string          `json:"type"`
			ID         json.RawMessage `json:"id"`
			Attributes GlueTokens      `json:"attributes"`
			Links      struct {
				Self string `json:"self"`
			} `json:"links"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	require.Equal(t, resourceType, doc.Data.Type)
	require.Equal(t, "null", string(doc.Data.ID))
	require.Equal(t, s.URL+path, doc.Data.Links.Self)
	a := doc.Data.Attributes
	require.Equal(t, "Bearer", a.TokenType)
	require.NotEmpty(t, a.AccessToken)
	require.NotEmpty(t, a.RefreshToken)
	return a
}

// LoginBody is the JSON:API body of a Spryker login (POST /access-tokens).
func LoginBody(username, password string) string {
	b, _ := json.Marshal(map[string]any{"data": map[string]any{
		"type": "access-tokens", "attributes": map[string]string{"username": username, "password": password},
	}})
	return string(b)
}

// RefreshBody is the JSON:API body of a Spryker refresh (POST /refresh-tokens).
func RefreshBody(refreshToken string) string {
	b, _ := json.Marshal(map[string]any{"data": map[string]any{
		"type": "refresh-tokens", "attributes": map[string]string{"refreshToken": refreshToken},
	}})
	return string(b)
}

// SprykerLogin signs in through the Spryker dialect and requires the 201.
func (s *TestServer) SprykerLogin(t testing.TB, username, password string) GlueTokens {
	t.Helper()
	return s.RequireTokens(t, s.Glue(t, http.MethodPost, "/access-tokens", LoginBody(username, password), ""), "access-tokens", "/access-tokens")
}

// SprykerRefresh refreshes through the Spryker dialect.
func (s *TestServer) SprykerRefresh(t testing.TB, refreshToken string) GlueResponse {
	t.Helper()
	return s.Glue(t, http.MethodPost, "/refresh-tokens", RefreshBody(refreshToken), "")
}

// AddCustomer stores a customer of the demo shop with password change123.
func (s *TestServer) AddCustomer(t testing.TB, c storage.Customer) storage.Customer {
	t.Helper()
	hasher, err := customers.NewHasher(TestHashParams)
	require.NoError(t, err)
	c.PasswordHash, err = hasher.Hash(app.DemoPassword)
	require.NoError(t, err)
	now := time.Now().UTC()
	c.ShopKey, c.EmailNormalized, c.CreatedAt, c.UpdatedAt = app.DemoShop, customers.NormalizeEmail(c.Email), now, now
	if c.Name == "" {
		c.Name = "Test"
	}
	require.NoError(t, s.Store.CreateCustomer(context.Background(), &c))
	return c
}

// VerifyWithJWKS verifies an access token the way a resource server with
// only the JWKS URL would: golang-jwt, RS256 only, issuer, audience, exp
// required, header typ at+jwt (RFC 9068 §4).
func (s *TestServer) VerifyWithJWKS(t *testing.T, token, audience string) jwt.MapClaims {
	t.Helper()
	resp, err := http.Get(s.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kty, Kid, Alg, Use, N, E string
		} `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	byKID := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		require.NoError(t, err)
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		require.NoError(t, err)
		byKID[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); typ != "at+jwt" {
			return nil, fmt.Errorf("typ %q", typ)
		}
		kid, _ := tok.Header["kid"].(string)
		key, ok := byKID[kid]
		if !ok {
			return nil, fmt.Errorf("no key %q in the JWKS", kid)
		}
		return key, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(s.URL), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	require.NoError(t, err)
	require.True(t, parsed.Valid)
	return claims
}
