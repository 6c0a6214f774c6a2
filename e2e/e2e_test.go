package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestEndToEndWithRealClientLibraries drives the server the way third-party
// code does: golang.org/x/oauth2 for the password and refresh grants, and
// go-oidc for discovery and verifying the access token's signature through
// the published key set.
func TestEndToEndWithRealClientLibraries(t *testing.T) {
	for _, backend := range []struct {
		name string
		opts []harness.TestOption
	}{
		{"sqlite", nil},
		{"mysql", []harness.TestOption{harness.WithMySQL()}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, backend.opts...)
			ctx := context.Background()

			provider, err := oidc.NewProvider(ctx, ts.URL)
			require.NoError(t, err, "discovery must be consistent with the issuer")
			require.Equal(t, ts.URL+"/oauth2/token", provider.Endpoint().TokenURL)

			conf := &oauth2.Config{
				ClientID:     app.DemoClientID,
				ClientSecret: app.DemoClientSecret,
				Endpoint:     provider.Endpoint(),
				Scopes:       []string{"openid", "email", "offline_access"},
			}
			tok, err := conf.PasswordCredentialsToken(ctx, app.DemoCustomerEmail, app.DemoPassword)
			require.NoError(t, err)
			require.Equal(t, "Bearer", tok.TokenType)
			require.NotEmpty(t, tok.RefreshToken)
			require.Equal(t, "openid email offline_access", tok.Extra("scope"))

			// The access token verifies through the remote JWKS alone.
			keySet := oidc.NewRemoteKeySet(ctx, ts.URL+"/.well-known/jwks.json")
			payload, err := keySet.VerifySignature(ctx, tok.AccessToken)
			require.NoError(t, err)
			var claims map[string]any
			require.NoError(t, json.Unmarshal(payload, &claims))
			require.Equal(t, ts.URL, claims["iss"])
			require.Equal(t, "21", claims["sub"])
			require.Equal(t, app.DemoClientID, claims["client_id"])
			require.Equal(t, "acme12aa", claims["shop"])
			require.Equal(t, "DE--21", claims["customer_reference"])
			require.Equal(t, app.DemoCompanyUserID, claims["id_company_user"])

			// The TokenSource refreshes an expired token through the
			// refresh grant and gets a rotated refresh token.
			expired := *tok
			expired.Expiry = time.Now().Add(-time.Minute)
			refreshed, err := conf.TokenSource(ctx, &expired).Token()
			require.NoError(t, err)
			require.NotEqual(t, tok.AccessToken, refreshed.AccessToken)
			require.NotEqual(t, tok.RefreshToken, refreshed.RefreshToken, "refresh tokens rotate on every use")
			_, err = keySet.VerifySignature(ctx, refreshed.AccessToken)
			require.NoError(t, err)
		})
	}
}

// TestAccessTokenShape checks the JOSE header and claims of docs/oauth.md /
// RFC 9068.
func TestAccessTokenShape(t *testing.T) {
	ts := harness.NewTestServer(t)
	body := tokenOK(t, ts, harness.PasswordForm("openid profile"), app.DemoClientID, app.DemoClientSecret)

	jws, err := jose.ParseSignedCompact(body.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	h := jws.Signatures[0].Protected
	require.Equal(t, "RS256", h.Algorithm)
	require.Equal(t, ts.Keys.CurrentKID(), h.KeyID)
	require.Equal(t, "at+jwt", h.ExtraHeaders["typ"])

	payload, err := ts.Keys.Verify(body.AccessToken)
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(payload.Payload, &c))
	for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "shop"} {
		require.Contains(t, c, k)
	}
	require.Equal(t, "openid profile", c["scope"])
	require.Equal(t, c["iat"], c["nbf"])
	require.InDelta(t, 3600, c["exp"].(float64)-c["iat"].(float64), 0, "default SHOPAUTH_ACCESS_TOKEN_TTL is 1h")
	require.Empty(t, body.RefreshToken, "no refresh token without offline_access")
	require.Equal(t, int64(3600), body.ExpiresIn)
}

// TestTokenSurvivesRestart: a token issued before a restart verifies
// against the JWKS served after it (the key is persisted, encrypted).
func TestTokenSurvivesRestart(t *testing.T) {
	first := harness.NewTestServer(t)
	body := tokenOK(t, first, harness.PasswordForm(""), app.DemoClientID, app.DemoClientSecret)

	second := harness.NewTestServer(t, harness.WithStore(first.Store))
	resp, err := http.Get(second.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	jws, err := jose.ParseSignedCompact(body.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	keys := set.Key(jws.Signatures[0].Protected.KeyID)
	require.Len(t, keys, 1)
	_, err = jws.Verify(keys[0].Key)
	require.NoError(t, err)
}

func TestJWKSPublishesPublicKeysOnly(t *testing.T) {
	ts := harness.NewTestServer(t)
	resp, err := http.Get(ts.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Regexp(t, `^public, max-age=\d+$`, resp.Header.Get("Cache-Control"))
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	require.NotEmpty(t, raw.Keys)
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			require.NotContains(t, k, private)
		}
		require.Equal(t, "RSA", k["kty"])
		require.Equal(t, "sig", k["use"])
		require.Equal(t, "RS256", k["alg"])
		require.NotEmpty(t, k["kid"])
	}
}

func TestDiscoveryDocumentsAgree(t *testing.T) {
	ts := harness.NewTestServer(t)
	get := func(path string) map[string]any {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"))
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
	oidcDoc := get("/.well-known/openid-configuration")
	oauthDoc := get("/.well-known/oauth-authorization-server")
	require.Equal(t, ts.URL, oidcDoc["issuer"])
	for k, v := range oauthDoc {
		require.Equal(t, v, oidcDoc[k], "member %s differs between the two documents", k)
	}
	for k, v := range oidcDoc {
		if s, ok := v.([]any); ok {
			require.NotEmpty(t, s, "member %s must be omitted rather than empty", k)
		}
		if url, ok := v.(string); ok && (strings.HasSuffix(k, "_endpoint") || k == "jwks_uri") {
			require.True(t, strings.HasPrefix(url, ts.URL+"/"), "%s=%s is not under the issuer", k, url)
		}
	}
	require.Contains(t, oidcDoc["grant_types_supported"], "password")
	require.Contains(t, oidcDoc["grant_types_supported"], "refresh_token")
}

func TestHealthAndReadiness(t *testing.T) {
	ts := harness.NewTestServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	require.NoError(t, ts.Store.Close())
	resp, err := http.Get(ts.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "readyz must fail when the database is gone")
	resp, err = http.Get(ts.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "liveness does not depend on the database")
}
