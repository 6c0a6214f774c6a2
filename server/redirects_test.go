package server

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckRedirectURI(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://app.example/cb":         true,
		"https://app.example/cb?x=1":     true,
		"http://127.0.0.1:8081/cb":       true,
		"http://[::1]/cb":                true,
		"http://localhost:3000/cb":       true,
		"com.example.app:/oauth":         true,
		"http://app.example/cb":          false,
		"https://app.example/cb#frag":    false,
		"https://app.example/cb#":        false,
		"/cb":                            false,
		"app.example/cb":                 false,
		"https:///cb":                    false,
		"javascript:alert(1)":            false,
		"data:text/html,hi":              false,
		"http://localhost.evil.example/": false,
	} {
		err := CheckRedirectURI(uri)
		if ok {
			require.NoError(t, err, uri)
		} else {
			require.Error(t, err, uri)
		}
	}
}

func TestCheckClientRedirects(t *testing.T) {
	code := []string{GrantAuthorizationCode}
	require.NoError(t, CheckClientRedirects(code, "shop", []string{"https://a.example/cb"}, []string{"https://a.example/bye"}))
	require.NoError(t, CheckClientRedirects([]string{GrantPassword}, "", nil, nil))
	require.ErrorContains(t, CheckClientRedirects(code, "shop", nil, nil), "--redirect-uri")
	require.ErrorContains(t, CheckClientRedirects(code, "", []string{"https://a.example/cb"}, nil), "--shop")
	require.ErrorContains(t, CheckClientRedirects(code, "shop", []string{"https://a.example/cb"}, []string{"http://a.example/bye"}), "loopback")
}
