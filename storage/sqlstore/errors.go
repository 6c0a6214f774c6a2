package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
	gosqlite "modernc.org/sqlite"

	"github.com/shopauth/shopauth/storage"
)

// SQLite extended result codes (sqlite3.h) and MySQL server error numbers
// that mean "this key already exists".
const (
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
	mysqlDuplicateEntry        = 1062 // ER_DUP_ENTRY
)

// MySQL and MariaDB server errors after which the statement may simply run
// again (see retry.go). Galera reports a transaction that lost its
// certification against a concurrent one on another node as a deadlock,
// and a node that is not part of the primary component (joining, or cut
// off from the others) refuses every statement with 1047 "WSREP has not
// yet prepared node for application use". Either way nothing was written.
const (
	mysqlDeadlock     = 1213 // ER_LOCK_DEADLOCK
	mysqlNodeNotReady = 1047 // ER_UNKNOWN_COM_ERROR, as Galera uses it
)

// unavailableMySQLErrors are the other server errors that mean "not now":
// the server is overloaded, shutting down, read-only during a failover,
// or gave up waiting.
var unavailableMySQLErrors = map[uint16]bool{
	1040: true, // ER_CON_COUNT_ERROR: too many connections
	1053: true, // ER_SERVER_SHUTDOWN
	1205: true, // ER_LOCK_WAIT_TIMEOUT
	1290: true, // ER_OPTION_PREVENTS_STATEMENT: --read-only
	1317: true, // ER_QUERY_INTERRUPTED
	1836: true, // ER_READ_ONLY_MODE
	1927: true, // ER_CONNECTION_KILLED
	1969: true, // ER_STATEMENT_TIMEOUT (max_statement_time)
}

// sqliteBusy is SQLITE_BUSY, the primary result code: another connection
// holds the lock (the checkpointer, checkpoint.go, skips a round on it).
const sqliteBusy = 5

// unavailableSQLiteErrors are SQLite primary result codes (the low byte of
// an extended code) that mean "not now": another process held the lock
// past busy_timeout, the disk is full, or the file cannot be read or
// written. A corrupt database (SQLITE_CORRUPT) is not among them.
var unavailableSQLiteErrors = map[int]bool{
	sqliteBusy: true,
	6:          true, // SQLITE_LOCKED
	// SQLITE_INTERRUPT: the driver interrupts a statement when its
	// context ends (the request's deadline passed mid-statement); the
	// statement wrote nothing.
	9:  true,
	10: true, // SQLITE_IOERR
	13: true, // SQLITE_FULL
	14: true, // SQLITE_CANTOPEN
}

// convertErr maps driver errors to the storage sentinels so that callers
// can use errors.Is without knowing the backend. A duplicate-key error is
// replaced, not wrapped: MySQL's message quotes the duplicate value (an
// e-mail address, a hash), which must not reach the logs. An error that
// means the database cannot answer now is wrapped in
// storage.ErrUnavailable; its cause (an address, an error number, never a
// value) stays in the chain for the log.
func convertErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return storage.ErrNotFound
	case isDuplicate(err):
		return storage.ErrConflict
	case errors.Is(err, storage.ErrUnavailable):
		return err
	case isUnavailable(err):
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}

// isUnavailable reports whether err means the database cannot answer now
// rather than that the request was wrong: it is unreachable or went away
// mid-statement, it did not answer within the caller's deadline, or it
// refused for a reason that passes (retryable ones included, once the
// retries are spent). A request cancelled by its client is not among them.
func isUnavailable(err error) bool {
	if isRetryable(err) {
		return true
	}
	var myErr *gomysql.MySQLError
	if errors.As(err, &myErr) {
		return unavailableMySQLErrors[myErr.Number]
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		return unavailableSQLiteErrors[liteErr.Code()&0xff]
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, gomysql.ErrInvalidConn),
		errors.Is(err, gomysql.ErrPktSync),
		errors.Is(err, gomysql.ErrPktSyncMul),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr):
		return true
	}
	return false
}

// isRetryable reports whether the statement or transaction that failed
// with err wrote nothing and may run again at once (see the constants).
func isRetryable(err error) bool {
	var myErr *gomysql.MySQLError
	return errors.As(err, &myErr) && (myErr.Number == mysqlDeadlock || myErr.Number == mysqlNodeNotReady)
}

func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var myErr *gomysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number == mysqlDuplicateEntry
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code()
		return code == sqliteConstraintUnique || code == sqliteConstraintPrimaryKey
	}
	return false
}

// gormLogger sends slow queries and unexpected errors to slog at warn.
// Expected outcomes (not found, duplicate key, cancelled requests) stay
// silent, and SQL is logged without its parameters, which include password
// and token hashes.
type gormLogger struct {
	log *slog.Logger
}

func newGormLogger(l *slog.Logger) gormlogger.Interface { return gormLogger{log: l} }

func (l gormLogger) LogMode(gormlogger.LogLevel) gormlogger.Interface { return l }

func (l gormLogger) Info(context.Context, string, ...any) {}

func (l gormLogger) Warn(ctx context.Context, msg string, data ...any) {
	l.log.WarnContext(ctx, "gorm: "+fmt.Sprintf(msg, data...))
}

func (l gormLogger) Error(ctx context.Context, msg string, data ...any) {
	l.log.WarnContext(ctx, "gorm: "+fmt.Sprintf(msg, data...))
}

func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil:
		if errors.Is(err, gorm.ErrRecordNotFound) || isDuplicate(err) ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if isRetryable(err) {
			// Run again by retry.go; only the last refusal reaches the caller.
			sql, _ := fc()
			l.log.DebugContext(ctx, "sql refused, retrying", "sql", sql, "error", err)
			return
		}
		sql, _ := fc()
		l.log.WarnContext(ctx, "sql error", "sql", sql, "duration", elapsed, "error", err)
	case elapsed > slowQuery:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow sql", "sql", sql, "duration", elapsed, "rows", rows)
	}
}

// ParamsFilter keeps parameter values out of logged SQL.
func (gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
