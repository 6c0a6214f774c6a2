package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"time"

	"github.com/cenkalti/backoff/v5"
	"gorm.io/gorm"
)

// A statement or transaction that the database refused with a retryable
// error (isRetryable: a deadlock victim, a Galera certification conflict,
// a Galera node not yet ready) wrote nothing and is run again: MySQL's
// manual and Galera's ask this of applications. Every write goes through
// one of two places that do it: transaction, for multi-statement writes,
// and retryPool, the pool gorm is given, for single statements outside a
// transaction. A store method need do nothing for it.
//
// The runs are bounded in number and paced by a jittered exponential
// backoff, so writers that collided on different nodes do not collide
// again in step; the caller's deadline ends the waiting early. When the
// runs are spent, convertErr reports storage.ErrUnavailable.
const (
	maxTries        = 6
	firstRetryPause = 10 * time.Millisecond
	maxRetryPause   = 200 * time.Millisecond
)

// retry runs op until it succeeds, fails with an error that is not
// retryable, has run maxTries times, or ctx ends (then ctx's error). The
// pauses between runs add up to at most about half a second.
func retry[T any](ctx context.Context, op func() (T, error)) (T, error) {
	pace := &backoff.ExponentialBackOff{
		InitialInterval:     firstRetryPause,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         maxRetryPause,
	}
	v, err := backoff.Retry(ctx, func() (T, error) {
		v, err := op()
		if err != nil && !isRetryable(err) {
			return v, backoff.Permanent(err)
		}
		return v, err
	}, backoff.WithBackOff(pace), backoff.WithMaxTries(maxTries), backoff.WithMaxElapsedTime(0))
	// A permanent error on the last run comes back still marked.
	if perm, ok := err.(*backoff.PermanentError); ok {
		err = perm.Err
	}
	return v, err
}

// transaction runs fn in a transaction, again when the database rolled it
// back as retryable (see retry). InnoDB and Galera roll the whole
// transaction back: nothing of it remains, so fn must set whatever it
// reports afresh on every run. SQLite writers queue (serialize.go) and
// never deadlock.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	_, err := retry(ctx, func() (struct{}, error) {
		return struct{}{}, s.db.WithContext(ctx).Transaction(fn)
	})
	return err
}

// retryPool is the connection pool gorm is given: statements outside a
// transaction that the database refused as retryable run again (see
// retry); transactions are begun on the pool itself, and transaction
// retries them whole.
type retryPool struct {
	db *sql.DB
}

var (
	_ gorm.ConnPool       = retryPool{}
	_ gorm.TxBeginner     = retryPool{}
	_ gorm.GetDBConnector = retryPool{}
)

func (p retryPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return retry(ctx, func() (sql.Result, error) { return p.db.ExecContext(ctx, query, args...) })
}

func (p retryPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return retry(ctx, func() (*sql.Rows, error) { return p.db.QueryContext(ctx, query, args...) })
}

// QueryRowContext retries on the row's own error (sql.Row.Err): the query
// has run by then; only Scan is left.
func (p retryPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	row, _ := retry(ctx, func() (*sql.Row, error) {
		row := p.db.QueryRowContext(ctx, query, args...)
		return row, row.Err()
	})
	return row
}

func (p retryPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

func (p retryPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return p.db.BeginTx(ctx, opts)
}

// GetDBConn lets gorm's DB() find the pool (Stats, Close, Ping).
func (p retryPool) GetDBConn() (*sql.DB, error) { return p.db, nil }

// connectTimeout bounds how long opening one database connection may take,
// whatever the context: database/sql also opens connections in the
// background with no deadline, and a server that accepts TCP connections
// but never answers (frozen, or its host unreachable behind a proxy) would
// hold such an opener, and its slot in the pool, until it answers.
const connectTimeout = 3 * time.Second

// boundedConnector gives every connection attempt of its Connector at most
// connectTimeout.
type boundedConnector struct {
	driver.Connector
}

func (c boundedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	return c.Connector.Connect(ctx)
}
