package harness

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

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// CallToken posts form to the token endpoint as the demo client.
func (s *TestServer) CallToken(t testing.TB, form url.Values) (int, TokenBody) {
	t.Helper()
	resp := s.PostForm(t, "/oauth2/token", form, app.DemoClientID, app.DemoClientSecret)
	return resp.StatusCode, DecodeToken(t, resp)
}

// Login runs the password grant for the demo customer with scope (and
// nonce, when not empty) and requires success.
func (s *TestServer) Login(t testing.TB, scope, nonce string) TokenBody {
	t.Helper()
	form := PasswordForm(scope)
	if nonce != "" {
		form.Set("nonce", nonce)
	}
	status, body := s.CallToken(t, form)
	require.Equal(t, http.StatusOK, status, "login: %s", body.Error)
	return body
}

// Refresh runs the refresh grant as the demo client.
func (s *TestServer) Refresh(t testing.TB, refreshToken string) (int, TokenBody) {
	t.Helper()
	return s.CallToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// Introspect asks the introspection endpoint about token as client id.
func (s *TestServer) Introspect(t testing.TB, token, id, secret string) map[string]any {
	t.Helper()
	resp := s.PostForm(t, "/oauth2/introspect", url.Values{"token": {token}}, id, secret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body
}

// RequireActive checks the introspection verdict on token for the demo
// client.
func (s *TestServer) RequireActive(t testing.TB, token string, active bool) {
	t.Helper()
	body := s.Introspect(t, token, app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, active, body["active"], "introspection: %v", body)
	if !active {
		require.Len(t, body, 1, "an inactive token reveals nothing else: %v", body)
	}
}

// UserInfo calls GET /userinfo with a Bearer header.
func (s *TestServer) UserInfo(t testing.TB, accessToken string) (*http.Response, string) {
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

// ForeignSignedToken re-signs the claims of token with a key the server
// never had, under the server's current kid and with the same typ: all
// that differs is the signature.
func ForeignSignedToken(t testing.TB, s *TestServer, token string) string {
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
	OtherClientID     = "other-app"
	OtherClientSecret = "other-secret"
	APIClientID       = "orders-api" // a resource server: introspects, gets no tokens
	APIClientSecret   = "orders-api-secret"
	SpaClientID       = "spa" // public; its access tokens name orders-api in aud
)

// AddLifecycleClients registers the extra clients on s.
func AddLifecycleClients(t testing.TB, s *TestServer) {
	t.Helper()
	grants := []string{server.GrantPassword, server.GrantRefreshToken}
	scopes := []string{"openid", "profile", "email", "offline_access"}
	for _, c := range []storage.Client{
		{ID: OtherClientID, SecretHash: clients.HashSecret(OtherClientSecret), ShopKey: app.DemoShop, GrantTypes: grants, Scopes: scopes},
		{ID: APIClientID, SecretHash: clients.HashSecret(APIClientSecret)},
		{ID: SpaClientID, Public: true, ShopKey: app.DemoShop, GrantTypes: grants, Scopes: scopes, Audiences: []string{APIClientID}},
	} {
		c.CreatedAt, c.FirstParty = time.Now(), true // the password grant is first-party only
		require.NoError(t, s.Store.CreateClient(context.Background(), c))
	}
}

// LoginAs runs the password grant for the demo customer as client id
// (public when secret is empty: client_id in the body).
func (s *TestServer) LoginAs(t testing.TB, id, secret, scope string) TokenBody {
	t.Helper()
	form := PasswordForm(scope)
	var resp *http.Response
	if secret == "" {
		form.Set("client_id", id)
		resp = s.PostForm(t, "/oauth2/token", form, "", "")
	} else {
		resp = s.PostForm(t, "/oauth2/token", form, id, secret)
	}
	body := DecodeToken(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, body.Error)
	return body
}
