package sqlstore

import (
	"fmt"

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
