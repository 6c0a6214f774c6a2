package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Every statement with arguments that a SQLite connection runs is prepared
// once per connection and kept: the driver compiles each statement it is
// given anew otherwise, and compiling was a sixth of a refresh's CPU
// (docs/performance.md). database/sql does not keep prepared statements
// for statements run on the pool; gorm's PrepareStmt mode does, but
// prepares on the pool, where a SELECT meets the reader pool's
// connections and a transaction the writer's, which database/sql refuses
// to mix. So the cache sits here, under database/sql, one per connection.
// Statements without arguments (BEGIN, COMMIT, PRAGMA, DDL) are run as
// before.

// stmtCacheSize bounds one connection's cache. The hot paths use about
// twenty statements; gorm builds a new text for each length of an IN
// list, which the LRU lets go.
const stmtCacheSize = 64

// stmtCache is one connection's prepared statements by their SQL. A
// connection is used by one goroutine at a time, so it needs no lock.
type stmtCache struct {
	lru *simplelru.LRU[string, *cachedStmt]
}

// contextStmt is what modernc.org/sqlite's statements implement.
type contextStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is a prepared statement. busy while its rows are open: the
// same statement cannot run twice at once, so a second use meanwhile (a
// query inside the iteration of another) runs unprepared.
type cachedStmt struct {
	stmt    contextStmt
	busy    bool
	evicted bool // dropped from the cache while busy: closed when its rows are
}

func newStmtCache() *stmtCache {
	lru, err := simplelru.NewLRU[string, *cachedStmt](stmtCacheSize, func(_ string, cs *cachedStmt) {
		if cs.busy {
			cs.evicted = true
			return
		}
		_ = cs.stmt.Close()
	})
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &stmtCache{lru: lru}
}

// get returns query's idle statement, preparing it on conn the first
// time; nil (and no error) when it is busy.
func (c *stmtCache) get(ctx context.Context, conn driver.ConnPrepareContext, query string) (*cachedStmt, error) {
	if cs, ok := c.lru.Get(query); ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	st, err := conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ctxStmt, ok := st.(contextStmt)
	if !ok {
		_ = st.Close()
		return nil, errors.New("sqlstore: the sqlite driver's statements lack context methods")
	}
	cs := &cachedStmt{stmt: ctxStmt}
	c.lru.Add(query, cs)
	return cs, nil
}

// release gives cs back after its rows are closed.
func (cs *cachedStmt) release() {
	cs.busy = false
	if cs.evicted {
		_ = cs.stmt.Close()
	}
}

// close closes every statement; the connection closes next.
func (c *stmtCache) close() {
	c.lru.Purge()
}

func (cs *cachedStmt) exec(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	cs.busy = true
	defer cs.release()
	return cs.stmt.ExecContext(ctx, args)
}

// query runs cs; it stays busy until the returned rows are closed.
func (cs *cachedStmt) query(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	cs.busy = true
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		cs.release()
		return nil, err
	}
	return &stmtRows{Rows: rows, stmt: cs}, nil
}

type stmtRows struct {
	driver.Rows
	stmt   *cachedStmt
	closed bool
}

func (r *stmtRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.stmt.release()
	}
	return err
}
