package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunCheckpointsAfterWritesOnly: no signal, no checkpoint; signals that
// arrive together or during the pause are one checkpoint; a signal after
// the pause is another; the loop ends with its context.
func TestRunCheckpointsAfterWritesOnly(t *testing.T) {
	t.Run("signals within a pause are one checkpoint", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		written := make(chan struct{}, 1)
		calls := make(chan struct{}, 10)
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			runCheckpoints(ctx, written, time.Hour, func(context.Context) { calls <- struct{}{} })
		}()

		select {
		case <-calls:
			t.Fatal("a checkpoint ran before anything was written")
		case <-time.After(20 * time.Millisecond):
		}
		written <- struct{}{}
		<-calls
		for range 3 { // the pause (an hour) has not passed: these wait
			select {
			case written <- struct{}{}:
			default:
			}
		}
		select {
		case <-calls:
			t.Fatal("a second checkpoint ran within the pause")
		case <-time.After(20 * time.Millisecond):
		}
		cancel()
		<-ended
	})

	t.Run("a write after the pause is checkpointed again", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		written := make(chan struct{}, 1)
		var calls atomic.Int32
		go runCheckpoints(ctx, written, time.Millisecond, func(context.Context) { calls.Add(1) })
		for want := int32(1); want <= 3; want++ {
			written <- struct{}{}
			require.Eventually(t, func() bool { return calls.Load() == want }, 5*time.Second, time.Millisecond)
		}
	})
}

// TestWriteGateSignalsRelease: giving the gate back wakes the
// checkpointer; releases while a signal waits do not block.
func TestWriteGateSignalsRelease(t *testing.T) {
	gate := newWriteGate()
	for range 3 {
		require.NoError(t, gate.acquire(t.Context()))
		gate.release()
	}
	select {
	case <-gate.released:
	default:
		t.Fatal("no signal after the gate was released")
	}
	select {
	case <-gate.released:
		t.Fatal("releases while a signal waited queued more than one")
	default:
	}
}

// TestCheckpointerCopiesWALIntoDatabase: a SQLite file store's writes
// reach the database file itself soon after they commit, long before the
// writer's own checkpoint (4,000 pages; a migration writes a few hundred).
func TestCheckpointerCopiesWALIntoDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "checkpointed.db")
	s, err := Open(ctx, "sqlite://"+path, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(ctx)
	require.NoError(t, err)

	var pages, pageSize int64
	require.NoError(t, s.sql.QueryRowContext(ctx, "SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()").Scan(&pages, &pageSize))
	require.Greater(t, pages, int64(10), "the migrated schema spans pages")
	require.Eventually(t, func() bool {
		info, err := os.Stat(path)
		return err == nil && info.Size() == pages*pageSize
	}, 5*time.Second, 10*time.Millisecond, "the database file holds every committed page")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "closing twice is harmless")
}
