package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	gosqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/storagetest"
)

// The errors a Galera node answers with when a write lost certification
// against one on another node, and while it is not (yet) in the primary
// component.
var (
	errCertification = &gomysql.MySQLError{Number: mysqlDeadlock, SQLState: [5]byte{'4', '0', '0', '0', '1'},
		Message: "Deadlock found when trying to get lock; try restarting transaction"}
	errNodeNotReady = &gomysql.MySQLError{Number: mysqlNodeNotReady, SQLState: [5]byte{'0', '8', 'S', '0', '1'},
		Message: "WSREP has not yet prepared node for application use"}
)

// TestConvertErr: what the database says is turned into the storage
// sentinels callers branch on. Each row is a way the database can be away
// (→ ErrUnavailable, answered 503) or a fault of the request or the data
// (never ErrUnavailable).
func TestConvertErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error // nil: none of the sentinels
	}{
		{"record not found", gorm.ErrRecordNotFound, storage.ErrNotFound},
		{"duplicate key", &gomysql.MySQLError{Number: mysqlDuplicateEntry, Message: "Duplicate entry 'x@y' for key"}, storage.ErrConflict},
		{"galera certification conflict", errCertification, storage.ErrUnavailable},
		{"galera node not ready", fmt.Errorf("exec: %w", errNodeNotReady), storage.ErrUnavailable},
		{"lock wait timeout", &gomysql.MySQLError{Number: 1205}, storage.ErrUnavailable},
		{"too many connections", &gomysql.MySQLError{Number: 1040}, storage.ErrUnavailable},
		{"server shutting down", &gomysql.MySQLError{Number: 1053}, storage.ErrUnavailable},
		{"read-only server", &gomysql.MySQLError{Number: 1290}, storage.ErrUnavailable},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, storage.ErrUnavailable},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, storage.ErrUnavailable},
		{"deadline of the request", fmt.Errorf("query: %w", context.DeadlineExceeded), storage.ErrUnavailable},
		{"bad connection", driver.ErrBadConn, storage.ErrUnavailable},
		{"invalid connection", gomysql.ErrInvalidConn, storage.ErrUnavailable},
		{"connection cut mid-packet", io.ErrUnexpectedEOF, storage.ErrUnavailable},
		{"mysql syntax", &gomysql.MySQLError{Number: 1064}, nil},
		{"client went away", context.Canceled, nil},
		{"anything else", errors.New("boom"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireSentinel(t, tt.want, tt.err)
		})
	}
}

// requireSentinel checks that convertErr(err) is want and no other
// sentinel (want nil: none), and that an unavailable error keeps its cause
// in the chain for the log.
func requireSentinel(t *testing.T, want, err error) {
	t.Helper()
	got := convertErr(err)
	for _, s := range []error{storage.ErrNotFound, storage.ErrConflict, storage.ErrUnavailable} {
		require.Equal(t, s == want, errors.Is(got, s), "errors.Is(%v, %v)", got, s)
	}
	if want == storage.ErrUnavailable {
		require.ErrorIs(t, got, err, "the cause stays in the chain")
	}
}

// TestSQLiteResultCodes: SQLite's result codes (extended ones by their low
// byte) that mean "not now" — busy past the timeout, disk full, I/O —
// and not a corrupt file or a bad statement.
func TestSQLiteResultCodes(t *testing.T) {
	tests := []struct {
		code int
		want bool
	}{
		{sqlite3.SQLITE_FULL, true},
		{sqlite3.SQLITE_BUSY, true},
		{sqlite3.SQLITE_BUSY_SNAPSHOT, true},
		{sqlite3.SQLITE_LOCKED, true},
		{sqlite3.SQLITE_IOERR_WRITE, true},
		{sqlite3.SQLITE_IOERR_FSYNC, true},
		{sqlite3.SQLITE_CANTOPEN, true},
		{sqlite3.SQLITE_INTERRUPT, true},
		{sqlite3.SQLITE_CORRUPT, false},
		{sqlite3.SQLITE_ERROR, false},
		{sqlite3.SQLITE_CONSTRAINT_UNIQUE, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, unavailableSQLiteErrors[tt.code&0xff], "code %d", tt.code)
	}
}

// TestSQLiteDiskFullIsUnavailable: a write that finds no room (here the
// database's page limit, as a full disk answers SQLITE_FULL) is
// storage.ErrUnavailable, and reads still answer.
func TestSQLiteDiskFullIsUnavailable(t *testing.T) {
	s, _ := openFaulty(t)
	ctx := t.Context()
	var pages int64
	require.NoError(t, s.db.Raw("PRAGMA page_count").Scan(&pages).Error)
	// One connection, so the limit (per connection) holds for every write.
	s.sql.SetMaxOpenConns(1)
	require.NoError(t, s.db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages+1)).Error)
	var err error
	for i := 0; err == nil && i < 1000; i++ {
		err = s.CreateShop(ctx, storage.Shop{Key: fmt.Sprintf("shop%04d", i), Name: strings.Repeat("x", 2000), Locale: "en", Active: true})
	}
	require.Error(t, err)
	var liteErr *gosqlite.Error
	require.ErrorAs(t, err, &liteErr)
	require.Equal(t, sqlite3.SQLITE_FULL, liteErr.Code()&0xff)
	require.ErrorIs(t, err, storage.ErrUnavailable)
	_, err = s.ListShops(ctx)
	require.NoError(t, err)
}

// TestSQLiteDeadlineMidStatementIsUnavailable: the request's deadline
// passes while SQLite runs a statement; the driver interrupts it and
// reports the context's error, and that is storage.ErrUnavailable like any
// other deadline, never a fault (500).
func TestSQLiteDeadlineMidStatementIsUnavailable(t *testing.T) {
	s, _ := openFaulty(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	// A statement that runs for minutes unless interrupted.
	_, err := s.sql.ExecContext(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000000000)
		SELECT COUNT(*) FROM c`)
	require.Less(t, time.Since(start), 10*time.Second, "the deadline ends the statement")
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, convertErr(err), storage.ErrUnavailable)
}

// TestRetryRunsAgainOnlyWhatWroteNothing: a statement or transaction that
// failed retryably runs again, up to maxTries; any other error is final at
// once.
func TestRetryRunsAgainOnlyWhatWroteNothing(t *testing.T) {
	other := errors.New("constraint")
	tests := []struct {
		name     string
		failures []error // what the runs return, in order; then nil
		wantRuns int
		wantErr  error
	}{
		{name: "no error", wantRuns: 1},
		{name: "one certification conflict, then success", failures: []error{errCertification}, wantRuns: 2},
		{name: "node not ready twice, then success", failures: []error{errNodeNotReady, errNodeNotReady}, wantRuns: 3},
		{name: "other errors are final", failures: []error{other}, wantRuns: 1, wantErr: other},
		{name: "conflict, then a final error", failures: []error{errCertification, other}, wantRuns: 2, wantErr: other},
		{name: "refused every time", failures: []error{errCertification, errCertification, errCertification, errCertification, errCertification, errCertification, errCertification}, wantRuns: maxTries, wantErr: errCertification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 0
			_, err := retry(t.Context(), func() (int, error) {
				runs++
				if runs <= len(tt.failures) {
					return 0, tt.failures[runs-1]
				}
				return 0, nil
			})
			require.Equal(t, tt.wantRuns, runs)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			var perm interface{ Unwrap() error }
			if errors.As(err, &perm) {
				require.NotEqual(t, "*backoff.PermanentError", fmt.Sprintf("%T", err), "the retry marker must not leak")
			}
		})
	}
}

// TestRetryStopsAtTheDeadline: the pauses between runs end with the
// caller's deadline; a request never waits out the retries past it.
func TestRetryStopsAtTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Millisecond)
	defer cancel()
	start := time.Now()
	runs := 0
	_, err := retry(ctx, func() (int, error) { runs++; return 0, errNodeNotReady })
	require.ErrorIs(t, convertErr(err), storage.ErrUnavailable)
	require.Less(t, runs, maxTries)
	require.Less(t, time.Since(start), 500*time.Millisecond)
}

// TestEveryWriteSurvivesCertificationConflicts runs the whole storage
// conformance suite on a SQLite store whose connections act like a busy
// Galera node: every autocommit write statement, the first time it is
// sent, and every transaction, the first time it commits, are refused
// with a certification conflict (1213), having written nothing. The suite
// must pass unchanged, so every write path of the store — including ones
// added later, which the suite must cover — runs again after a refusal.
// It fails when retryPool stops retrying single statements (e.g. the row
// creation of RecordLoginAttempt, which gave 500s on Galera) or
// transaction stops retrying transactions.
func TestEveryWriteSurvivesCertificationConflicts(t *testing.T) {
	var injected atomic.Int64
	t.Cleanup(func() {
		// A suite that never met a refusal would prove nothing.
		require.Greater(t, injected.Load(), int64(100), "refusals injected")
	})
	storagetest.Run(t, func(t *testing.T) storagetest.Store {
		s, f := openFaulty(t)
		f.mode.Store(int32(refuseFirst))
		t.Cleanup(func() { injected.Add(f.injected.Load()) })
		return s
	})
}

// TestPersistentRefusalIsUnavailable: a node that keeps refusing (one
// that is not in the primary component) gets each write tried maxTries
// times, then storage.ErrUnavailable — for a single statement and for a
// transaction alike — and nothing is written.
func TestPersistentRefusalIsUnavailable(t *testing.T) {
	s, f := openFaulty(t)
	ctx := t.Context()
	require.NoError(t, s.CreateShop(ctx, storage.Shop{Key: "shop1", Name: "Shop", Locale: "en", Active: true}))
	f.mode.Store(int32(refuseAlways))
	policy := storage.DefaultLockoutPolicy
	now := time.Now()

	err := s.ClearLoginFailures(ctx, "shop1", "a@example.com") // one UPDATE
	require.ErrorIs(t, err, storage.ErrUnavailable)
	require.Equal(t, int64(maxTries), f.injected.Swap(0))

	_, err = s.RevokeRefreshFamily(ctx, "family", now) // a transaction
	require.ErrorIs(t, err, storage.ErrUnavailable)
	require.Equal(t, int64(maxTries), f.injected.Swap(0))

	_, _, err = s.RecordLoginAttempt(ctx, "shop1", "a@example.com", now, policy)
	require.ErrorIs(t, err, storage.ErrUnavailable)
	require.NotContains(t, err.Error(), "a@example.com")

	f.mode.Store(int32(refuseNever))
	rec, err := s.GetLoginFailures(ctx, "shop1", "a@example.com")
	require.NoError(t, err)
	require.Zero(t, rec.Count, "a refused attempt is not counted")
	_, allowed, err := s.RecordLoginAttempt(ctx, "shop1", "a@example.com", now, policy)
	require.NoError(t, err)
	require.True(t, allowed)
}

type refusal int32

const (
	refuseNever  refusal = iota
	refuseFirst          // each statement's and transaction's first try
	refuseAlways         // every write and every commit
)

// faults decides which writes a faultyConn refuses.
type faults struct {
	mode     atomic.Int32 // a refusal
	injected atomic.Int64
	mu       sync.Mutex
	seen     map[string]bool
}

// refuse reports whether the unit of work named key is refused now.
func (f *faults) refuse(key string) bool {
	switch refusal(f.mode.Load()) {
	case refuseAlways:
		f.injected.Add(1)
		return true
	case refuseFirst:
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.seen[key] {
			return false
		}
		f.seen[key] = true
		f.injected.Add(1)
		return true
	}
	return false
}

// openFaulty opens a migrated SQLite store whose connections refuse what f
// says (nothing until its mode is set).
func openFaulty(t *testing.T) (*Store, *faults) {
	t.Helper()
	dsn, _, err := sqliteDSN(filepath.Join(t.TempDir(), "faulty.db"))
	require.NoError(t, err)
	gate := newWriteGate()
	reader, err := newSQLiteConnector(dsn+readerPragmas, gate)
	require.NoError(t, err)
	writer, err := newSQLiteConnector(dsn+writerPragmas, gate)
	require.NoError(t, err)
	f := &faults{seen: map[string]bool{}}
	s, err := open(t.Context(), faultyConnector{inner: reader, faults: f}, faultyConnector{inner: writer, faults: f},
		dialectSQLite, defaultSQLiteConns, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(t.Context())
	require.NoError(t, err)
	return s, f
}

type faultyConnector struct {
	inner  driver.Connector
	faults *faults
}

func (c faultyConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &faultyConn{sqliteConn: conn.(sqliteConn), faults: c.faults}, nil
}

func (c faultyConnector) Driver() driver.Driver { return c.inner.Driver() }

// faultyConn refuses like a Galera node: an autocommit write before it
// runs, a transaction at COMMIT (after rolling it back), each with a
// certification conflict. A transaction is known by its first statement.
type faultyConn struct {
	sqliteConn
	faults *faults
	tx     *faultyTx
}

func (c *faultyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.tx = &faultyTx{inner: tx, conn: c}
	return c.tx, nil
}

func (c *faultyConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// check names the statement for the transaction in progress, or refuses
// an autocommit write.
func (c *faultyConn) check(query string, args []driver.NamedValue) error {
	key := statementKey(query, args)
	if c.tx != nil {
		if c.tx.key == "" {
			c.tx.key = key
		}
		return nil
	}
	if isWrite(query) && c.faults.refuse(key) {
		return errCertification
	}
	return nil
}

func (c *faultyConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.check(query, args); err != nil {
		return nil, err
	}
	return c.sqliteConn.ExecContext(ctx, query, args)
}

func (c *faultyConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.check(query, args); err != nil {
		return nil, err
	}
	return c.sqliteConn.QueryContext(ctx, query, args)
}

func statementKey(query string, args []driver.NamedValue) string {
	var b strings.Builder
	b.WriteString(query)
	for _, a := range args {
		fmt.Fprintf(&b, "|%v", a.Value)
	}
	return b.String()
}

type faultyTx struct {
	inner driver.Tx
	conn  *faultyConn
	key   string
}

func (t *faultyTx) Commit() error {
	t.conn.tx = nil
	if t.conn.faults.refuse("commit " + t.key) {
		_ = t.inner.Rollback()
		return errCertification
	}
	return t.inner.Commit()
}

func (t *faultyTx) Rollback() error {
	t.conn.tx = nil
	return t.inner.Rollback()
}
