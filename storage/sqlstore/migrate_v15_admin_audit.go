package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 15, frozen: admin_audit records every administrative
// change (docs/admin.md, "Audit trail"), written in the change's own
// transaction. Read in id order, by shop or all; created only if missing,
// so the step can be run again after a crash on MySQL.

type v15AdminAudit struct {
	// No explicit type, as customers.id in v1: SQLite's rowid, MySQL's
	// BIGINT UNSIGNED AUTO_INCREMENT.
	ID           uint64    `gorm:"column:id;primaryKey;autoIncrement"`
	At           time.Time `gorm:"column:at;type:datetime;not null"`
	Actor        string    `gorm:"column:actor;type:varchar(128);not null"`
	Action       string    `gorm:"column:action;type:varchar(64);not null"`
	ResourceType string    `gorm:"column:resource_type;type:varchar(32);not null"`
	ResourceID   string    `gorm:"column:resource_id;type:varchar(128);not null"`
	ShopKey      string    `gorm:"column:shop_key;type:varchar(64);not null;index:idx_admin_audit_shop_key"`
}

func (v15AdminAudit) TableName() string { return "admin_audit" }

func migrateV15(tx *gorm.DB, dialect string) error {
	return createTables(tx, dialect, &v15AdminAudit{})
}
