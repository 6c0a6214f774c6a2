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

func signingKey(kid string, gen int64) storage.SigningKey {
	return storage.SigningKey{
		KID:                 kid,
		Algorithm:           "RS256",
		Generation:          gen,
		EncryptedPrivateKey: []byte("sealed-" + kid),
		PublicJWK:           []byte(`{"kty":"RSA","kid":"` + kid + `"}`),
		CreatedAt:           baseTime(),
		NotBefore:           baseTime(),
	}
}

func getSigningKey(t *testing.T, s Store, kid string) storage.SigningKey {
	t.Helper()
	ks, err := s.ListSigningKeys(context.Background())
	require.NoError(t, err)
	for _, k := range ks {
		if k.KID == kid {
			return k
		}
	}
	require.Failf(t, "no such key", "kid %s", kid)
	return storage.SigningKey{}
}

func testSigningKeySchedule(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()
	require.NoError(t, s.CreateSigningKey(ctx, signingKey("a", 1)))
	require.NoError(t, s.CreateSigningKey(ctx, signingKey("b", 2)))

	tests := []struct {
		name           string
		retire, remove *time.Time
		wantRetire     *time.Time
		wantRemove     *time.Time
	}{
		{name: "set both", retire: ptr(at.Add(time.Hour)), remove: ptr(at.Add(25 * time.Hour)),
			wantRetire: ptr(stored(at.Add(time.Hour))), wantRemove: ptr(stored(at.Add(25 * time.Hour)))},
		{name: "same values again", retire: ptr(at.Add(time.Hour)), remove: ptr(at.Add(25 * time.Hour)),
			wantRetire: ptr(stored(at.Add(time.Hour))), wantRemove: ptr(stored(at.Add(25 * time.Hour)))},
		{name: "clear both", retire: nil, remove: nil},
		{name: "remove only", remove: ptr(at), wantRemove: ptr(stored(at))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, s.SetSigningKeySchedule(ctx, "a", tt.retire, tt.remove))
			got := getSigningKey(t, s, "a")
			require.Equal(t, tt.wantRetire, got.RetireAfter)
			require.Equal(t, tt.wantRemove, got.RemoveAfter)
			// Nothing else moves, and the other key is untouched.
			want := signingKey("a", 1)
			want.CreatedAt, want.NotBefore = stored(want.CreatedAt), stored(want.NotBefore)
			want.RetireAfter, want.RemoveAfter = got.RetireAfter, got.RemoveAfter
			require.Equal(t, want, got)
			other := getSigningKey(t, s, "b")
			require.Nil(t, other.RetireAfter)
			require.Nil(t, other.RemoveAfter)
		})
	}
	t.Run("unknown kid", func(t *testing.T) {
		require.ErrorIs(t, s.SetSigningKeySchedule(ctx, "nope", nil, ptr(at)), storage.ErrNotFound)
	})
}

func testRekeySigningKeys(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	for i, kid := range []string{"a", "b", "c"} {
		require.NoError(t, s.CreateSigningKey(ctx, signingKey(kid, int64(i+1))))
	}
	ciphertext := func(kid string) string { return string(getSigningKey(t, s, kid).EncryptedPrivateKey) }

	t.Run("all or nothing: a stale Old changes no row", func(t *testing.T) {
		err := s.RekeySigningKeys(ctx, []storage.SigningKeyCiphertext{
			{KID: "a", Old: []byte("sealed-a"), New: []byte("new-a")},
			{KID: "b", Old: []byte("not what b holds"), New: []byte("new-b")},
		})
		require.ErrorIs(t, err, storage.ErrConflict)
		require.Equal(t, "sealed-a", ciphertext("a"))
		require.Equal(t, "sealed-b", ciphertext("b"))
	})
	t.Run("unknown kid changes no row", func(t *testing.T) {
		err := s.RekeySigningKeys(ctx, []storage.SigningKeyCiphertext{
			{KID: "a", Old: []byte("sealed-a"), New: []byte("new-a")},
			{KID: "nope", Old: []byte("x"), New: []byte("y")},
		})
		require.ErrorIs(t, err, storage.ErrNotFound)
		require.Equal(t, "sealed-a", ciphertext("a"))
	})
	t.Run("replaces every listed row", func(t *testing.T) {
		require.NoError(t, s.RekeySigningKeys(ctx, []storage.SigningKeyCiphertext{
			{KID: "a", Old: []byte("sealed-a"), New: []byte("new-a")},
			{KID: "b", Old: []byte("sealed-b"), New: []byte{0x00, 0xff}},
		}))
		require.Equal(t, "new-a", ciphertext("a"))
		require.Equal(t, "\x00\xff", ciphertext("b"))
		require.Equal(t, "sealed-c", ciphertext("c"), "unlisted key untouched")
		k := getSigningKey(t, s, "a")
		require.Equal(t, `{"kty":"RSA","kid":"a"}`, string(k.PublicJWK), "only the ciphertext changes")
	})
	t.Run("empty list", func(t *testing.T) {
		require.NoError(t, s.RekeySigningKeys(ctx, nil))
	})
}
