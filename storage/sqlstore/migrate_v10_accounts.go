package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 10, frozen: customers run their own accounts. account_keys
// holds the SHA-256 of every confirmation and reset key sent by mail;
// customer_profiles what a registration gave beyond e-mail and name;
// mail_outbox the mails written in the same transaction as the key they
// carry, until the sender has delivered or given them up.
//
// MySQL commits each CREATE TABLE on its own, so a migrator stopped
// halfway leaves some tables behind: every table is created only if it is
// missing, and the step can be run again.

type v10AccountKey struct {
	KeyHash    string     `gorm:"column:key_hash;type:char(64);not null;primaryKey"`
	Purpose    string     `gorm:"column:purpose;type:varchar(16);not null"`
	ShopKey    string     `gorm:"column:shop_key;type:varchar(64);not null"`
	CustomerID uint64     `gorm:"column:customer_id;type:bigint unsigned;not null;index:idx_account_keys_customer_id"`
	ContinueTo string     `gorm:"column:continue_to;type:text;not null"`
	CreatedAt  time.Time  `gorm:"column:created_at;type:datetime;not null"`
	ExpiresAt  *time.Time `gorm:"column:expires_at;type:datetime;index:idx_account_keys_expires_at"`
	UsedAt     *time.Time `gorm:"column:used_at;type:datetime"`
	VoidedAt   *time.Time `gorm:"column:voided_at;type:datetime"`
}

func (v10AccountKey) TableName() string { return "account_keys" }

type v10CustomerProfile struct {
	CustomerID uint64 `gorm:"column:customer_id;type:bigint unsigned;not null;primaryKey;autoIncrement:false"`
	Salutation string `gorm:"column:salutation;type:varchar(16);not null"`
	FirstName  string `gorm:"column:first_name;type:varchar(400);not null"`
	LastName   string `gorm:"column:last_name;type:varchar(400);not null"`
	Gender     string `gorm:"column:gender;type:varchar(16);not null"`
}

func (v10CustomerProfile) TableName() string { return "customer_profiles" }

type v10OutboxMail struct {
	// No explicit type, as customers.id in v1: gorm's own makes it SQLite's
	// INTEGER PRIMARY KEY (the rowid, assigned on insert) and MySQL's
	// BIGINT UNSIGNED AUTO_INCREMENT.
	ID            uint64     `gorm:"column:id;primaryKey;autoIncrement"`
	Sealed        []byte     `gorm:"column:sealed;type:blob;not null"`
	NextAttemptAt *time.Time `gorm:"column:next_attempt_at;type:datetime;index:idx_mail_outbox_next_attempt_at"`
	Attempts      int        `gorm:"column:attempts;type:integer;not null"`
	CreatedAt     time.Time  `gorm:"column:created_at;type:datetime;not null;index:idx_mail_outbox_created_at"`
	SentAt        *time.Time `gorm:"column:sent_at;type:datetime"`
	FailedAt      *time.Time `gorm:"column:failed_at;type:datetime"`
	LastError     string     `gorm:"column:last_error;type:varchar(512);not null"`
}

func (v10OutboxMail) TableName() string { return "mail_outbox" }

func migrateV10(tx *gorm.DB, _ string) error {
	for _, table := range []any{&v10AccountKey{}, &v10CustomerProfile{}, &v10OutboxMail{}} {
		if tx.Migrator().HasTable(table) {
			continue
		}
		if err := tx.Migrator().CreateTable(table); err != nil {
			return err
		}
	}
	return nil
}
