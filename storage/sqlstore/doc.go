// Package sqlstore implements shopauth's storage on gorm, with one schema for
// SQLite (modernc.org/sqlite, pure Go, through the github.com/libtnb/sqlite dialector) and MySQL/MariaDB, versioned
// migrations embedded in the binary, and atomic storage-owned state changes.
package sqlstore
