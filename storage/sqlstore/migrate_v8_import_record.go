package sqlstore

import "gorm.io/gorm"

// Schema version 8, frozen: customers.import_record holds what the last
// `customer import` wrote into the customer's fields (JSON of
// storage.ImportRecord; NULL when no import wrote it), so a later import
// replaces only fields not changed in shopauth since (storage.MergeImport).
// Nullable with no default: adding it is instant on MySQL 8 and MariaDB
// 10.3+, and needs no rewrite of a large table.

type v8Customer struct {
	ImportRecord *string `gorm:"column:import_record;type:text"`
}

func (v8Customer) TableName() string { return "customers" }

func migrateV8(tx *gorm.DB, dialect string) error {
	return addColumns(tx, dialect, &v8Customer{}, "import_record")
}
