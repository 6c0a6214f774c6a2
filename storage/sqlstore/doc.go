// Package sqlstore implements shopauth's storage on gorm, with one schema for
// SQLite (github.com/glebarez/sqlite, pure Go) and MySQL/MariaDB, versioned
// migrations embedded in the binary, and atomic storage-owned state changes.
package sqlstore
