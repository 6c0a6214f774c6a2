package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// callToken posts form to the token endpoint as the demo client.
func (s *testServer) callToken(t testing.TB, form url.Values) (int, tokenBody) {
	t.Helper()
	resp := s.postForm(t, "/oauth2/token", form, demoClientID, demoClientSecret)
	return resp.StatusCode, decodeToken(t, resp)
}

// login runs the password grant for the demo customer with scope (and
// nonce, when not empty) and requires success.
func (s *testServer) login(t testing.TB, scope, nonce string) tokenBody {
	t.Helper()
	form := passwordForm(scope)
	if nonce != "" {
		form.Set("nonce", nonce)
	}
	status, body := s.callToken(t, form)
	require.Equal(t, http.StatusOK, status, "login: %s", body.Error)
	return body
}

// refresh runs the refresh grant as the demo client.
func (s *testServer) refresh(t testing.TB, refreshToken string) (int, tokenBody) {
	t.Helper()
	return s.callToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// introspect asks the introspection endpoint about token as client id.
func (s *testServer) introspect(t testing.TB, token, id, secret string) map[string]any {
	t.Helper()
	resp := s.postForm(t, "/oauth2/introspect", url.Values{"token": {token}}, id, secret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body
}

// requireActive checks the introspection verdict on token for the demo
// client.
func (s *testServer) requireActive(t testing.TB, token string, active bool) {
	t.Helper()
	body := s.introspect(t, token, demoClientID, demoClientSecret)
	require.Equal(t, active, body["active"], "introspection: %v", body)
	if !active {
		require.Len(t, body, 1, "an inactive token reveals nothing else: %v", body)
	}
}

// userInfo calls GET /userinfo with a Bearer header.
func (s *testServer) userInfo(t testing.TB, accessToken string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/userinfo", nil)
	require.NoError(t, err)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, strings.TrimSpace(string(b))
}

// foreignSignedToken re-signs the claims of token with a key the server
// never had, under the server's current kid and with the same typ: all
// that differs is the signature.
func foreignSignedToken(t testing.TB, s *testServer, token string) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	require.NoError(t, err)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: s.Keys.CurrentKID()}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	require.NoError(t, err)
	jws, err := signer.Sign(payload)
	require.NoError(t, err)
	out, err := jws.CompactSerialize()
	require.NoError(t, err)
	return out
}

// Extra clients of the lifecycle tests.
const (
	otherClientID     = "other-app"
	otherClientSecret = "other-secret"
	apiClientID       = "orders-api" // a resource server: introspects, gets no tokens
	apiClientSecret   = "orders-api-secret"
	spaClientID       = "spa" // public; its access tokens name orders-api in aud
)

// addLifecycleClients registers the extra clients on s.
func addLifecycleClients(t testing.TB, s *testServer) {
	t.Helper()
	grants := []string{server.GrantPassword, server.GrantRefreshToken}
	scopes := []string{"openid", "profile", "email", "offline_access"}
	for _, c := range []storage.Client{
		{ID: otherClientID, SecretHash: clients.HashSecret(otherClientSecret), ShopKey: demoShop, GrantTypes: grants, Scopes: scopes},
		{ID: apiClientID, SecretHash: clients.HashSecret(apiClientSecret)},
		{ID: spaClientID, Public: true, ShopKey: demoShop, GrantTypes: grants, Scopes: scopes, Audiences: []string{apiClientID}},
	} {
		c.CreatedAt, c.FirstParty = time.Now(), true // the password grant is first-party only
		require.NoError(t, s.Store.CreateClient(context.Background(), c))
	}
}

// loginAs runs the password grant for the demo customer as client id
// (public when secret is empty: client_id in the body).
func (s *testServer) loginAs(t testing.TB, id, secret, scope string) tokenBody {
	t.Helper()
	form := passwordForm(scope)
	var resp *http.Response
	if secret == "" {
		form.Set("client_id", id)
		resp = s.postForm(t, "/oauth2/token", form, "", "")
	} else {
		resp = s.postForm(t, "/oauth2/token", form, id, secret)
	}
	body := decodeToken(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, body.Error)
	return body
}
