package sqlstore

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// A SQLite file database is opened as two pools on one write gate
// (serialize.go): one long-lived writer connection that runs every
// transaction and every statement that may write, and a pool of readers
// for plain SELECTs. Every SQLite connection keeps its own page cache and
// drops it when another connection has written since its last read; with
// writes spread over the whole pool, each writer first re-read the pages
// the previous one had changed. The single writer's cache stays warm, and
// the writers no longer queue for the pool's connections held by readers.
// See docs/performance.md.

// splitPool is the pool gorm is given for a SQLite file: writes and
// transactions go to write, plain SELECTs outside a transaction to read.
type splitPool struct {
	read, write retryPool
}

var (
	_ gorm.ConnPool       = splitPool{}
	_ gorm.TxBeginner     = splitPool{}
	_ gorm.GetDBConnector = splitPool{}
)

func (p splitPool) route(query string) retryPool {
	if isWrite(query) {
		return p.write
	}
	return p.read
}

func (p splitPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.write.ExecContext(ctx, query, args...)
}

func (p splitPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.route(query).QueryContext(ctx, query, args...)
}

func (p splitPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.route(query).QueryRowContext(ctx, query, args...)
}

func (p splitPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.route(query).PrepareContext(ctx, query)
}

func (p splitPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return p.write.BeginTx(ctx, opts)
}

// GetDBConn gives gorm the writer: gorm's Connection (the migrations'
// lock) and Ping use it.
func (p splitPool) GetDBConn() (*sql.DB, error) { return p.write.db, nil }

// The pools' own pragmas, appended to the DSN (docs/performance.md).
// The writer keeps a larger page cache than SQLite's default 2 MB: no
// other connection of this process invalidates it. A reader's cache is
// dropped whenever the writer has committed since its last read, so a
// reader keeps 1 MB. With the default pool, 4 MiB + 4 × 1 MB: no more page
// cache than the four connections of before. The checkpointer
// (checkpoint.go) reads WAL frames and writes the database file past the
// page cache; it keeps SQLite's least.
//
// The writer checkpoints on its own only past 4,000 pages of WAL (16 MB
// at 4 KiB pages) rather than SQLite's 1,000: the checkpointer copies the
// frames long before, and the writer's checkpoint is left for the
// moment the WAL can start over.
const (
	writerPragmas       = "&_pragma=cache_size(-4096)&_pragma=wal_autocheckpoint(4000)"
	readerPragmas       = "&_pragma=cache_size(-1000)"
	checkpointerPragmas = "&_pragma=cache_size(-64)"
)
