package harness

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
)

// TokenBody is a token endpoint answer, success or RFC 6749 error.
type TokenBody struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	Scope            string `json:"scope"`
	IDToken          string `json:"id_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// PasswordForm is a password grant for the demo customer with scope (none
// when empty).
func PasswordForm(scope string) url.Values {
	f := url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {app.DemoPassword}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// DecodeToken reads a token endpoint answer and checks the headers every
// one must carry (RFC 6749 §5.1: no-store, no-cache, JSON).
func DecodeToken(t testing.TB, resp *http.Response) TokenBody {
	t.Helper()
	var b TokenBody
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &b), "body: %s", raw)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "no-cache", resp.Header.Get("Pragma"))
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"))
	return b
}

// Password runs the password grant for email as the demo client.
func (s *TestServer) Password(t testing.TB, email, password string) (*http.Response, TokenBody) {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}
	resp := s.PostForm(t, "/oauth2/token", form, app.DemoClientID, app.DemoClientSecret)
	return resp, DecodeToken(t, resp)
}
