package clients

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// countingStore serves one mutable registration and counts reads.
type countingStore struct {
	client storage.Client
	err    error
	reads  int
}

func (s *countingStore) GetClient(_ context.Context, id string) (storage.Client, error) {
	s.reads++
	if s.err != nil {
		return storage.Client{}, s.err
	}
	if id != s.client.ID {
		return storage.Client{}, storage.ErrNotFound
	}
	return s.client, nil
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	store := &countingStore{client: storage.Client{ID: "web", SecretHash: "old"}}
	cache := NewCache(store, 5*time.Second, func() time.Time { return now })

	get := func(id string) (storage.Client, error) { return cache.GetClient(ctx, id) }

	c, err := get("web")
	require.NoError(t, err)
	require.Equal(t, "old", c.SecretHash)
	require.Equal(t, 1, store.reads)

	store.client.SecretHash = "new"
	now = now.Add(4 * time.Second)
	c, err = get("web")
	require.NoError(t, err)
	require.Equal(t, "old", c.SecretHash, "within the TTL the cached row is served")
	require.Equal(t, 1, store.reads)

	now = now.Add(time.Second)
	c, err = get("web")
	require.NoError(t, err)
	require.Equal(t, "new", c.SecretHash, "at the TTL the row is read again")
	require.Equal(t, 2, store.reads)

	for range 3 {
		_, err = get("nobody")
		require.ErrorIs(t, err, storage.ErrNotFound)
	}
	require.Equal(t, 5, store.reads, "unknown ids are not cached")

	// A client deleted (or a store failing) after its entry expired is not
	// served from the stale entry.
	now = now.Add(5 * time.Second)
	store.err = errors.New("database down")
	_, err = get("web")
	require.ErrorContains(t, err, "database down")
	store.err = nil
	store.client.ID = "renamed"
	_, err = get("web")
	require.ErrorIs(t, err, storage.ErrNotFound)
}
