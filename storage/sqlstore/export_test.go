package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"gorm.io/gorm"
)

// MigrationCount is the number of embedded migrations.
func MigrationCount() int { return len(migrations()) }

// MissingModelColumns lists runtime-model columns the migrated schema lacks:
// a model changed without a migration.
func (s *Store) MissingModelColumns() ([]string, error) {
	var missing []string
	for _, m := range []any{
		&shopModel{}, &customerModel{}, &clientModel{}, &refreshTokenModel{},
		&issuedAccessTokenModel{}, &revokedAccessTokenModel{}, &signingKeyModel{},
		&authorizationCodeModel{}, &consentModel{}, &browserSessionModel{},
		&cartModel{}, &cartLineModel{},
		&accountKeyModel{}, &customerProfileModel{}, &outboxMailModel{},
	} {
		stmt := s.db.Model(m).Statement
		if err := stmt.Parse(m); err != nil {
			return nil, err
		}
		for _, f := range stmt.Schema.Fields {
			if f.DBName == "" {
				continue
			}
			if !s.db.Migrator().HasColumn(m, f.DBName) {
				missing = append(missing, fmt.Sprintf("%s.%s", stmt.Schema.Table, f.DBName))
			}
		}
	}
	return missing, nil
}

// AfterLoginFailureCreate runs fn after each INSERT … ON CONFLICT DO
// NOTHING of RecordLoginAttempt, between the record's creation and its
// locked read: where a concurrent sweep can delete it.
func (s *Store) AfterLoginFailureCreate(fn func()) error {
	return s.db.Callback().Create().After("gorm:create").Register("sqlstore_test:after_login_failure_create", func(db *gorm.DB) {
		if db.Statement.Table == "login_failures" {
			fn()
		}
	})
}

// RerunMigration runs the step of one schema version again on a migrated
// database, as a migrator that stopped after the step's DDL but before
// recording it (MySQL commits DDL on its own) would on its next start.
func (s *Store) RerunMigration(version int64) error {
	for _, m := range migrations() {
		if m.version == version {
			return m.up(s.db.Set("gorm:table_options", mysqlTableOptionsFor(s.dialect)), s.dialect)
		}
	}
	return fmt.Errorf("no migration %d", version)
}

// DropTable drops a table, to leave a migration half done.
func (s *Store) DropTable(name string) error { return s.db.Migrator().DropTable(name) }

// HasTable reports whether a table exists.
func (s *Store) HasTable(name string) bool { return s.db.Migrator().HasTable(name) }

func mysqlTableOptionsFor(dialect string) string {
	if dialect == dialectMySQL {
		return mysqlTableOptions
	}
	return ""
}

// ErrInjected is the failure FailMigrationAfter injects.
var ErrInjected = errors.New("sqlstore_test: injected failure")

// FailMigrationAfter makes the n-th schema statement of this store's next
// migrations (counting every CREATE, ALTER and DROP and each INSERT INTO
// schema_migrations, from 1) fail after the database ran it, as a crash
// right after that statement would. The returned func disarms it and
// reports how many statements ran.
func (s *Store) FailMigrationAfter(n int) (disarm func() int) {
	var count atomic.Int64
	var armed atomic.Bool
	armed.Store(true)
	name := fmt.Sprintf("sqlstore_test:fail_migration_%p", &count)
	err := s.db.Callback().Raw().After("gorm:raw").Register(name, func(db *gorm.DB) {
		if !armed.Load() || db.Error != nil {
			return
		}
		sql := strings.ToUpper(strings.TrimSpace(db.Statement.SQL.String()))
		if !strings.HasPrefix(sql, "CREATE ") && !strings.HasPrefix(sql, "ALTER ") &&
			!strings.HasPrefix(sql, "DROP ") && !strings.HasPrefix(sql, "INSERT INTO SCHEMA_MIGRATIONS") {
			return
		}
		if count.Add(1) == int64(n) {
			_ = db.AddError(fmt.Errorf("after %q: %w", sql, ErrInjected))
		}
	})
	if err != nil {
		panic(err)
	}
	return func() int {
		armed.Store(false)
		return int(count.Load())
	}
}

// Exec runs one statement, for tests that set up a broken schema.
func (s *Store) Exec(sql string, args ...any) error {
	return s.db.Exec(sql, args...).Error
}

// SchemaFingerprint describes every table, column and index, one line
// each, sorted: two databases migrated to the same schema give the same.
func (s *Store) SchemaFingerprint() ([]string, error) {
	var q string
	switch s.dialect {
	case dialectMySQL:
		q = `SELECT CONCAT('column ', table_name, '.', column_name, ' ', column_type, ' null=', is_nullable,
		             ' default=', COALESCE(column_default, 'NULL'), ' extra=', extra)
		     FROM information_schema.columns WHERE table_schema = DATABASE()
		     UNION ALL
		     SELECT CONCAT('index ', table_name, '.', index_name, ' ', seq_in_index, ' ', column_name, ' unique=', 1 - non_unique)
		     FROM information_schema.statistics WHERE table_schema = DATABASE()
		     UNION ALL
		     SELECT CONCAT('table ', table_name, ' ', engine, ' ', table_collation)
		     FROM information_schema.tables WHERE table_schema = DATABASE()`
	default:
		q = `SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p."notnull" ||
		            ' default=' || COALESCE(p.dflt_value, 'NULL') || ' pk=' || p.pk
		     FROM sqlite_master m JOIN pragma_table_info(m.name) p
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
		     UNION ALL
		     SELECT 'index ' || m.name || '.' || l.name || ' ' || i.seqno || ' ' || i.name || ' unique=' || l."unique"
		     FROM sqlite_master m JOIN pragma_index_list(m.name) l JOIN pragma_index_info(l.name) i
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	}
	rows, err := s.db.Raw(q).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return lines, rows.Err()
}

// AppliedVersions lists the versions schema_migrations records.
func (s *Store) AppliedVersions() ([]int64, error) {
	var vs []int64
	err := s.db.Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&vs).Error
	return vs, err
}

// MigrationVersions lists the embedded migrations' versions.
func MigrationVersions() []int64 {
	var vs []int64
	for _, m := range migrations() {
		vs = append(vs, m.version)
	}
	return vs
}

// TryMigrationLease is tryMigrationLease, for tests of the lock row.
func (s *Store) TryMigrationLease(ctx context.Context, holder string) (bool, error) {
	return s.tryMigrationLease(ctx, holder)
}
