package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/storage"
)

// withoutLoginThrottle keeps tests that fail many logins on purpose clear of
// the per-IP login rate limit.
func withoutLoginThrottle() harness.TestOption {
	return harness.WithConfig(func(c *config.Config) { c.Login.RatePerMinute = 0 })
}

func TestSprykerLifecycle(t *testing.T) {
	ts := harness.NewTestServer(t, withoutLoginThrottle())
	now := time.Now().UTC()
	other := ts.AddCustomer(t, storage.Customer{Email: "other@example.com", EmailVerifiedAt: &now})

	// A B2C customer has no idCompanyUser: the key is absent, not null.
	r := ts.Glue(t, http.MethodPost, "/access-tokens", harness.LoginBody(other.Email, app.DemoPassword), "")
	otherTokens := ts.RequireTokens(t, r, "access-tokens", "/access-tokens")
	require.NotContains(t, string(r.Body), "idCompanyUser")

	// Log in; the B2B customer gets her company user id and Spryker's TTL.
	first := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
	require.Equal(t, app.DemoCompanyUserID, first.IDCompanyUser)
	require.EqualValues(t, 28800, first.ExpiresIn)

	// Refresh: a new access token and a new (rotated) refresh token.
	refreshed := ts.RequireTokens(t, ts.SprykerRefresh(t, first.RefreshToken), "refresh-tokens", "/refresh-tokens")
	require.NotEqual(t, first.AccessToken, refreshed.AccessToken)
	require.NotEqual(t, first.RefreshToken, refreshed.RefreshToken)
	require.Equal(t, app.DemoCompanyUserID, refreshed.IDCompanyUser)

	// A second session of the same customer, and one through the standard
	// endpoint with another client.
	second := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
	resp := ts.PostForm(t, "/oauth2/token", url.Values{
		"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {app.DemoPassword},
		"scope": {"openid offline_access"},
	}, app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var storefront struct {
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&storefront))
	require.NotEmpty(t, storefront.RefreshToken)

	// Revoking another customer's token: 204, and it keeps working.
	r = ts.Glue(t, http.MethodDelete, "/refresh-tokens/"+otherTokens.RefreshToken, "", refreshed.AccessToken)
	require.Equal(t, http.StatusNoContent, r.Status)
	require.Empty(t, r.Body)
	otherTokens = ts.RequireTokens(t, ts.SprykerRefresh(t, otherTokens.RefreshToken), "refresh-tokens", "/refresh-tokens")

	// Revoke the current token of the first session: its family ends (the
	// spent predecessor too) and so do the family's access tokens.
	r = ts.Glue(t, http.MethodDelete, "/refresh-tokens/"+refreshed.RefreshToken, "", refreshed.AccessToken)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	for _, rt := range []string{refreshed.RefreshToken, first.RefreshToken} {
		r = ts.SprykerRefresh(t, rt)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.JSONEq(t, `{"errors":[{"code":"004","status":401,"detail":"Failed to refresh token."}]}`, string(r.Body))
	}
	for _, at := range []string{refreshed.AccessToken, first.AccessToken} {
		r = ts.Glue(t, http.MethodDelete, "/refresh-tokens/mine", "", at)
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.JSONEq(t, `{"errors":[{"code":"001","status":401,"detail":"Invalid access token."}]}`, string(r.Body))
	}

	// The second session is untouched until "mine".
	secondRefreshed := ts.RequireTokens(t, ts.SprykerRefresh(t, second.RefreshToken), "refresh-tokens", "/refresh-tokens")
	r = ts.Glue(t, http.MethodDelete, "/refresh-tokens/mine", "", secondRefreshed.AccessToken)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	require.Empty(t, r.Body)

	// After "mine" every refresh token of the customer fails — the
	// storefront client's too — and other customers' do not.
	for _, rt := range []string{second.RefreshToken, secondRefreshed.RefreshToken} {
		require.Equal(t, http.StatusUnauthorized, ts.SprykerRefresh(t, rt).Status)
	}
	resp = ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {storefront.RefreshToken}},
		app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	ts.RequireTokens(t, ts.SprykerRefresh(t, otherTokens.RefreshToken), "refresh-tokens", "/refresh-tokens")
	for _, at := range []string{second.AccessToken, secondRefreshed.AccessToken} {
		require.Equal(t, http.StatusUnauthorized, ts.Glue(t, http.MethodDelete, "/refresh-tokens/mine", "", at).Status)
	}

	// A new login still works.
	ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
}

// TestSprykerFormEndpoint covers POST /token's success shapes.
func TestSprykerFormEndpoint(t *testing.T) {
	ts := harness.NewTestServer(t)
	resp := ts.PostForm(t, "/token", url.Values{
		"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {app.DemoPassword},
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
	require.Equal(t, http.StatusNoContent, ts.Glue(t, http.MethodDelete, "/refresh-tokens/unknown", "", tok.AccessToken).Status)
	resp = ts.PostForm(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var next struct {
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&next))
	require.NotEqual(t, tok.RefreshToken, next.RefreshToken)
}
