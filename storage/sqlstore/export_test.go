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
