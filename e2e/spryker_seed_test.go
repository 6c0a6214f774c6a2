package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/cli"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
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
func requireSeedAnswer(t *testing.T, issuer string, got harness.GlueResponse) {
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
	var stdout, stderr harness.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--demo"}, strings.NewReader(""), &stdout, &stderr, environ)
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
	requireSeedAnswer(t, issuer, harness.Do(t, req))
}

// TestSprykerSeedRequest is the same exchange on the test harness, whose
// JWKS then verifies the access token with golang-jwt, the library Go
// resource servers commonly use.
func TestSprykerSeedRequest(t *testing.T) {
	ts := harness.NewTestServer(t)
	request, _ := seedExchange(t)
	r := ts.Glue(t, http.MethodPost, "/access-tokens", string(request), "")
	requireSeedAnswer(t, ts.URL, r)

	var doc struct {
		Data struct {
			Attributes struct {
				AccessToken string `json:"accessToken"`
			} `json:"attributes"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	claims := ts.VerifyWithJWKS(t, doc.Data.Attributes.AccessToken, "spryker-glue")
	require.Equal(t, "21", claims["sub"])
	require.Equal(t, "spryker-glue", claims["client_id"])
	require.Equal(t, "customer offline_access", claims["scope"])
	require.Equal(t, app.DemoCompanyUserID, claims["id_company_user"])
	require.Equal(t, "DE--21", claims["customer_reference"])
	require.EqualValues(t, 28800, claims["exp"].(float64)-claims["iat"].(float64))
}

// TestSprykerTokenProfile: a client with token_profile spryker gets the
// claims Spryker's Glue resource side reads (docs/spryker.md), verifiable
// through the JWKS, and its tokens work on the dialect's DELETE routes.
func TestSprykerTokenProfile(t *testing.T) {
	const clientID = "glue-backend"
	ts := harness.NewTestServer(t, harness.WithoutDemo(), harness.WithConfig(func(c *config.Config) { c.Adapters.SprykerClientID = clientID }))
	// The demo data as `serve --demo` makes it, plus a Spryker-profile
	// client behind the dialect.
	require.NoError(t, app.SeedDemo(context.Background(), ts.Store, io.Discard, config.Defaults(), harness.TestHashParams))
	require.NoError(t, ts.Store.CreateClient(context.Background(), storage.Client{
		ID: clientID, Public: true, ShopKey: app.DemoShop, FirstParty: true,
		GrantTypes: []string{server.GrantPassword, server.GrantRefreshToken}, Scopes: []string{"customer", "offline_access"},
		AccessTokenTTL: app.SprykerAccessTTL, RefreshTokenTTL: app.SprykerRefreshTTL, TokenProfile: tokens.ProfileSpryker,
		CreatedAt: time.Now().UTC(),
	}))
	now := time.Now().UTC()
	b2c := ts.AddCustomer(t, storage.Customer{ID: 77, Email: "b2c@example.com", EmailVerifiedAt: &now, CustomerReference: "DE--77"})

	tests := []struct {
		email   string
		wantSub string
	}{
		{app.DemoCustomerEmail, `{"id_company_user":"ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac","id_agent":null,"customer_reference":"DE--21","id_customer":21}`},
		{b2c.Email, `{"id_company_user":null,"id_agent":null,"customer_reference":"DE--77","id_customer":77}`},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			session := ts.SprykerLogin(t, tt.email, app.DemoPassword)
			claims := ts.VerifyWithJWKS(t, session.AccessToken, clientID)
			require.Equal(t, tt.wantSub, claims["sub"])
			require.Equal(t, clientID, claims["aud"], "aud is the client id, as a string")
			require.Equal(t, []any{"customer"}, claims["scopes"])
			require.Equal(t, clientID, claims["client_id"])

			// The JSON sub names the customer for the DELETE routes.
			r := ts.Glue(t, http.MethodDelete, "/refresh-tokens/"+session.RefreshToken, "", session.AccessToken)
			require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
			require.Equal(t, http.StatusUnauthorized, ts.SprykerRefresh(t, session.RefreshToken).Status)
		})
	}
}
