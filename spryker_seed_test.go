package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

const sprykerSeed = "testdata/spryker/seed_000_52730b9be288ba30.txt"

// seedExchange returns the request and the response sample of the seed, as
// the bytes between its ```json fences.
func seedExchange(t *testing.T) (request, response []byte) {
	t.Helper()
	text, err := os.ReadFile(sprykerSeed)
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(text, -1)
	require.Len(t, blocks, 2, "the seed has a request and a response sample")
	return blocks[0][1], blocks[1][1]
}

// jsonShape describes a JSON value by its structure: member names and value
// kinds, not values.
func jsonShape(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&v))
	var shape func(v any) any
	shape = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, member := range v {
				out[k] = shape(member)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = shape(e)
			}
			return out
		case nil:
			return "null"
		default:
			return fmt.Sprintf("%T", v)
		}
	}
	return shape(v)
}

// requireSeedAnswer checks a 201 against the seed's response sample: the
// same members with the same kinds of values, and the values that do not
// depend on the server (type, id, tokenType, expiresIn, idCompanyUser).
func requireSeedAnswer(t *testing.T, issuer string, got glueResponse) {
	t.Helper()
	_, sample := seedExchange(t)
	require.Equal(t, http.StatusCreated, got.Status, "body: %s", got.Body)
	require.Equal(t, "application/vnd.api+json", got.Header.Get("Content-Type"))
	require.Equal(t, jsonShape(t, sample), jsonShape(t, got.Body))

	type doc struct {
		Data struct {
			Type       string          `json:"type"`
			ID         json.RawMessage `json:"id"`
			Attributes struct {
				TokenType     string `json:"tokenType"`
				ExpiresIn     int64  `json:"expiresIn"`
				IDCompanyUser string `json:"idCompanyUser"`
			} `json:"attributes"`
			Links struct {
				Self string `json:"self"`
			} `json:"links"`
		} `json:"data"`
	}
	var want, have doc
	require.NoError(t, json.Unmarshal(sample, &want))
	require.NoError(t, json.Unmarshal(got.Body, &have))
	require.Equal(t, want.Data.Type, have.Data.Type)
	require.Equal(t, string(want.Data.ID), string(have.Data.ID))
	require.Equal(t, want.Data.Attributes, have.Data.Attributes)
	require.Equal(t, issuer+"/access-tokens", have.Data.Links.Self)
}

// TestSprykerSeedAgainstServeDemo sends the seed's request, byte for byte,
// to `shopauth serve --demo` (the real command, on a fresh SQLite file) and
// compares the answer with the seed's response sample.
func TestSprykerSeedAgainstServeDemo(t *testing.T) {
	request, _ := seedExchange(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	issuer := "http://" + addr
	environ := []string{
		"SHOPAUTH_DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "shopauth.db"),
		"SHOPAUTH_HTTP_ADDR=" + addr,
		"SHOPAUTH_ISSUER=" + issuer,
		"SHOPAUTH_LOG_LEVEL=error",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo"}, strings.NewReader(""), &stdout, &stderr, environ)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			require.Zero(t, code, "stderr: %s", stderr.String())
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get(issuer + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "serve --demo did not become ready; stderr: %s", stderr.String())
	require.Contains(t, stdout.String(), "spryker-glue")

	req, err := http.NewRequest(http.MethodPost, issuer+"/access-tokens", bytes.NewReader(request))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	requireSeedAnswer(t, issuer, do(t, req))
}

// TestSprykerSeedRequest is the same exchange on the test harness, whose
// JWKS then verifies the access token with golang-jwt, the library Go
// resource servers commonly use.
func TestSprykerSeedRequest(t *testing.T) {
	ts := newTestServer(t)
	request, _ := seedExchange(t)
	r := ts.glue(t, http.MethodPost, "/access-tokens", string(request), "")
	requireSeedAnswer(t, ts.URL, r)

	var doc struct {
		Data struct {
			Attributes struct {
				AccessToken string `json:"accessToken"`
			} `json:"attributes"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	claims := ts.verifyWithJWKS(t, doc.Data.Attributes.AccessToken, "spryker-glue")
	require.Equal(t, "21", claims["sub"])
	require.Equal(t, "spryker-glue", claims["client_id"])
	require.Equal(t, "customer offline_access", claims["scope"])
	require.Equal(t, demoCompanyUserID, claims["id_company_user"])
	require.Equal(t, "DE--21", claims["customer_reference"])
	require.EqualValues(t, 28800, claims["exp"].(float64)-claims["iat"].(float64))
}

// verifyWithJWKS verifies an access token the way a resource server with
// only the JWKS URL would: golang-jwt, RS256 only, issuer, audience, exp
// required, header typ at+jwt (RFC 9068 §4).
func (s *testServer) verifyWithJWKS(t *testing.T, token, audience string) jwt.MapClaims {
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

// TestSprykerTokenProfile: a client with token_profile spryker gets the
// claims Spryker's Glue resource side reads (spec/spryker.md), verifiable
// through the JWKS, and its tokens work on the dialect's DELETE routes.
func TestSprykerTokenProfile(t *testing.T) {
	const clientID = "glue-backend"
	ts := newTestServer(t, withoutDemo(), withConfig(func(c *config.Config) { c.Adapters.SprykerClientID = clientID }))
	// The demo data as `serve --demo` makes it, plus a Spryker-profile
	// client behind the dialect.
	require.NoError(t, seedDemo(context.Background(), ts.Store, io.Discard, config.Defaults(), testHashParams))
	require.NoError(t, ts.Store.CreateClient(context.Background(), storage.Client{
		ID: clientID, Public: true, ShopKey: demoShop, FirstParty: true,
		GrantTypes: []string{server.GrantPassword, server.GrantRefreshToken}, Scopes: []string{"customer", "offline_access"},
		AccessTokenTTL: sprykerAccessTTL, RefreshTokenTTL: sprykerRefreshTTL, TokenProfile: tokens.ProfileSpryker,
		CreatedAt: time.Now().UTC(),
	}))
	now := time.Now().UTC()
	b2c := ts.addCustomer(t, storage.Customer{ID: 77, Email: "b2c@example.com", EmailVerifiedAt: &now, CustomerReference: "DE--77"})

	tests := []struct {
		email   string
		wantSub string
	}{
		{demoCustomerEmail, `{"id_company_user":"ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac","id_agent":null,"customer_reference":"DE--21","id_customer":21}`},
		{b2c.Email, `{"id_company_user":null,"id_agent":null,"customer_reference":"DE--77","id_customer":77}`},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			session := ts.sprykerLogin(t, tt.email, demoPassword)
			claims := ts.verifyWithJWKS(t, session.AccessToken, clientID)
			require.Equal(t, tt.wantSub, claims["sub"])
			require.Equal(t, clientID, claims["aud"], "aud is the client id, as a string")
			require.Equal(t, []any{"customer"}, claims["scopes"])
			require.Equal(t, clientID, claims["client_id"])

			// The JSON sub names the customer for the DELETE routes.
			r := ts.glue(t, http.MethodDelete, "/refresh-tokens/"+session.RefreshToken, "", session.AccessToken)
			require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
			require.Equal(t, http.StatusUnauthorized, ts.sprykerRefresh(t, session.RefreshToken).Status)
		})
	}
}
