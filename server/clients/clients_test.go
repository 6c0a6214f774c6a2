package clients

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func TestGrantScope(t *testing.T) {
	c := &Info{Client: storage.Client{Scopes: []string{"openid", "email", "offline_access"}}}
	tests := []struct {
		requested string
		want      []string
		ok        bool
	}{
		{"", []string{"openid", "email", "offline_access"}, true},
		{"   ", []string{"openid", "email", "offline_access"}, true},
		{"email openid", []string{"email", "openid"}, true},
		{"openid openid", []string{"openid"}, true},
		{"openid admin", nil, false},
		{"OPENID", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.requested, func(t *testing.T) {
			got, ok := c.GrantScope(tt.requested)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSecrets(t *testing.T) {
	secret, err := GenerateSecret()
	require.NoError(t, err)
	require.Len(t, secret, 43, "32 bytes, base64url without padding")
	other, err := GenerateSecret()
	require.NoError(t, err)
	require.NotEqual(t, secret, other)

	hash := HashSecret(secret)
	require.Regexp(t, `^[0-9a-f]{64}$`, hash)
	c := &Info{Client: storage.Client{SecretHash: hash}}
	require.True(t, c.VerifyPassword(secret))
	require.False(t, c.VerifyPassword(other))
	require.False(t, c.VerifyPassword(""))
	require.False(t, (&Info{}).VerifyPassword(""), "no stored hash never verifies")
	require.NotContains(t, fmt.Sprintf("%+v", *c), secret, "the plaintext is never kept")
}

func TestAllowsGrantAndTTLs(t *testing.T) {
	c := &Info{Client: storage.Client{GrantTypes: []string{"password"}, AccessTokenTTL: 28800e9}}
	require.True(t, c.AllowsGrant("password"))
	require.False(t, c.AllowsGrant("refresh_token"))
	require.Equal(t, int64(28800), int64(c.AccessTTL(3600e9).Seconds()))
	require.Equal(t, int64(720*3600), int64(c.RefreshTTL(720*3600e9).Seconds()))
}
