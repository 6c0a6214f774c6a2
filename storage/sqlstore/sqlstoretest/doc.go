// Package sqlstoretest opens migrated, throw-away sqlstore databases for
// tests: SQLite files in t.TempDir() always, and fresh MySQL databases when
// SHOPAUTH_TEST_MYSQL_DSN is set.
package sqlstoretest
