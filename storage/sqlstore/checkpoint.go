package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	gosqlite "modernc.org/sqlite"
)

// In WAL mode every commit appends pages to the -wal file, and a
// checkpoint copies them back into the database file: a write of each
// changed page and an fdatasync of both files. SQLite runs it in the
// commit that crosses wal_autocheckpoint pages, so the one writer
// connection (split.go), and every rotation queued behind it, stopped for
// it: on a disk whose fdatasync takes 5–9 ms that was the slow tenth of
// all refreshes (docs/performance.md, "Checkpoints beside the writer").
//
// A checkpointer on a connection of its own, outside the write gate, now
// does that copying on the other core: PASSIVE, so it neither waits for
// nor blocks the writer or the readers. After each write it wakes, copies
// what has been committed, and pauses, so that a busy writer gets at most
// one checkpoint per pause. A passive checkpoint beside a writer that
// keeps appending seldom finds the whole WAL copied, and only then does
// the next write transaction start the WAL file over; the writer's own
// autocheckpoint (wal_autocheckpoint in writerPragmas) stays as the backstop that
// bounds the file. By then nearly all its frames have been copied, and the
// writer's share is the few frames since.

// checkpointPause is the least time between two checkpoints of the
// checkpointer: at least 20 ms of commits go into each.
const checkpointPause = 20 * time.Millisecond

// checkpointer runs passive WAL checkpoints on its own connection after
// writes, until stopped.
type checkpointer struct {
	db     *sql.DB
	cancel context.CancelFunc
	done   chan struct{}
	stop   sync.Once
}

// startCheckpointer opens a connection to dsn (not behind the write gate)
// and checkpoints after each signal on written, at most once per
// checkpointPause, logging the first error of each run of failures.
func startCheckpointer(dsn string, written <-chan struct{}, logger *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		failing := false
		runCheckpoints(ctx, written, checkpointPause, func(ctx context.Context) {
			err := passiveCheckpoint(ctx, db)
			if err != nil && !failing && ctx.Err() == nil {
				logger.Warn("sqlite WAL checkpoint failed; the writer's own checkpoints go on", "err", err)
			}
			failing = err != nil
		})
	}()
	return c, nil
}

// Close stops the checkpointer, waits for a checkpoint under way, and
// closes its connection.
func (c *checkpointer) Close() error {
	var err error
	c.stop.Do(func() {
		c.cancel()
		<-c.done
		err = c.db.Close()
	})
	return err
}

// runCheckpoints calls checkpoint once after each signal on written
// (signals that arrive meanwhile count as one) and then waits pause before
// it listens again, until ctx ends.
func runCheckpoints(ctx context.Context, written <-chan struct{}, pause time.Duration, checkpoint func(context.Context)) {
	wait := time.NewTimer(pause)
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-written:
		}
		checkpoint(ctx)
		wait.Reset(pause)
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
	}
}

// passiveCheckpoint copies the WAL's committed frames into the database
// file as far as no reader still needs the older pages. Another
// checkpoint under way (the writer's) is no error: it copies the same.
func passiveCheckpoint(ctx context.Context, db *sql.DB) error {
	var busy, frames, copied int
	err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) && liteErr.Code()&0xff == sqliteBusy {
		return nil
	}
	return err
}
