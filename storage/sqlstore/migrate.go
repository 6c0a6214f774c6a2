package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// How to add a migration (say v2, adding carts):
//
//  1. Create migrate_v2.go with frozen structs named v2Cart, v2CartLine, …
//     (or v2-prefixed per-dialect SQL) and a func migrateV2(tx *gorm.DB,
//     dialect string) error that creates or alters tables through the
//     idempotent helpers of migrate_ddl.go — createTables(tx, dialect,
//     &v2Cart{}), createIndexes(tx, dialect, &v2Cart{}, "idx_…"),
//     addColumns(tx, dialect, &v2Customer{}, "lockout_count") — never
//     tx.Migrator() directly: MySQL commits each DDL statement on its own,
//     so a step must be safe to run again after a crash between any two of
//     its statements (TestMigrateResumesAfterACrashAtAnyPoint checks every
//     point). A data change in a step must be idempotent too (an UPDATE
//     with a WHERE that no longer matches once done). Give every column an
//     explicit `type:` (and `not null;default:` when adding a NOT NULL
//     column to a filled table) and every index an explicit name, so the
//     DDL does not drift with gorm's defaults. Beware that gorm treats the
//     type names bool, int, uint, float, string, time and bytes as its own
//     kinds and maps them per dialect (`type:int` became BIGINT on MySQL);
//     write integer, bigint, boolean, datetime, text, blob.
//  2. Append {version: 2, name: "carts", up: migrateV2} to migrations().
//  3. Update the runtime models in models.go and the conversions.
//
// Never change what a migration that has shipped builds: databases in the
// field have recorded its version in schema_migrations and will not run it
// again. (Versions 1–7 were rewritten onto the idempotent helpers; the
// schema they build is unchanged.) Frozen structs must never be shared
// between versions for the same reason. TestMigrate checks that versions
// are strictly increasing and that a second run applies nothing.

// migration is one schema step. up runs inside a transaction; SQLite rolls
// back DDL on failure, MySQL commits each DDL statement implicitly, so
// every step checks what exists before it creates anything
// (migrate_ddl.go) and can be run again from any point.
type migration struct {
	version int64
	name    string
	up      func(tx *gorm.DB, dialect string) error
}

// migrations is the ordered list of schema versions embedded in the binary.
func migrations() []migration {
	return []migration{
		{version: 1, name: "initial schema", up: migrateV1},
		{version: 2, name: "login failures", up: migrateV2},
		{version: 3, name: "carts", up: migrateV3},
		{version: 4, name: "leases; refresh token sweep indexes", up: migrateV4},
		{version: 6, name: "authorization codes, consents, browser sessions", up: migrateV6},
		{version: 7, name: "login failures sweep index", up: migrateV7},
		{version: 8, name: "customers import record", up: migrateV8},
		{version: 9, name: "refresh token family end index", up: migrateV9},
		{version: 10, name: "account keys, customer profiles, mail outbox", up: migrateV10},
		{version: 15, name: "admin audit trail", up: migrateV15},
		{version: 20, name: "refresh_tokens.spent_at in microseconds", up: migrateV20},
		{version: 21, name: "refresh_tokens.predecessor_seal", up: migrateV21},
		{version: 22, name: "refresh_tokens and authorization_codes.session_hash", up: migrateV22},
	}
}

// mysqlTableOptions pins every MySQL table to InnoDB and utf8mb4_bin: the
// binary collation compares like SQLite does (case-sensitive shop keys,
// client ids, password hashes), so both backends answer the same.
const mysqlTableOptions = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

// migrationLockTimeout bounds how long a replica waits for another one's
// migration on MySQL.
const migrationLockTimeout = 120 * time.Second

// Migrate brings the schema up to the latest version and reports how many
// migrations it applied; a second call applies 0. Concurrent migrators (on
// several replicas) are serialized: on SQLite by the write lock each
// migration's transaction takes at BEGIN, on MySQL by a lease on a lock
// row (migrate_lock.go), which also covers DDL that MySQL commits
// implicitly and holds on a Galera cluster. A migrator that crashed part
// way leaves nothing the next one trips over: every step checks what
// exists before it creates anything (migrate_ddl.go).
// A database that cannot answer is storage.ErrUnavailable, so that serve
// waits for it.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	if s.dialect != dialectMySQL {
		applied, err = s.migrate(s.db.WithContext(ctx))
		return applied, convertErr(err)
	}
	err = s.withMigrationLock(ctx, func(_ context.Context, conn *gorm.DB) error {
		applied, err = s.migrate(conn)
		return err
	})
	return applied, convertErr(err)
}

func (s *Store) migrate(db *gorm.DB) (applied int, err error) {
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
	version BIGINT NOT NULL PRIMARY KEY,
	name VARCHAR(128) NOT NULL,
	applied_at DATETIME NOT NULL
)`
	if s.dialect == dialectMySQL {
		create += " " + mysqlTableOptions
	}
	if err := db.Exec(create).Error; err != nil {
		return 0, fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	for _, m := range migrations() {
		err := db.Session(&gorm.Session{NewDB: true}).Transaction(func(tx *gorm.DB) error {
			// Checked inside the transaction: another migrator may have
			// applied it while this one waited for the lock.
			var n int64
			if err := tx.Table("schema_migrations").Where("version = ?", m.version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			ddl := tx
			if s.dialect == dialectMySQL {
				ddl = tx.Set("gorm:table_options", mysqlTableOptions)
			}
			if err := m.up(ddl, s.dialect); err != nil {
				return err
			}
			if err := tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, dbTime(time.Now())).Error; err != nil {
				return err
			}
			applied++
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("sqlstore: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return applied, nil
}
