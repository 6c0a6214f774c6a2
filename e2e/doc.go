// Package e2e holds the end-to-end tests: each one drives the real, fully
// wired server over HTTP (or the real command line) through package
// e2e/harness, on SQLite and, with SHOPAUTH_TEST_MYSQL_DSN, on MySQL.
package e2e
