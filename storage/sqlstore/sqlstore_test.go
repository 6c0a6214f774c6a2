package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/racer"
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
				stores := make([]*sqlstore.Store, racer.N)
				for i := range stores {
					stores[i] = openURL(t, url)
				}
				applied := make([]int, len(stores))
				errs := racer.Run(len(stores), func(i int) (err error) {
					applied[i], err = stores[i].Migrate(ctx)
					return err
				})
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
// file, as two replicas sharing a volume would: racer.N racers released
// together, half on each store, one winner per token.
func TestSQLiteTwoStores(t *testing.T) {
	ctx := context.Background()
	url := sqlstoretest.SQLiteDatabaseURL(t)
	a, b := openURL(t, url), openURL(t, url)
	_, err := a.Migrate(ctx)
	require.NoError(t, err)

	now := time.Now()
	const tokens = 20
	for i := range tokens {
		require.NoError(t, a.CreateRefreshToken(ctx, refreshToken(fmt.Sprintf("t%d", i), now), storage.IssuedAccessToken{}))
	}
	var wins [tokens]atomic.Int32
	errs := racer.Run(racer.N, func(r int) error {
		s := a
		if r%2 == 1 {
			s = b
		}
		return rotateAll(ctx, s, tokens, now, fmt.Sprint(r), func(i int) { wins[i].Add(1) })
	})
	for r, err := range errs {
		require.NoError(t, err, "racer %d", r)
	}
	for i := range wins {
		require.Equal(t, int32(1), wins[i].Load(), "token t%d", i)
	}
}

// rotateAll rotates the tokens t0…t(tokens-1) to successors named after
// racer, calling won(i) for each rotation it wins. A lost race
// (storage.ErrConflict) is expected; any other error ends it.
func rotateAll(ctx context.Context, s *sqlstore.Store, tokens int, now time.Time, racer string, won func(i int)) error {
	for i := range tokens {
		err := s.RotateRefreshToken(ctx, hash(fmt.Sprintf("t%d", i)), now,
			refreshToken(fmt.Sprintf("t%d-next-%s", i, racer), now), storage.IssuedAccessToken{})
		switch {
		case err == nil:
			won(i)
		case !errors.Is(err, storage.ErrConflict):
			return fmt.Errorf("rotate t%d: %w", i, err)
		}
	}
	return nil
}

const (
	writerURLEnv = "SHOPAUTH_SQLSTORE_TEST_WRITER_URL"
	writerIDEnv  = "SHOPAUTH_SQLSTORE_TEST_WRITER_ID"
	writerTokens = 40
	// writerProcesses × writerRacers rotations race for each token.
	writerProcesses, writerRacers = 4, racer.N / 4
)

// TestSQLiteTwoProcesses races rotations and inserts from separate
// processes (this test binary re-run as TestSQLiteWriterProcess) on one
// file: no "database is locked", one winner per token. Every child opens
// its store and says "ready", then waits for its stdin to close; the
// parent closes them all once every child is ready, so the processes'
// writes overlap instead of following each other's start-up.
//
// Mutant (storage/sqlstore/open.go, sqliteDSN): "_pragma=busy_timeout(0)"
// instead of 5000: a writer meeting another process's write lock fails at
// once with "database is locked (5) (SQLITE_BUSY)". (Deleting the pragma is
// no mutant: the driver's own default is 5000 too.)
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

	type child struct {
		cmd    *exec.Cmd
		stdin  io.Closer
		stdout *bufio.Reader
		stderr bytes.Buffer
	}
	children := make([]*child, writerProcesses)
	for p := range children {
		c := &child{}
		// t.Context ends before cleanup: a failed test kills its children.
		c.cmd = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSQLiteWriterProcess$", "-test.count=1")
		c.cmd.Env = append(os.Environ(), writerURLEnv+"="+url, writerIDEnv+"="+strconv.Itoa(p))
		c.cmd.Stderr = &c.stderr
		stdin, err := c.cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := c.cmd.StdoutPipe()
		require.NoError(t, err)
		c.stdin, c.stdout = stdin, bufio.NewReader(stdout)
		require.NoError(t, c.cmd.Start())
		children[p] = c
	}
	// The barrier: every child is ready before any writes.
	for p, c := range children {
		for {
			line, err := c.stdout.ReadString('\n')
			if err != nil {
				_ = c.cmd.Wait() // the stderr buffer is complete once Wait returns
				t.Fatalf("writer %d exited before it was ready: %v\n%s%s", p, err, line, c.stderr.String())
			}
			if line == writerReady+"\n" {
				break
			}
		}
	}
	for _, c := range children {
		require.NoError(t, c.stdin.Close())
	}

	wins := make([]int, writerTokens)
	for p, c := range children {
		out, err := io.ReadAll(c.stdout)
		require.NoError(t, err)
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s%s", p, err, out, c.stderr.String())
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
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
	for p := range writerProcesses {
		for i := range writerTokens {
			_, err := s.GetCustomerByEmail(ctx, "demo", fmt.Sprintf("p%d-%d@example.com", p, i))
			require.NoError(t, err)
		}
	}
}

// writerReady is the line a writer process prints once its store is open.
const writerReady = "ready"

// TestSQLiteWriterProcess is the child of TestSQLiteTwoProcesses: once
// its stdin closes, writerRacers goroutines rotate every token while one
// more inserts customers.
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
	_, err = s.GetRefreshToken(ctx, hash("t0")) // the connection is open before the start
	require.NoError(t, err)
	fmt.Println(writerReady)
	_, err = io.Copy(io.Discard, os.Stdin)
	require.NoError(t, err)

	errs := racer.Run(writerRacers+1, func(r int) error {
		if r == writerRacers {
			for i := range writerTokens {
				err := s.CreateCustomer(ctx, &storage.Customer{ShopKey: "demo", EmailNormalized: fmt.Sprintf("p%s-%d@example.com", id, i)})
				if err != nil {
					return fmt.Errorf("create customer: %w", err)
				}
			}
			return nil
		}
		return rotateAll(ctx, s, writerTokens, now, fmt.Sprintf("p%s-%d", id, r), func(i int) { fmt.Printf("won %d\n", i) })
	})
	for r, err := range errs {
		require.NoError(t, err, "racer %d", r)
	}
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
	const each = 12
	errs := racer.Run(racer.N, func(w int) error {
		for i := range each {
			name := fmt.Sprintf("w%d-%d", w, i)
			// A transaction (CreateRefreshToken), a single write
			// (INSERT … RETURNING) and a read, interleaved.
			if err := s.CreateRefreshToken(ctx, refreshToken(name, now), storage.IssuedAccessToken{}); err != nil {
				return fmt.Errorf("create %s: %w", name, err)
			}
			err := s.CreateShop(ctx, storage.Shop{Key: fmt.Sprintf("s%dx%d", w, i), Name: name, Locale: "en", Active: true, CreatedAt: now})
			if err != nil {
				return fmt.Errorf("shop %s: %w", name, err)
			}
			if _, err := s.GetRefreshToken(ctx, hash(name)); err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
		}
		return nil
	})
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}
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
