package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"unicode"
)

// SQLite admits one writer at a time. When two connections of this process
// race for the write lock, the loser is parked by SQLite's busy handler,
// which sleeps in steps of milliseconds: under load the CPU goes idle while
// requests wait (a third of it in the refresh benchmark). Writers of this
// process therefore queue on a Go semaphore first, which wakes the next one
// the moment the lock is free; SELECTs outside a transaction skip it, so
// WAL readers stay concurrent. Writers of other processes on the same file
// still meet the busy handler, as before.

// writeGate is the semaphore all connections of one Store share.
type writeGate struct {
	held chan struct{}
	// released is signalled (without blocking) each time the gate is given
	// back: something may have been written, and the WAL checkpointer
	// (checkpoint.go) wakes up for it.
	released chan struct{}
}

func newWriteGate() writeGate {
	return writeGate{held: make(chan struct{}, 1), released: make(chan struct{}, 1)}
}

func (g writeGate) acquire(ctx context.Context) error {
	select {
	case g.held <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g writeGate) release() {
	<-g.held
	select {
	case g.released <- struct{}{}:
	default: // a signal is already waiting; one wakes the checkpointer
	}
}

// sqliteConnector opens connections of drv to dsn behind one writeGate.
type sqliteConnector struct {
	drv  driver.Driver
	dsn  string
	gate writeGate
}

// newSQLiteConnector returns a connector whose connections' writers queue
// on gate (shared by the store's readers and its writer).
func newSQLiteConnector(dsn string, gate writeGate) (driver.Connector, error) {
	// sql.Open connects to nothing; it only finds the registered driver.
	probe, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	_ = probe.Close()
	return &sqliteConnector{drv: drv, dsn: dsn, gate: gate}, nil
}

func (c *sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("sqlstore: the sqlite driver's connections lack context methods")
	}
	return &serialConn{inner: inner, gate: c.gate, stmts: newStmtCache()}, nil
}

func (c *sqliteConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what modernc.org/sqlite's connections implement.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

// serialConn takes the gate for a transaction's whole life and for each
// write statement outside one, and runs statements with arguments through
// its prepared statements (stmtcache.go). database/sql uses a connection
// from one goroutine at a time, so inTx and stmts need no lock.
type serialConn struct {
	inner sqliteConn
	gate  writeGate
	inTx  bool
	stmts *stmtCache
}

var (
	_ driver.ConnBeginTx        = (*serialConn)(nil)
	_ driver.ConnPrepareContext = (*serialConn)(nil)
	_ driver.ExecerContext      = (*serialConn)(nil)
	_ driver.QueryerContext     = (*serialConn)(nil)
	_ driver.Pinger             = (*serialConn)(nil)
)

func (c *serialConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *serialConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &serialStmt{Stmt: st, conn: c, write: isWrite(query)}, nil
}

func (c *serialConn) Close() error {
	c.stmts.close()
	return c.inner.Close()
}

func (c *serialConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx takes the gate for every transaction: with _txlock=immediate
// each one takes SQLite's write lock at BEGIN.
func (c *serialConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.gate.acquire(ctx); err != nil {
		return nil, err
	}
	tx, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		c.gate.release()
		return nil, err
	}
	c.inTx = true
	return &serialTx{inner: tx, conn: c}, nil
}

func (c *serialConn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

func (c *serialConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	release, err := c.enter(ctx, isWrite(query))
	if err != nil {
		return nil, err
	}
	defer release()
	cs, err := c.prepared(ctx, query, args)
	switch {
	case err != nil:
		return nil, err
	case cs != nil:
		return cs.exec(ctx, args)
	}
	return c.inner.ExecContext(ctx, query, args)
}

// QueryContext holds the gate of a writing query (INSERT … RETURNING) until
// its rows are closed: SQLite keeps the write lock that long.
func (c *serialConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	release, err := c.enter(ctx, isWrite(query))
	if err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, query, args)
	if err != nil {
		release()
		return nil, err
	}
	return &serialRows{Rows: rows, release: release}, nil
}

func (c *serialConn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.prepared(ctx, query, args)
	switch {
	case err != nil:
		return nil, err
	case cs != nil:
		return cs.query(ctx, args)
	}
	return c.inner.QueryContext(ctx, query, args)
}

// prepared is query's cached statement when it has arguments and the
// statement is idle; nil (and no error) when it is to run unprepared.
func (c *serialConn) prepared(ctx context.Context, query string, args []driver.NamedValue) (*cachedStmt, error) {
	if len(args) == 0 {
		return nil, nil
	}
	return c.stmts.get(ctx, c.inner, query)
}

// enter takes the gate for a write outside a transaction; the returned
// func gives it back (and does nothing when none was taken).
func (c *serialConn) enter(ctx context.Context, write bool) (release func(), err error) {
	if !write || c.inTx {
		return func() {}, nil
	}
	if err := c.gate.acquire(ctx); err != nil {
		return nil, err
	}
	return c.gate.release, nil
}

type serialTx struct {
	inner driver.Tx
	conn  *serialConn
}

func (t *serialTx) Commit() error   { return t.end(t.inner.Commit) }
func (t *serialTx) Rollback() error { return t.end(t.inner.Rollback) }

func (t *serialTx) end(finish func() error) error {
	defer func() {
		t.conn.inTx = false
		t.conn.gate.release()
	}()
	return finish()
}

// serialStmt is a prepared statement; it takes the gate as its connection
// would for the same SQL.
type serialStmt struct {
	driver.Stmt
	conn  *serialConn
	write bool
}

func (s *serialStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	release, err := s.conn.enter(ctx, s.write)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *serialStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	release, err := s.conn.enter(ctx, s.write)
	if err != nil {
		return nil, err
	}
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &serialRows{Rows: rows, release: release}, nil
}

type serialRows struct {
	driver.Rows
	release func()
	closed  bool
}

func (r *serialRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.release()
	}
	return err
}

// isWrite reports whether query may write: anything but a plain SELECT.
func isWrite(query string) bool {
	q := strings.TrimLeftFunc(query, func(r rune) bool { return unicode.IsSpace(r) || r == '(' })
	return len(q) < 6 || !strings.EqualFold(q[:6], "SELECT")
}
