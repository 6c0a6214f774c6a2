package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/shopauth/shopauth/storage/sqlstore"
)

// MySQLDSNEnv names the variable holding a go-sql-driver DSN of a MySQL
// server the tests may create and drop databases on, for example
// root@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC&charset=utf8mb4.
// Its database part is ignored: every test gets a fresh database.
const MySQLDSNEnv = "SHOPAUTH_TEST_MYSQL_DSN"

// Backend is one database engine the tests can run on.
type Backend struct {
	Name string
	Open func(t testing.TB) *sqlstore.Store
}

// Backends lists SQLite and MySQL; MySQL's Open skips the test when
// SHOPAUTH_TEST_MYSQL_DSN is not set.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Open: OpenSQLite},
		{Name: "mysql", Open: OpenMySQL},
	}
}

// OpenSQLite returns a migrated store on a new SQLite file in t.TempDir(),
// closed when the test ends.
func OpenSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, SQLiteDatabaseURL(t))
}

// SQLiteDatabaseURL returns a sqlite:// URL of a new, not yet migrated file
// in t.TempDir(), for tests that open it from several stores or processes.
func SQLiteDatabaseURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "shopauth.db")
}

// OpenMySQL returns a migrated store on a fresh MySQL database, dropped when
// the test ends. It skips the test unless SHOPAUTH_TEST_MYSQL_DSN is set
// (fails it under CI=true).
func OpenMySQL(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, MySQLDatabaseURL(t))
}

// MySQLDatabaseURL creates a fresh, empty MySQL database dropped when the
// test ends and returns its mysql:// URL, for tests that start separate
// server processes. It skips the test unless SHOPAUTH_TEST_MYSQL_DSN is set
// (fails it under CI=true, so CI cannot pass without the MySQL half).
func MySQLDatabaseURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(MySQLDSNEnv)
	if dsn == "" {
		// A green CI must mean the MySQL half ran (.ci/run sets the DSN).
		if os.Getenv("CI") == "true" {
			t.Fatal(MySQLDSNEnv + " not set under CI=true: the MySQL tests must run in CI")
		}
		t.Skip(MySQLDSNEnv + " not set: skipping MySQL test")
	}
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", MySQLDSNEnv, err)
	}
	server := cfg.Clone()
	server.DBName = ""
	admin, err := sql.Open("mysql", server.FormatDSN())
	if err != nil {
		t.Fatalf("open MySQL server: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })

	name := "shopauth_t_" + randomHex(t, 8)
	// utf8mb4_bin matches the tables' collation (see sqlstore migrations).
	if _, err := admin.ExecContext(context.Background(),
		"CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create MySQL test database: %v", err)
	}
	// Registered after admin.Close, so it runs first (cleanups are LIFO).
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("drop MySQL test database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return "mysql://" + cfg.FormatDSN()
}

func open(t testing.TB, databaseURL string) *sqlstore.Store {
	t.Helper()
	// Not t.Context(): it is cancelled before cleanups run, and the store
	// outlives this call.
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, databaseURL, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate store: %v", err)
	}
	return s
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}
