package sqlstore

import (
	"gorm.io/gorm"
)

// Schema version 20, frozen: refresh_tokens.spent_at keeps microseconds on
// MySQL (DATETIME(6)), because the reuse grace is measured from it
// (docs/security.md: the grace is exact); SQLite's text already keeps any
// fraction. The column is changed only while its precision is still 0, so
// a migrator that died after MySQL committed the ALTER runs it again
// harmlessly.
func migrateV20(tx *gorm.DB, dialect string) error {
	if dialect != dialectMySQL {
		return nil
	}
	var precision int
	if err := tx.Raw(`SELECT COALESCE(DATETIME_PRECISION, 0) FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'refresh_tokens' AND COLUMN_NAME = 'spent_at'`).
		Row().Scan(&precision); err != nil {
		return err
	}
	if precision == 6 {
		return nil
	}
	return tx.Exec("ALTER TABLE refresh_tokens MODIFY spent_at DATETIME(6) NULL").Error
}
