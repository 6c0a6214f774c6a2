package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// migratedFingerprint is the schema a clean migration builds.
func migratedFingerprint(t *testing.T, url string) []string {
	t.Helper()
	s := openURL(t, url)
	_, err := s.Migrate(context.Background())
	require.NoError(t, err)
	fp, err := s.SchemaFingerprint()
	require.NoError(t, err)
	return fp
}

// requireFullyMigrated checks that s has every version recorded and the
// schema of a clean migration.
func requireFullyMigrated(t *testing.T, s *sqlstore.Store, want []string, msg string) {
	t.Helper()
	versions, err := s.AppliedVersions()
	require.NoError(t, err, msg)
	require.Equal(t, sqlstore.MigrationVersions(), versions, msg)
	fp, err := s.SchemaFingerprint()
	require.NoError(t, err, msg)
	require.Equal(t, want, fp, msg)
	missing, err := s.MissingModelColumns()
	require.NoError(t, err, msg)
	require.Empty(t, missing, msg)
}

// TestMigrateResumesAfterACrashAtAnyPoint kills the migration (an injected
// failure right after the statement ran) after each schema statement in
// turn, on a fresh database each time, and then migrates again: the second
// run must reach the end with the schema a clean run builds. On MySQL,
// which commits each DDL statement on its own, this failed before every
// step checked what exists (Error 1050 "Table 'shops' already exists",
// Error 1061 "Duplicate key name"); on SQLite the step's transaction rolls
// the DDL back and it always passed.
func TestMigrateResumesAfterACrashAtAnyPoint(t *testing.T) {
	ctx := context.Background()
	for _, db := range databaseURLs() {
		t.Run(db.name, func(t *testing.T) {
			// A clean run counts the statements and gives the schema.
			ref := openURL(t, db.url(t))
			disarm := ref.FailMigrationAfter(0)
			_, err := ref.Migrate(ctx)
			require.NoError(t, err)
			statements := disarm()
			require.Greater(t, statements, sqlstore.MigrationCount(), "each step runs at least one statement")
			want, err := ref.SchemaFingerprint()
			require.NoError(t, err)

			for n := 1; n <= statements; n++ {
				t.Run(fmt.Sprintf("after statement %d", n), func(t *testing.T) {
					t.Parallel() // each on its own database
					s := openURL(t, db.url(t))
					disarm := s.FailMigrationAfter(n)
					_, err := s.Migrate(ctx)
					disarm()
					require.ErrorIs(t, err, sqlstore.ErrInjected)
					_, err = s.Migrate(ctx)
					require.NoError(t, err, "migrating again after a crash after statement %d", n)
					requireFullyMigrated(t, s, want, fmt.Sprintf("after a crash after statement %d", n))
					applied, err := s.Migrate(ctx)
					require.NoError(t, err)
					require.Zero(t, applied)
				})
			}
		})
	}
}

// TestMigrateRerunsARecordedStep is the field report's reproduction: the
// newest schema_migrations row deleted (a step that ran but whose record
// was lost), and then every other version in turn: the step runs again
// against the objects it made and records itself, nothing fails.
func TestMigrateRerunsARecordedStep(t *testing.T) {
	ctx := context.Background()
	for _, db := range databaseURLs() {
		t.Run(db.name, func(t *testing.T) {
			url := db.url(t)
			want := migratedFingerprint(t, url)
			s := openURL(t, url)
			versions := sqlstore.MigrationVersions()
			for i := len(versions) - 1; i >= 0; i-- {
				v := versions[i]
				require.NoError(t, s.Exec("DELETE FROM schema_migrations WHERE version = ?", v))
				applied, err := s.Migrate(ctx)
				require.NoError(t, err, "version %d run again", v)
				require.Equal(t, 1, applied, "version %d run again", v)
				requireFullyMigrated(t, s, want, fmt.Sprintf("version %d run again", v))
			}
		})
	}
}

// TestMigrateOverAPrecreatedTable: a shops table left behind (the first
// statement of version 1 ran, the process died) does not stop the
// migration; a table of that name with other columns does, naming it.
func TestMigrateOverAPrecreatedTable(t *testing.T) {
	ctx := context.Background()
	for _, db := range databaseURLs() {
		t.Run(db.name, func(t *testing.T) {
			want := migratedFingerprint(t, db.url(t))

			s := openURL(t, db.url(t))
			shops := `CREATE TABLE shops (shop_key varchar(64) NOT NULL, name varchar(255) NOT NULL,
				locale varchar(16) NOT NULL, cors_origins text NOT NULL, active boolean NOT NULL,
				created_at datetime NOT NULL, PRIMARY KEY (shop_key))`
			if db.name == "mysql" {
				shops += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
			}
			require.NoError(t, s.Exec(shops))
			_, err := s.Migrate(ctx)
			require.NoError(t, err)
			requireFullyMigrated(t, s, want, "over a pre-created shops table")

			foreign := openURL(t, db.url(t))
			require.NoError(t, foreign.Exec("CREATE TABLE shops (id integer NOT NULL PRIMARY KEY)"))
			_, err = foreign.Migrate(ctx)
			require.ErrorContains(t, err, "table shops exists without column shop_key")
		})
	}
}

// galeraDSNsEnv names a comma-separated list of go-sql-driver DSNs, one per
// node of a Galera cluster the tests may create and drop databases on
// (faults/galera start; faults/galera dsn N).
const galeraDSNsEnv = "SHOPAUTH_TEST_GALERA_DSNS"

// TestMigrateGaleraNodes runs migrators through every node of a Galera
// cluster at once: each migration is applied exactly once and none fails.
// GET_LOCK is local to a node there (two nodes both get it), so with
// GET_LOCK alone two migrators ran version 1 together and one failed with
// "Table … already exists"; the lock row serializes them.
func TestMigrateGaleraNodes(t *testing.T) {
	dsns := os.Getenv(galeraDSNsEnv)
	if dsns == "" {
		t.Skip(galeraDSNsEnv + " not set: skipping Galera test")
	}
	ctx := context.Background()
	var urls []string
	name := fmt.Sprintf("shopauth_galera_%d", time.Now().UnixNano())
	for i, dsn := range strings.Split(dsns, ",") {
		cfg, err := gomysql.ParseDSN(strings.TrimSpace(dsn))
		require.NoError(t, err)
		if i == 0 {
			server := cfg.Clone()
			server.DBName = ""
			admin, err := sql.Open("mysql", server.FormatDSN())
			require.NoError(t, err)
			_, err = admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
			require.NoError(t, err)
			t.Cleanup(func() {
				_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
				_ = admin.Close()
			})
		}
		cfg.DBName = name
		urls = append(urls, "mysql://"+cfg.FormatDSN())
	}
	require.GreaterOrEqual(t, len(urls), 2, "a cluster of at least two nodes")

	// Two migrators per node, all started together.
	var stores []*sqlstore.Store
	for range 2 {
		for _, url := range urls {
			stores = append(stores, openURL(t, url))
		}
	}
	applied := make([]int, len(stores))
	errs := make([]error, len(stores))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			applied[i], errs[i] = s.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	total := 0
	for i := range stores {
		require.NoError(t, errs[i], "migrator %d", i)
		total += applied[i]
	}
	require.Equal(t, sqlstore.MigrationCount(), total, "each migration applied exactly once across the cluster")
	versions, err := stores[len(stores)-1].AppliedVersions()
	require.NoError(t, err)
	require.Equal(t, sqlstore.MigrationVersions(), versions)
}

// TestMigrationLockRow: a lock row left held by a migrator that died is
// taken over once its lease ran out; while it runs, the row keeps others
// out (on one server GET_LOCK would too, so this checks the row itself).
func TestMigrationLockRow(t *testing.T) {
	ctx := context.Background()
	s := openURL(t, sqlstoretest.MySQLDatabaseURL(t))
	_, err := s.Migrate(ctx)
	require.NoError(t, err)

	taken, err := s.TryMigrationLease(ctx, "other")
	require.NoError(t, err)
	require.True(t, taken, "a free row is taken")
	taken, err = s.TryMigrationLease(ctx, "me")
	require.NoError(t, err)
	require.False(t, taken, "a held row is not taken")

	// The holder died a while ago: its lease ran out.
	require.NoError(t, s.Exec("UPDATE schema_migration_lock SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND"))
	require.NoError(t, s.Exec("DELETE FROM schema_migrations WHERE version = ?", sqlstore.MigrationVersions()[0]))
	applied, err := s.Migrate(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, applied)
	taken, err = s.TryMigrationLease(ctx, "me")
	require.NoError(t, err)
	require.True(t, taken, "Migrate released the row")
}
