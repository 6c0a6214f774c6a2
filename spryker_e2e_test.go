package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
)

// glueResponse is one answer of the Spryker dialect, body read.
type glueResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// glue sends a Spryker Glue request: body as given (JSON:API content type
// when it is not empty), and a Bearer token when bearer is not empty.
func (s *testServer) glue(t testing.TB, method, path, body, bearer string) glueResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) glueResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return glueResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// glueTokens is the attributes object of a 201 token document.
type glueTokens struct {
	TokenType     string `json:"tokenType"`
	ExpiresIn     int64  `json:"expiresIn"`
	AccessToken   string `json:"accessToken"`
	RefreshToken  string `json:"refreshToken"`
	IDCompanyUser string `json:"idCompanyUser"`
}

// requireTokens checks a 201 token document of resourceType and returns its
// attributes.
func (s *testServer) requireTokens(t testing.TB, r glueResponse, resourceType, path string) glueTokens {
	t.Helper()
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	require.Equal(t, "application/vnd.api+json", r.Header.Get("Content-Type"))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	var doc struct {
		Data struct {
			Type       string          `json:"type"`
			ID         json.RawMessage `json:"id"`
			Attributes glueTokens      `json:"attributes"`
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

func loginBody(username, password string) string {
	b, _ := json.Marshal(map[string]any{"data": map[string]any{
		"type": "access-tokens", "attributes": map[string]string{"username": username, "password": password},
	}})
	return string(b)
}

func refreshBody(refreshToken string) string {
	b, _ := json.Marshal(map[string]any{"data": map[string]any{
		"type": "refresh-tokens", "attributes": map[string]string{"refreshToken": refreshToken},
	}})
	return string(b)
}

func (s *testServer) sprykerLogin(t testing.TB, username, password string) glueTokens {
	t.Helper()
	return s.requireTokens(t, s.glue(t, http.MethodPost, "/access-tokens", loginBody(username, password), ""), "access-tokens", "/access-tokens")
}

func (s *testServer) sprykerRefresh(t testing.TB, refreshToken string) glueResponse {
	t.Helper()
	return s.glue(t, http.MethodPost, "/refresh-tokens", refreshBody(refreshToken), "")
}

// addCustomer stores a customer of the demo shop with password change123.
func (s *testServer) addCustomer(t testing.TB, c storage.Customer) storage.Customer {
	t.Helper()
	hasher, err := customers.NewHasher(testHashParams)
	require.NoError(t, err)
	c.PasswordHash, err = hasher.Hash(demoPassword)
	require.NoError(t, err)
	now := time.Now().UTC()
	c.ShopKey, c.EmailNormalized, c.CreatedAt, c.UpdatedAt = demoShop, customers.NormalizeEmail(c.Email), now, now
	if c.Name == "" {
		c.Name = "Test"
	}
	require.NoError(t, s.Store.CreateCustomer(context.Background(), &c))
	return c
}

// withoutLoginThrottle keeps tests that fail many logins on purpose clear of
// the per-IP login rate limit.
func withoutLoginThrottle() testOption {
	return withConfig(func(c *config.Config) { c.Login.RatePerMinute = 0 })
}

func TestSprykerLifecycle(t *testing.T) {
	ts := newTestServer(t, withoutLoginThrottle())
	now := time.Now().UTC()
	other := ts.addCustomer(t, storage.Customer{Email: "other@example.com", EmailVerifiedAt: &now})

	// A B2C customer has no idCompanyUser: the key is absent, not null.
	r := ts.glue(t, http.MethodPost, "/access-tokens", loginBody(other.Email, demoPassword), "")
	otherTokens := ts.requireTokens(t, r, "access-tokens", "/access-tokens")
	require.NotContains(t, string(r.Body), "idCompanyUser")

	// Log in; the B2B customer gets her company user id and Spryker's TTL.
	first := ts.sprykerLogin(t, demoCustomerEmail, demoPassword)
	require.Equal(t, demoCompanyUserID, first.IDCompanyUser)
	require.EqualValues(t, 28800, first.ExpiresIn)

	// Refresh: a new access token and a new (rotated) refresh token.
	refreshed := ts.requireTokens(t, ts.sprykerRefresh(t, first.RefreshToken), "refresh-tokens", "/refresh-tokens")
	require.NotEqual(t, first.AccessToken, refreshed.AccessToken)
	require.NotEqual(t, first.RefreshToken, refreshed.RefreshToken)
	require.Equal(t, demoCompanyUserID, refreshed.IDCompanyUser)

	// A second session of the same customer, and one through the standard
	// endpoint with another client.
	second := ts.sprykerLogin(t, demoCustomerEmail, demoPassword)
	resp := ts.postForm(t, "/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {demoCustomerEmail}, "password": {demoPassword},
		"scope": {"openid offline_access"},
	}, demoClientID, demoClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var storefront struct {
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&storefront))
	require.NotEmpty(t, storefront.RefreshToken)

	// Revoking another customer's token: 204, and it keeps working.
	r = ts.glue(t, http.MethodDelete, "/refresh-tokens/"+otherTokens.RefreshToken, "", refreshed.AccessToken)
	require.Equal(t, http.StatusNoContent, r.Status)
	require.Empty(t, r.Body)
	otherTokens = ts.requireTokens(t, ts.sprykerRefresh(t, otherTokens.RefreshToken), "refresh-tokens", "/refresh-tokens")

	// Revoke the current token of the first session: its family ends (the
	// spent predecessor too) and so do the family's access tokens.
	r = ts.glue(t, http.MethodDelete, "/refresh-tokens/"+refreshed.RefreshToken, "", refreshed.AccessToken)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	for _, rt := range []string{refreshed.RefreshToken, first.RefreshToken} {
		r = ts.sprykerRefresh(t, rt)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.JSONEq(t, `{"errors":[{"code":"004","status":401,"detail":"Failed to refresh token."}]}`, string(r.Body))
	}
	for _, at := range []string{refreshed.AccessToken, first.AccessToken} {
		r = ts.glue(t, http.MethodDelete, "/refresh-tokens/mine", "", at)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.JSONEq(t, `{"errors":[{"code":"001","status":401,"detail":"Invalid access token."}]}`, string(r.Body))
	}

	// The second session is untouched until "mine".
	secondRefreshed := ts.requireTokens(t, ts.sprykerRefresh(t, second.RefreshToken), "refresh-tokens", "/refresh-tokens")
	r = ts.glue(t, http.MethodDelete, "/refresh-tokens/mine", "", secondRefreshed.AccessToken)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	require.Empty(t, r.Body)

	// After "mine" every refresh token of the customer fails — the
	// storefront client's too — and other customers' do not.
	for _, rt := range []string{second.RefreshToken, secondRefreshed.RefreshToken} {
		require.Equal(t, http.StatusUnauthorized, ts.sprykerRefresh(t, rt).Status)
	}
	resp = ts.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {storefront.RefreshToken}},
		demoClientID, demoClientSecret)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	ts.requireTokens(t, ts.sprykerRefresh(t, otherTokens.RefreshToken), "refresh-tokens", "/refresh-tokens")
	for _, at := range []string{second.AccessToken, secondRefreshed.AccessToken} {
		require.Equal(t, http.StatusUnauthorized, ts.glue(t, http.MethodDelete, "/refresh-tokens/mine", "", at).Status)
	}

	// A new login still works.
	ts.sprykerLogin(t, demoCustomerEmail, demoPassword)
}

// TestSprykerFormEndpoint covers POST /token's success shapes.
func TestSprykerFormEndpoint(t *testing.T) {
	ts := newTestServer(t)
	resp := ts.postForm(t, "/token", url.Values{
		"grant_type": {"password"}, "username": {demoCustomerEmail}, "password": {demoPassword},
	}, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &keys))
	require.Len(t, keys, 4, "access_token, token_type, expires_in, refresh_token only: %s", body)
	var tok struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.Unmarshal(body, &tok))
	require.Equal(t, "Bearer", tok.TokenType)
	require.EqualValues(t, 28800, tok.ExpiresIn)
	require.True(t, strings.HasPrefix(string(body), `{"access_token":`), "key order of the spec: %s", body)

	// The access token is good on the JSON:API routes, and the refresh
	// token rotates through the form too.
	require.Equal(t, http.StatusNoContent, ts.glue(t, http.MethodDelete, "/refresh-tokens/unknown", "", tok.AccessToken).Status)
	resp = ts.postForm(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var next struct {
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&next))
	require.NotEqual(t, tok.RefreshToken, next.RefreshToken)
}
