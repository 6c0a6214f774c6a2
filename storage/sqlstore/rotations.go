package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/shopauth/shopauth/storage"
)

// Group commit of refresh-token rotations on SQLite (docs/performance.md).
// SQLite admits one writer, and a rotation's cost is mostly its commit:
// writing the changed pages of the table and its indexes to the WAL. The
// rotations that arrive while one transaction runs are therefore queued and
// then run together in the next one: each spend
// is still the one conditional UPDATE that matches a live token exactly
// once (a second spend of the same token in the same batch sees the
// first), a rotation that is refused leaves nothing behind and does not
// touch the others (rotateUndoably), and every caller is answered only after the commit
// that holds its rotation, so an answered rotation is as durable as
// before. MySQL rotates one transaction per call: InnoDB commits
// concurrently, and a batch would widen its row locks.

const (
	// maxRotationBatch bounds one batch, and with it how long the write
	// lock is held at once (other writers, sign-ins, wait behind it).
	maxRotationBatch = 64
	// rotationBatchTimeout bounds one batch's transaction. It does not
	// follow any one caller's context: a caller that gives up must not
	// fail the others. A caller whose context has ended before its batch
	// starts is left out.
	rotationBatchTimeout = 15 * time.Second
)

// rotation is one queued RotateRefreshToken call.
type rotation struct {
	ctx     context.Context
	oldHash string
	now     time.Time
	next    storage.RefreshToken
	access  storage.IssuedAccessToken
	err     error
	done    chan struct{}
}

// rotationQueue collects rotations; one goroutine at a time drains it.
type rotationQueue struct {
	mu       sync.Mutex
	pending  []*rotation
	draining bool
}

// rotateGrouped queues r, starts a drainer unless one runs, and waits for
// r's batch to commit (or for ctx to end).
func (s *Store) rotateGrouped(ctx context.Context, r *rotation) error {
	q := s.rotations
	q.mu.Lock()
	q.pending = append(q.pending, r)
	if !q.draining {
		q.draining = true
		go s.drainRotations()
	}
	q.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		// Like a client that hangs up during a commit: the rotation may
		// still be committed, and a retry within the grace gets it. A
		// deadline is storage.ErrUnavailable, as in a transaction.
		return rotateErr(ctx.Err())
	}
}

// drainRotations runs batches until the queue is empty.
func (s *Store) drainRotations() {
	q := s.rotations
	for {
		q.mu.Lock()
		n := min(len(q.pending), maxRotationBatch)
		if n == 0 {
			q.draining = false
			q.mu.Unlock()
			return
		}
		batch := q.pending[:n:n]
		q.pending = q.pending[n:]
		if len(q.pending) == 0 {
			q.pending = nil
		}
		q.mu.Unlock()
		s.commitRotations(batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// commitRotations runs batch in one transaction and sets each rotation's
// err.
func (s *Store) commitRotations(batch []*rotation) {
	ctx, cancel := context.WithTimeout(context.Background(), rotationBatchTimeout)
	defer cancel()
	// The timeout bounds the transaction (database/sql rolls it back when
	// it passes); its statements run without it, as a cancellable context
	// costs the driver a watching goroutine per statement, and those
	// crowded the writer out of the scheduler. SQLite's busy_timeout still
	// bounds each statement's wait for a lock.
	statementCtx := context.WithoutCancel(ctx)
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		batchTx, err := rotationTxOf(tx)
		if err != nil {
			return err
		}
		for _, r := range batch {
			r.err = nil
			if err := r.ctx.Err(); err != nil {
				r.err = err // its caller has gone (or will see it as unavailable)
				continue
			}
			err := batchTx.rotateUndoably(statementCtx, r.oldHash, r.now, r.next, r.access)
			if err != nil && !errors.Is(err, storage.ErrConflict) && !isDuplicate(err) {
				return err // the database failed: the whole batch fails
			}
			r.err = err
		}
		return nil
	})
	for _, r := range batch {
		if err != nil && r.err == nil {
			r.err = err // the batch was rolled back
		}
		if r.err != nil {
			r.err = rotateErr(r.err)
		}
	}
}

// rotationTx is a batch's transaction; its three statements go straight
// through database/sql: the connection keeps them prepared
// (stmtcache.go), where gorm would build each one's text anew.
type rotationTx struct {
	sqlTx *sql.Tx
	tx    *gorm.DB
}

var (
	insertRefreshToken = "INSERT INTO refresh_tokens (" + strings.Join(refreshTokenColumns, ", ") +
		") VALUES (?" + strings.Repeat(", ?", len(refreshTokenColumns)-1) + ")"
	insertIssuedAccessToken = "INSERT INTO issued_access_tokens (jti, family_id, expires_at) VALUES (?, ?, ?)"
	// spendRefreshToken is spend's UPDATE.
	spendRefreshToken = "UPDATE refresh_tokens SET spent_at = ?, successor_hash = ? " +
		"WHERE token_hash = ? AND client_id = ? AND family_id = ? AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > ?"
)

func rotationTxOf(tx *gorm.DB) (*rotationTx, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errors.New("sqlstore: a rotation batch runs outside a database/sql transaction")
	}
	return &rotationTx{sqlTx: sqlTx, tx: tx}, nil
}

// rotateUndoably is rotateIn for a rotation in a batch of any size in one
// transaction: when it is refused (storage.ErrConflict: the token is not
// live; a duplicate key) it leaves nothing behind, so the transaction goes
// on for the others. Savepoints would do the same, but each one's journal
// costs the SQLite driver's allocator an mmap and munmap, which made a
// batch slower than single transactions (docs/performance.md). The rows
// are inserted before the spend, so undoing is deleting the rows this call
// inserted, by their keys; nothing else writes while the transaction holds
// SQLite's write lock. Any other error means the database failed.
func (st *rotationTx) rotateUndoably(ctx context.Context, oldHash string, now time.Time, next storage.RefreshToken, access storage.IssuedAccessToken) error {
	m := fromRefreshToken(next)
	if _, err := st.sqlTx.ExecContext(ctx, insertRefreshToken, m.scanTargets()...); err != nil {
		return err
	}
	undo := func(refused error, jti string) error {
		if jti != "" {
			if err := st.tx.Where("jti = ?", jti).Delete(&issuedAccessTokenModel{}).Error; err != nil {
				return err
			}
		}
		if err := st.tx.Where("token_hash = ?", m.TokenHash).Delete(&refreshTokenModel{}).Error; err != nil {
			return err
		}
		return refused
	}
	if access.JTI != "" {
		a := fromIssuedAccessToken(access)
		if _, err := st.sqlTx.ExecContext(ctx, insertIssuedAccessToken, a.JTI, a.FamilyID, a.ExpiresAt); err != nil {
			if !isDuplicate(err) {
				return err
			}
			return undo(err, "")
		}
	}
	res, err := st.sqlTx.ExecContext(ctx, spendRefreshToken, dbFineTime(now), next.TokenHash, oldHash, next.ClientID, next.FamilyID, dbTime(now))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return undo(storage.ErrConflict, access.JTI)
	}
	return nil
}
