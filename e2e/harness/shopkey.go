package harness

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// SkResponse is one answer of the shopKey dialect, body read.
type SkResponse struct {
	Status int
	Body   string
	Header http.Header
}

// SkPost sends body to /api/v1/{path} (or to path itself when it starts
// with a slash) with the given content type and
// header pairs.
func (s *TestServer) SkPost(t testing.TB, method, path, contentType, body string, header ...string) SkResponse {
	t.Helper()
	target := s.URL + "/api/v1/" + path
	if strings.HasPrefix(path, "/") {
		target = s.URL + path // outside the dialect
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NotEqual(t, http.StatusInternalServerError, resp.StatusCode, string(b))
	return SkResponse{Status: resp.StatusCode, Body: string(b), Header: resp.Header}
}

// SkLoginJSON logs in with a JSON body; token "" sends none.
func (s *TestServer) SkLoginJSON(t testing.TB, shop, email, password, token string) SkResponse {
	t.Helper()
	body := map[string]string{"_method": "POST", "email": email, "password": password}
	if token != "" {
		body["token"] = token
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return s.SkPost(t, http.MethodPost, shop+"/customers/login", "application/json", string(b))
}

// SkLoginForm logs in with a form body, as a legacy HTML form posts it.
func (s *TestServer) SkLoginForm(t testing.TB, shop, email, password, token string) SkResponse {
	t.Helper()
	form := url.Values{"_method": {"POST"}, "email": {email}, "password": {password}}
	if token != "" {
		form.Set("token", token)
	}
	return s.SkPost(t, http.MethodPost, shop+"/customers/login", "application/x-www-form-urlencoded", form.Encode())
}
