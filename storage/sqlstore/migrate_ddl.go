package sqlstore

import (
	"fmt"

	"gorm.io/gorm"
)

// The DDL every migration step uses. Each call checks what exists before
// it creates anything, so a step can be run again after a crash at any
// point: MySQL commits every DDL statement on its own (the step's
// transaction does not roll it back), and a replica killed between two
// statements leaves the first behind. Run again, a step creates only what
// is missing and then records its version. A table that exists with a
// column missing was not made by a shopauth migration: that stops the
// migration with an error naming it, rather than building on it.

// createTables creates each frozen model's table with its indexes, or,
// when the table exists already, checks its columns and creates the
// indexes it lacks.
func createTables(tx *gorm.DB, dialect string, models ...any) error {
	for _, model := range models {
		table, columns, indexes, err := frozenSchema(tx, model)
		if err != nil {
			return err
		}
		exists, err := tableExists(tx, dialect, table)
		if err != nil {
			return err
		}
		if !exists {
			// One CREATE TABLE with its indexes inline on MySQL (atomic);
			// on SQLite gorm adds CREATE INDEX statements, in the step's
			// transaction, which SQLite does roll back.
			if err := tx.Migrator().CreateTable(model); err != nil {
				return fmt.Errorf("create table %s: %w", table, err)
			}
			continue
		}
		for _, c := range columns {
			has, err := columnExists(tx, dialect, table, c)
			if err != nil {
				return err
			}
			if !has {
				return fmt.Errorf("table %s exists without column %s: it was not created by shopauth; rename or drop it", table, c)
			}
		}
		if err := createIndexes(tx, dialect, model, indexes...); err != nil {
			return err
		}
	}
	return nil
}

// createIndexes creates each named index of the frozen model that does not
// exist yet.
func createIndexes(tx *gorm.DB, dialect string, model any, names ...string) error {
	table, _, _, err := frozenSchema(tx, model)
	if err != nil {
		return err
	}
	for _, name := range names {
		has, err := indexExists(tx, dialect, table, name)
		if err != nil {
			return err
		}
		if has {
			continue
		}
		if err := tx.Migrator().CreateIndex(model, name); err != nil {
			return fmt.Errorf("create index %s on %s: %w", name, table, err)
		}
	}
	return nil
}

// addColumns adds each named column of the frozen model that the table
// lacks.
func addColumns(tx *gorm.DB, dialect string, model any, columns ...string) error {
	table, _, _, err := frozenSchema(tx, model)
	if err != nil {
		return err
	}
	for _, c := range columns {
		has, err := columnExists(tx, dialect, table, c)
		if err != nil {
			return err
		}
		if has {
			continue
		}
		if err := tx.Migrator().AddColumn(model, c); err != nil {
			return fmt.Errorf("add column %s.%s: %w", table, c, err)
		}
	}
	return nil
}

// frozenSchema reads a frozen model's table, column and index names.
func frozenSchema(tx *gorm.DB, model any) (table string, columns, indexes []string, err error) {
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(model); err != nil {
		return "", nil, nil, fmt.Errorf("parse migration model %T: %w", model, err)
	}
	for _, idx := range stmt.Schema.ParseIndexes() {
		indexes = append(indexes, idx.Name)
	}
	return stmt.Schema.Table, stmt.Schema.DBNames, indexes, nil
}

// The existence checks ask the catalogue directly rather than through
// gorm's Migrator, whose Has* methods read a failed query as "no": a lost
// connection must stop the step, not make it create what exists.

func tableExists(tx *gorm.DB, dialect, table string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if dialect == dialectMySQL {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ? AND table_type = 'BASE TABLE'"
	}
	return catalogueHas(tx, "table "+table, q, table)
}

func indexExists(tx *gorm.DB, dialect, table, index string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?"
	if dialect == dialectMySQL {
		q = "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?"
	}
	return catalogueHas(tx, "index "+index, q, table, index)
}

func columnExists(tx *gorm.DB, dialect, table, column string) (bool, error) {
	q := "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?"
	if dialect == dialectMySQL {
		q = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
	}
	return catalogueHas(tx, "column "+table+"."+column, q, table, column)
}

func catalogueHas(tx *gorm.DB, what, query string, args ...any) (bool, error) {
	var n int64
	// A fresh session: the caller's may carry a model or table.
	if err := tx.Session(&gorm.Session{NewDB: true}).Raw(query, args...).Row().Scan(&n); err != nil {
		return false, fmt.Errorf("look for %s: %w", what, err)
	}
	return n > 0, nil
}
