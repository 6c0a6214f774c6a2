package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"testing"
)

// fakeStmtConn counts what the cache asks of a connection.
type fakeStmtConn struct {
	prepared int
	stmts    []*fakeStmt
}

func (c *fakeStmtConn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	c.prepared++
	st := &fakeStmt{query: query}
	c.stmts = append(c.stmts, st)
	return st, nil
}

type fakeStmt struct {
	query  string
	closed bool
	runs   int
}

func (s *fakeStmt) Close() error  { s.closed = true; return nil }
func (s *fakeStmt) NumInput() int { return -1 }
func (s *fakeStmt) Exec([]driver.Value) (driver.Result, error) {
	panic("the cache must use ExecContext")
}
func (s *fakeStmt) Query([]driver.Value) (driver.Rows, error) {
	panic("the cache must use QueryContext")
}
func (s *fakeStmt) ExecContext(context.Context, []driver.NamedValue) (driver.Result, error) {
	s.runs++
	return driver.RowsAffected(1), nil
}
func (s *fakeStmt) QueryContext(context.Context, []driver.NamedValue) (driver.Rows, error) {
	s.runs++
	return fakeRows{}, nil
}

type fakeRows struct{}

func (fakeRows) Columns() []string         { return nil }
func (fakeRows) Close() error              { return nil }
func (fakeRows) Next([]driver.Value) error { return io.EOF }

var oneArg = []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}

func TestStmtCachePreparesOncePerQuery(t *testing.T) {
	ctx := context.Background()
	conn := &fakeStmtConn{}
	cache := newStmtCache()
	for range 3 {
		for _, q := range []string{"SELECT a FROM t WHERE id = ?", "UPDATE t SET a = ? WHERE id = 1"} {
			cs, err := cache.get(ctx, conn, q)
			if err != nil || cs == nil {
				t.Fatalf("get(%q) = %v, %v", q, cs, err)
			}
			if _, err := cs.exec(ctx, oneArg); err != nil {
				t.Fatal(err)
			}
		}
	}
	if conn.prepared != 2 {
		t.Errorf("prepared %d statements for 2 queries run 3 times each, want 2", conn.prepared)
	}
	for _, st := range conn.stmts {
		if st.runs != 3 {
			t.Errorf("%q ran %d times, want 3", st.query, st.runs)
		}
	}
}

func TestStmtCacheBusyStatementIsNotShared(t *testing.T) {
	ctx := context.Background()
	conn := &fakeStmtConn{}
	cache := newStmtCache()
	const q = "SELECT a FROM t WHERE id = ?"
	cs, err := cache.get(ctx, conn, q)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := cs.query(ctx, oneArg)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := cache.get(ctx, conn, q); err != nil || again != nil {
		t.Fatalf("get while its rows are open = %v, %v; want nil, nil (the caller runs it unprepared)", again, err)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rows.Close(); err != nil { // a second Close must not release twice
		t.Fatal(err)
	}
	again, err := cache.get(ctx, conn, q)
	if err != nil || again != cs {
		t.Fatalf("get after rows closed = %p, %v; want the cached %p", again, err, cs)
	}
	if conn.prepared != 1 {
		t.Errorf("prepared %d times, want 1", conn.prepared)
	}
}

func TestStmtCacheClosesWhatItDrops(t *testing.T) {
	ctx := context.Background()
	conn := &fakeStmtConn{}
	cache := newStmtCache()
	first, err := cache.get(ctx, conn, "q0 ?")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := first.query(ctx, oneArg) // busy while evicted
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= stmtCacheSize; i++ {
		if _, err := cache.get(ctx, conn, fmt.Sprintf("q%d ?", i)); err != nil {
			t.Fatal(err)
		}
	}
	if conn.stmts[0].closed {
		t.Fatal("a statement evicted while its rows were open was closed under them")
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if !conn.stmts[0].closed {
		t.Error("the evicted statement was not closed when its rows were")
	}
	cache.close()
	for _, st := range conn.stmts {
		if !st.closed {
			t.Errorf("%q left open after the cache closed", st.query)
		}
	}
}

// TestSerialConnRunsArgumentsThroughCache pins the wiring: a statement with
// arguments goes through the cache, one without goes to the connection.
func TestSerialConnRunsArgumentsThroughCache(t *testing.T) {
	ctx := context.Background()
	inner := &fakeSQLiteConn{}
	conn := &serialConn{inner: inner, gate: newWriteGate(), stmts: newStmtCache()}
	for range 2 {
		if _, err := conn.ExecContext(ctx, "UPDATE t SET a = ?", oneArg); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.QueryContext(ctx, "SELECT a FROM t WHERE id = ?", oneArg)
		if err != nil {
			t.Fatal(err)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "PRAGMA optimize", nil); err != nil {
			t.Fatal(err)
		}
	}
	if inner.prepared != 2 || inner.direct != 2 {
		t.Errorf("prepared %d, ran directly %d; want 2 prepared (once each) and 2 direct (the PRAGMA)", inner.prepared, inner.direct)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	for _, st := range inner.stmts {
		if !st.closed {
			t.Errorf("%q left open after the connection closed", st.query)
		}
	}
}

type fakeSQLiteConn struct {
	fakeStmtConn
	direct int
}

func (c *fakeSQLiteConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}
func (c *fakeSQLiteConn) Close() error              { return nil }
func (c *fakeSQLiteConn) Begin() (driver.Tx, error) { panic("unused") }
func (c *fakeSQLiteConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	panic("unused")
}
func (c *fakeSQLiteConn) Ping(context.Context) error { return nil }
func (c *fakeSQLiteConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	c.direct++
	return driver.RowsAffected(0), nil
}
func (c *fakeSQLiteConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	c.direct++
	return fakeRows{}, nil
}
