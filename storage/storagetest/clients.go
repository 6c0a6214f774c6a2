package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func testClients(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()

	tests := []struct {
		name string
		in   storage.Client
		want storage.Client
	}{
		{
			name: "every field, TTLs in whole seconds",
			in: storage.Client{
				ID:                     "spa",
				SecretHash:             hashOf("secret"),
				ShopKey:                "demo",
				GrantTypes:             []string{"authorization_code", "refresh_token"},
				Scopes:                 []string{"openid", "profile", "offline_access"},
				Audiences:              []string{"https://api.example"},
				AccessTokenTTL:         15*time.Minute + 300*time.Millisecond,
				RefreshTokenTTL:        30 * 24 * time.Hour,
				CORSOrigins:            []string{"https://shop.example"},
				TokenProfile:           "spryker",
				AccessTokenAlg:         "ES256",
				IDTokenAlg:             "EdDSA",
				FirstParty:             true,
				RedirectURIs:           []string{"https://shop.example/cb", "https://shop.example/cb?x=\"quoted\""},
				PostLogoutRedirectURIs: []string{"https://shop.example/"},
				CreatedAt:              at,
			},
			want: storage.Client{
				ID:                     "spa",
				SecretHash:             hashOf("secret"),
				ShopKey:                "demo",
				GrantTypes:             []string{"authorization_code", "refresh_token"},
				Scopes:                 []string{"openid", "profile", "offline_access"},
				Audiences:              []string{"https://api.example"},
				AccessTokenTTL:         15 * time.Minute,
				RefreshTokenTTL:        30 * 24 * time.Hour,
				CORSOrigins:            []string{"https://shop.example"},
				TokenProfile:           "spryker",
				AccessTokenAlg:         "ES256",
				IDTokenAlg:             "EdDSA",
				FirstParty:             true,
				RedirectURIs:           []string{"https://shop.example/cb", "https://shop.example/cb?x=\"quoted\""},
				PostLogoutRedirectURIs: []string{"https://shop.example/"},
				CreatedAt:              stored(at),
			},
		},
		{
			name: "public client, empty lists come back nil",
			in:   storage.Client{ID: "app", Public: true, GrantTypes: []string{}, CreatedAt: at},
			want: storage.Client{ID: "app", Public: true, CreatedAt: stored(at)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, s.CreateClient(ctx, tt.in))
			got, err := s.GetClient(ctx, tt.in.ID)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("duplicate id conflicts", func(t *testing.T) {
		require.ErrorIs(t, s.CreateClient(ctx, storage.Client{ID: "spa"}), storage.ErrConflict)
	})
	t.Run("unknown id", func(t *testing.T) {
		_, err := s.GetClient(ctx, "nope")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
	t.Run("ids are case-sensitive", func(t *testing.T) {
		_, err := s.GetClient(ctx, "SPA")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
	t.Run("list is ordered by id", func(t *testing.T) {
		got, err := s.ListClients(ctx)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, tests[1].want, got[0])
		require.Equal(t, tests[0].want, got[1])
	})
}
