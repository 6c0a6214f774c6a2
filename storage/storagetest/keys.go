package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func testSigningKeys(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()

	key := func(kid string, gen int64) storage.SigningKey {
		return storage.SigningKey{
			KID:                 kid,
			Algorithm:           "ES256",
			Generation:          gen,
			EncryptedPrivateKey: []byte{0x00, 0xff, 0x10, byte(gen)},
			PublicJWK:           []byte(`{"kty":"EC","kid":"` + kid + `"}`),
			CreatedAt:           at,
			NotBefore:           at.Add(time.Hour),
		}
	}
	k3 := key("k3", 3)
	k3.RetireAfter = ptr(at.Add(48 * time.Hour))
	k3.RemoveAfter = ptr(at.Add(96 * time.Hour))
	// Created out of order: the list orders by generation, not insertion.
	for _, k := range []storage.SigningKey{k3, key("k1", 1), key("k2", 2)} {
		require.NoError(t, s.CreateSigningKey(ctx, k))
	}

	t.Run("list ordered by generation, fields round trip", func(t *testing.T) {
		got, err := s.ListSigningKeys(ctx)
		require.NoError(t, err)
		require.Len(t, got, 3)
		for i, k := range got {
			require.EqualValues(t, i+1, k.Generation)
		}
		want := k3
		want.CreatedAt = stored(k3.CreatedAt)
		want.NotBefore = stored(k3.NotBefore)
		want.RetireAfter = ptr(stored(*k3.RetireAfter))
		want.RemoveAfter = ptr(stored(*k3.RemoveAfter))
		require.Equal(t, want, got[2])
		require.Nil(t, got[0].RetireAfter)
		require.Nil(t, got[0].RemoveAfter)
	})

	conflicts := []struct {
		name string
		key  storage.SigningKey
	}{
		{name: "duplicate kid", key: key("k1", 4)},
		{name: "duplicate generation", key: key("k4", 2)},
	}
	for _, tt := range conflicts {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, s.CreateSigningKey(ctx, tt.key), storage.ErrConflict)
		})
	}
}
