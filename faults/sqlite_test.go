package faults_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// TestSQLiteCrash (item 5): the replica is killed (-9) during a burst of
// refreshes on SQLite. The file reopens with PRAGMA integrity_check ok,
// and every rotation the server answered 200 is in it.
func TestSQLiteCrash(t *testing.T) {
	needs(t, envSmallFS)
	path := filepath.Join(t.TempDir(), "crash.db")
	r := startReplica(t, replicaEnv("sqlite://"+path), true, "--demo")
	var (
		count    tally
		mu       sync.Mutex
		answered []string // refresh tokens returned with 200
		wg       sync.WaitGroup
		stop     = make(chan struct{})
	)
	for range 8 {
		wg.Go(func() {
			tok, a := login(r.url)
			count.add(a)
			if a.status != http.StatusOK {
				return
			}
			cur := tok.RefreshToken
			for {
				select {
				case <-stop:
					return
				default:
				}
				next, a := refresh(r.url, cur)
				if a.err != nil {
					return // the process died under the request
				}
				count.add(a)
				if a.status != http.StatusOK {
					return
				}
				mu.Lock()
				answered = append(answered, next.RefreshToken)
				mu.Unlock()
				cur = next.RefreshToken
			}
		})
	}
	time.Sleep(3 * time.Second)
	r.kill9(t)
	close(stop)
	wg.Wait()
	require.NotEmpty(t, answered)

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var check string
	require.NoError(t, db.QueryRow("PRAGMA integrity_check").Scan(&check))
	require.Equal(t, "ok", check)
	missing := 0
	for _, tok := range answered {
		var n int
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = ?", tokenHash(tok)).Scan(&n))
		if n != 1 {
			missing++
		}
	}
	count.lose(missing)
	require.Zero(t, missing, "of %d answered rotations", len(answered))
	t.Logf("%d rotations answered before the kill; all in the reopened file", len(answered))

	// The file serves again after a restart.
	r2 := startReplica(t, replicaEnv("sqlite://"+path), true)
	start := time.Now()
	_, a := refresh(r2.url, answered[len(answered)-1])
	count.add(a)
	record(count.row("sqlite: replica killed (-9) mid-write", time.Since(start)))
	require.Zero(t, count.bad5xx, "5xx other than 503: %v", count.first)
}

// TestSQLiteDiskFull (item 5): the database's filesystem fills up. Writes
// are answered 503 with Retry-After (not 500), the file is not corrupted,
// and the replica serves again when space returns, without a restart.
func TestSQLiteDiskFull(t *testing.T) {
	dir := needs(t, envSmallFS)
	sub, err := os.MkdirTemp(dir, "diskfull")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(sub) })
	path := filepath.Join(sub, "full.db")
	r := startReplica(t, replicaEnv("sqlite://"+path), true, "--demo")
	var count tally
	_, a := login(r.url)
	require.Equal(t, http.StatusOK, a.status, a.String())

	// Fill what is left of the filesystem.
	filler := filepath.Join(sub, "filler")
	f, err := os.Create(filler)
	require.NoError(t, err)
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	_ = f.Close()

	sawFull := false
	for range 40 {
		_, a := login(r.url)
		count.add(a)
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, a.status, a.String())
		if a.status == http.StatusServiceUnavailable {
			sawFull = true
			require.NotEmpty(t, a.header.Get("Retry-After"))
		}
	}
	require.True(t, sawFull, "no write found the disk full")

	require.NoError(t, os.Remove(filler))
	start := time.Now()
	took, ok := until(t.Context(), 30*time.Second, func() bool {
		_, a := login(r.url)
		count.add(a)
		return a.status == http.StatusOK
	})
	require.True(t, ok, "no recovery after space returned")
	_ = took

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var check string
	require.NoError(t, db.QueryRow("PRAGMA integrity_check").Scan(&check))
	require.Equal(t, "ok", check)
	record(count.row("sqlite: disk full, space returned", time.Since(start)))
	require.Zero(t, count.bad5xx, "5xx other than 503: %v", count.first)
}
