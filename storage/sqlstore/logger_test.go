package sqlstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// syncBuffer is a bytes.Buffer safe for the pool's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogger(t *testing.T) {
	ctx := context.Background()
	var out syncBuffer
	s, err := sqlstore.Open(ctx, sqlstoretest.SQLiteDatabaseURL(t), sqlstore.Options{
		Logger: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	// Before Migrate the tables are missing: an unexpected error, logged at
	// warn, without the parameter values.
	_, err = s.GetShop(ctx, "secret-shop-key")
	require.Error(t, err)
	logged := out.String()
	require.Contains(t, logged, "level=WARN")
	require.Contains(t, logged, "no such table")
	require.NotContains(t, logged, "secret-shop-key")

	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	before := out.String()
	// Expected outcomes stay silent.
	_, err = s.GetShop(ctx, "missing")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.NoError(t, s.CreateShop(ctx, storage.Shop{Key: "demo"}))
	require.ErrorIs(t, s.CreateShop(ctx, storage.Shop{Key: "demo"}), storage.ErrConflict)
	require.Equal(t, before, out.String())
}
