package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
	"github.com/shopauth/shopauth/storage/storagetest"
)

var _ storagetest.Store = (*sqlstore.Store)(nil)

func TestConformance(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storagetest.Store { return b.Open(t) })
		})
	}
}

// databaseURLs returns a fresh, unmigrated database per backend.
func databaseURLs() []struct {
	name string
	url  func(t testing.TB) string
} {
	return []struct {
		name string
		url  func(t testing.TB) string
	}{
		{"sqlite", sqlstoretest.SQLiteDatabaseURL},
		{"mysql", sqlstoretest.MySQLDatabaseURL},
	}
}

func openURL(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), url, sqlstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	for _, db := range databaseURLs() {
		t.Run(db.name, func(t *testing.T) {
			t.Run("N then 0", func(t *testing.T) {
				s := openURL(t, db.url(t))
				runs := []struct {
					name string
					want int
				}{
					{"first run applies every migration", sqlstore.MigrationCount()},
					{"second run applies none", 0},
				}
				for _, run := range runs {
					applied, err := s.Migrate(ctx)
					require.NoError(t, err, run.name)
					require.Equal(t, run.want, applied, run.name)
				}
				missing, err := s.MissingModelColumns()
				require.NoError(t, err)
				require.Empty(t, missing, "runtime models need columns no migration creates")
			})

			t.Run("concurrent migrators apply each migration once", func(t *testing.T) {
				url := db.url(t)
				stores := make([]*sqlstore.Store, 4)
				for i := range stores {
					stores[i] = openURL(t, url)
				}
				applied := make([]int, len(stores))
				errs := make([]error, len(stores))
				var wg sync.WaitGroup
				for i, s := range stores {
					wg.Go(func() { applied[i], errs[i] = s.Migrate(ctx) })
				}
				wg.Wait()
				total := 0
				for i := range stores {
					require.NoError(t, errs[i])
					total += applied[i]
				}
				require.Equal(t, sqlstore.MigrationCount(), total)
			})
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantMsg string
	}{
		{name: "no scheme", url: "/var/lib/shopauth.db", wantMsg: "sqlite://PATH or mysql://"},
		{name: "unknown scheme", url: "postgres://admin:hunter2@db/shopauth", wantMsg: `unsupported database URL scheme "postgres"`},
		{name: "sqlite without path", url: "sqlite://", wantMsg: "no path"},
		{name: "sqlite _time_format disables _txlock", url: "sqlite:///tmp/x.db?_time_format=sqlite", wantMsg: "_time_format"},
		{name: "mysql garbage", url: "mysql://admin:hunter2@db:3306", wantMsg: "mysql URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sqlstore.Open(context.Background(), tt.url, sqlstore.Options{})
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantMsg)
			require.NotContains(t, err.Error(), "hunter2", "password leaked")
		})
	}
}

func TestOpenMemory(t *testing.T) {
	// :memory: is one database per connection; the store pins one.
	s := openURL(t, "sqlite://:memory:")
	_, err := s.Migrate(context.Background())
	require.NoError(t, err)
	require.NoError(t, s.CreateShop(context.Background(), storage.Shop{Key: "demo"}))
	_, err = s.GetShop(context.Background(), "demo")
	require.NoError(t, err)
}

// TestSQLiteTwoStores races rotations through two stores (two pools) on one
// file, as two replicas sharing a volume would.
func TestSQLiteTwoStores(t *testing.T) {
	ctx := context.Background()
	url := sqlstoretest.SQLiteDatabaseURL(t)
	a, b := openURL(t, url), openURL(t, url)
	_, err := a.Migrate(ctx)
	require.NoError(t, err)

	now := time.Now()
	const tokens, racers = 20, 8
	for i := range tokens {
		require.NoError(t, a.CreateRefreshToken(ctx, refreshToken(fmt.Sprintf("t%d", i), now), storage.IssuedAccessToken{}))
	}
	wins := make([]int, tokens)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for r := range racers {
		s := a
		if r%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range tokens {
				err := s.RotateRefreshToken(ctx, hash(fmt.Sprintf("t%d", i)), now,
					refreshToken(fmt.Sprintf("t%d-next-%d", i, r), now), storage.IssuedAccessToken{})
				if err == nil {
					mu.Lock()
					wins[i]++
					mu.Unlock()
					continue
				}
				if !errors.Is(err, storage.ErrConflict) {
					t.Errorf("rotate t%d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	for i, n := range wins {
		require.Equal(t, 1, n, "token t%d", i)
	}
}

const (
	writerURLEnv = "SHOPAUTH_SQLSTORE_TEST_WRITER_URL"
	writerIDEnv  = "SHOPAUTH_SQLSTORE_TEST_WRITER_ID"
	writerTokens = 40
)

// TestSQLiteTwoProcesses races rotations and inserts from separate
// processes (this test binary re-run as TestSQLiteWriterProcess) on one
// file: no "database is locked", one winner per token.
func TestSQLiteTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	ctx := context.Background()
	url := sqlstoretest.SQLiteDatabaseURL(t)
	s := openURL(t, url)
	_, err := s.Migrate(ctx)
	require.NoError(t, err)
	now := time.Now()
	for i := range writerTokens {
		require.NoError(t, s.CreateRefreshToken(ctx, refreshToken(fmt.Sprintf("t%d", i), now), storage.IssuedAccessToken{}))
	}

	const processes = 3
	outs := make([]bytes.Buffer, processes)
	cmds := make([]*exec.Cmd, processes)
	for p := range processes {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerURLEnv+"="+url, writerIDEnv+"="+strconv.Itoa(p))
		cmd.Stdout, cmd.Stderr = &outs[p], &outs[p]
		require.NoError(t, cmd.Start())
		cmds[p] = cmd
	}
	wins := make([]int, writerTokens)
	for p, cmd := range cmds {
		err := cmd.Wait()
		require.NoError(t, err, "writer %d:\n%s", p, outs[p].String())
		sc := bufio.NewScanner(&outs[p])
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "won "); ok {
				i, err := strconv.Atoi(rest)
				require.NoError(t, err)
				wins[i]++
			}
		}
	}
	for i, n := range wins {
		require.Equal(t, 1, n, "token t%d", i)
	}
	for p := range processes {
		for i := range writerTokens {
			_, err := s.GetCustomerByEmail(ctx, "demo", fmt.Sprintf("p%d-%d@example.com", p, i))
			require.NoError(t, err)
		}
	}
}

// TestSQLiteWriterProcess is the child of TestSQLiteTwoProcesses.
func TestSQLiteWriterProcess(t *testing.T) {
	url := os.Getenv(writerURLEnv)
	if url == "" {
		t.Skip("child process of TestSQLiteTwoProcesses")
	}
	id := os.Getenv(writerIDEnv)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	require.NoError(t, err)
	defer s.Close()
	now := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range writerTokens {
			err := s.CreateCustomer(ctx, &storage.Customer{ShopKey: "demo", EmailNormalized: fmt.Sprintf("p%s-%d@example.com", id, i)})
			if err != nil {
				t.Errorf("create customer: %v", err)
			}
		}
	})
	for i := range writerTokens {
		err := s.RotateRefreshToken(ctx, hash(fmt.Sprintf("t%d", i)), now,
			refreshToken(fmt.Sprintf("t%d-next-p%s", i, id), now), storage.IssuedAccessToken{})
		switch {
		case err == nil:
			fmt.Printf("won %d\n", i)
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("rotate t%d: %v", i, err)
		}
	}
	wg.Wait()
}

func hash(s string) string { return fmt.Sprintf("%064x", []byte(s))[:64] }

func refreshToken(name string, now time.Time) storage.RefreshToken {
	return storage.RefreshToken{
		TokenHash: hash(name),
		FamilyID:  "fam",
		ClientID:  "web",
		IssuedAt:  now,
		ExpiresAt: now.Add(time.Hour),
	}
}

// TestSQLiteWritersQueueInProcess: writers of one Store wait for each
// other in the process, not in SQLite's busy handler. With the handler
// off (busy_timeout 0) any lock contention inside SQLite would fail at
// once with "database is locked".
func TestSQLiteWritersQueueInProcess(t *testing.T) {
	ctx := context.Background()
	s := openURL(t, sqlstoretest.SQLiteDatabaseURL(t)+"?_pragma=busy_timeout(0)")
	_, err := s.Migrate(ctx)
	require.NoError(t, err)

	now := time.Now()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("w%d-%d", w, i)
				// A transaction (CreateRefreshToken), a single write
				// (INSERT … RETURNING) and a read, interleaved.
				if err := s.CreateRefreshToken(ctx, refreshToken(name, now), storage.IssuedAccessToken{}); err != nil {
					t.Errorf("create %s: %v", name, err)
					return
				}
				err := s.CreateShop(ctx, storage.Shop{Key: fmt.Sprintf("s%dx%d", w, i), Name: name, Locale: "en", Active: true, CreatedAt: now})
				if err != nil {
					t.Errorf("shop %s: %v", name, err)
					return
				}
				if _, err := s.GetRefreshToken(ctx, hash(name)); err != nil {
					t.Errorf("read %s: %v", name, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestAccountsMigrationResumes: schema version 10 creates three tables;
// on MySQL each CREATE commits on its own, so a migrator stopped between
// them leaves some behind and is run again. The step must then create
// only what is missing.
func TestAccountsMigrationResumes(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			require.NoError(t, s.RerunMigration(10), "a complete step runs again")
			require.NoError(t, s.DropTable("mail_outbox"))
			require.NoError(t, s.RerunMigration(10), "a half-done step resumes")
			require.True(t, s.HasTable("mail_outbox"))
			require.NoError(t, s.EnqueueMail(context.Background(), storage.OutboxMail{Sealed: []byte("m"), CreatedAt: time.Now()}))
		})
	}
}

// TestSQLiteFileMode: a database file shopauth creates, and the WAL and
// shared-memory files SQLite makes beside it (which take the database's
// mode), may be read by the owner only: they hold password hashes and
// encrypted keys. A file that exists keeps its mode. Before, the driver
// created it 0644 under the usual umask (issue 20 item 6).
func TestSQLiteFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	s := openURL(t, "sqlite://"+path)
	_, err := s.Migrate(context.Background())
	require.NoError(t, err)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Zero(t, fi.Mode().Perm()&0o077, "%s has mode %v", filepath.Base(p), fi.Mode().Perm())
	}

	existing := filepath.Join(dir, "existing.db")
	require.NoError(t, os.WriteFile(existing, nil, 0o640))
	require.NoError(t, os.Chmod(existing, 0o640))
	openURL(t, "sqlite://"+existing+"?_pragma=cache_size(-2000)")
	fi, err := os.Stat(existing)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "an existing file keeps its mode")
}
