package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/shopauth/shopauth/storage"
)

// SQLite extended result codes (sqlite3.h) and MySQL server error numbers
// that mean "this key already exists".
const (
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
	mysqlDuplicateEntry        = 1062 // ER_DUP_ENTRY
	mysqlDeadlock              = 1213 // ER_LOCK_DEADLOCK
)

// convertErr maps driver errors to the storage sentinels so that callers
// can use errors.Is without knowing the backend. A duplicate-key error is
// replaced, not wrapped: MySQL's message quotes the duplicate value (an
// e-mail address, a hash), which must not reach the logs.
func convertErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return storage.ErrNotFound
	case isDuplicate(err):
		return storage.ErrConflict
	}
	return err
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
