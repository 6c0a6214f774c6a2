package storagetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func testShops(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()

	shops := []storage.Shop{
		{Key: "zeta", Name: "Zeta", Locale: "de_DE", CORSOrigins: []string{"https://zeta.example", "https://www.zeta.example"}, Active: true, CreatedAt: at},
		{Key: "alpha", Name: "Älpha ☃", Locale: "en_US", CORSOrigins: []string{}, Active: false, CreatedAt: at},
		{Key: "Alpha", Name: "case differs", CreatedAt: at},
	}
	for _, shop := range shops {
		require.NoError(t, s.CreateShop(ctx, shop))
	}

	tests := []struct {
		name    string
		key     string
		want    storage.Shop
		wantErr error
	}{
		{
			name: "list and times round trip",
			key:  "zeta",
			want: storage.Shop{Key: "zeta", Name: "Zeta", Locale: "de_DE", CORSOrigins: []string{"https://zeta.example", "https://www.zeta.example"}, Active: true, CreatedAt: stored(at)},
		},
		{
			name: "empty list comes back nil, utf8mb4 name",
			key:  "alpha",
			want: storage.Shop{Key: "alpha", Name: "Älpha ☃", Locale: "en_US", Active: false, CreatedAt: stored(at)},
		},
		{
			name: "keys are case-sensitive",
			key:  "Alpha",
			want: storage.Shop{Key: "Alpha", Name: "case differs", CreatedAt: stored(at)},
		},
		{name: "unknown key", key: "missing", wantErr: storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.GetShop(ctx, tt.key)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("duplicate key conflicts", func(t *testing.T) {
		err := s.CreateShop(ctx, storage.Shop{Key: "zeta", Name: "again"})
		require.ErrorIs(t, err, storage.ErrConflict)
	})

	t.Run("zero CreatedAt is set to now", func(t *testing.T) {
		require.NoError(t, s.CreateShop(ctx, storage.Shop{Key: "now"}))
		got, err := s.GetShop(ctx, "now")
		require.NoError(t, err)
		require.False(t, got.CreatedAt.IsZero())
		require.Equal(t, got.CreatedAt, stored(got.CreatedAt))
	})

	t.Run("list is ordered by key", func(t *testing.T) {
		got, err := s.ListShops(ctx)
		require.NoError(t, err)
		keys := make([]string, 0, len(got))
		for _, shop := range got {
			keys = append(keys, shop.Key)
		}
		// Byte order: upper case before lower case on every backend.
		require.Equal(t, []string{"Alpha", "alpha", "now", "zeta"}, keys)
	})
}

func testIsEmpty(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	tests := []struct {
		name string
		fill func(t *testing.T, s Store)
		want bool
	}{
		{name: "fresh store", fill: func(*testing.T, Store) {}, want: true},
		{name: "a shop", fill: func(t *testing.T, s Store) {
			require.NoError(t, s.CreateShop(ctx, storage.Shop{Key: "demo"}))
		}, want: false},
		{name: "a customer", fill: func(t *testing.T, s Store) {
			require.NoError(t, s.CreateCustomer(ctx, &storage.Customer{ShopKey: "demo", EmailNormalized: "a@example.com"}))
		}, want: false},
		{name: "a client", fill: func(t *testing.T, s Store) {
			require.NoError(t, s.CreateClient(ctx, storage.Client{ID: "web"}))
		}, want: false},
		{name: "only a signing key", fill: func(t *testing.T, s Store) {
			require.NoError(t, s.CreateSigningKey(ctx, storage.SigningKey{KID: "k1", Generation: 1, CreatedAt: baseTime()}))
		}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			tt.fill(t, s)
			got, err := s.IsEmpty(ctx)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
