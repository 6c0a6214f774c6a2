package customers

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/oautherr"
)

// TestHashPasswordTakesASlot: a new password is hashed in a login's slot,
// so with every slot held it waits and is then refused with 503, like a
// login; once a slot is free it hashes, and the hash verifies.
func TestHashPasswordTakesASlot(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.HashConcurrency = 1; c.HashQueueTimeout = 20 * time.Millisecond })
	release, err := f.auth.acquireSlot(context.Background())
	require.NoError(t, err)
	_, err = f.auth.HashPassword(context.Background(), "a new password")
	require.ErrorIs(t, err, oautherr.ErrTemporarilyUnavailable)
	release()

	hash, err := f.auth.HashPassword(context.Background(), "a new password")
	require.NoError(t, err)
	ok, rehash, err := f.hasher.Verify(hash, "a new password")
	require.NoError(t, err)
	require.True(t, ok)
	require.False(t, rehash)
	// The slot was given back: a login does not wait.
	_, err = f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "change123")
	require.NoError(t, err)
}
