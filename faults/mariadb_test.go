package faults_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/web"
)

// The single-database faults run against the throwaway MariaDB of
// faults/mariadb, one at a time (they kill and freeze the same server).

// storm sends every dialect's database request to r from workers
// goroutines until stop is closed, and checks each answer: a 503 with
// Retry-After in the dialect's own form, within requestBound. It returns
// the answers that broke that promise.
func storm(r *replica, workers int, count *tally, stop <-chan struct{}) (broken func() []string) {
	var (
		mu  sync.Mutex
		bad []string
		wg  sync.WaitGroup
	)
	for i := range workers {
		d := dialects()[i%len(dialects())]
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := do(d.req(r.url), d.name)
				count.add(a)
				var err error
				switch {
				case a.err != nil:
					err = a.err
				case a.status != http.StatusServiceUnavailable:
					err = errStatus(a.status)
				case a.header.Get("Retry-After") == "":
					err = errNoRetryAfter
				case a.took > requestBound:
					err = errTooSlow
				default:
					err = d.is503(a)
				}
				if err != nil {
					mu.Lock()
					if len(bad) < 8 {
						bad = append(bad, d.name+": "+err.Error()+" — "+a.String())
					}
					mu.Unlock()
				}
			}
		})
	}
	return func() []string {
		wg.Wait()
		return bad
	}
}

type faultError string

func (e faultError) Error() string { return string(e) }

const (
	errNoRetryAfter = faultError("503 without Retry-After")
	errTooSlow      = faultError("answered after the request bound")
)

func errStatus(s int) error { return faultError("status " + http.StatusText(s)) }

// publicDocumentsServed: JWKS and discovery come from memory.
func publicDocumentsServed(t *testing.T, r *replica) {
	t.Helper()
	for _, p := range []string{web.PathJWKS, web.PathOIDCDiscovery} {
		a := r.get(p)
		require.Equal(t, http.StatusOK, a.status, a.String())
		require.Contains(t, a.body, "{")
	}
}

// recovers measures how long after the database came back the replica
// takes to log a customer in again (no restart), and that /readyz agrees.
func recovers(t *testing.T, r *replica, count *tally) time.Duration {
	t.Helper()
	took, ok := until(t.Context(), 60*time.Second, func() bool {
		_, a := login(r.url)
		count.add(a)
		return a.status == http.StatusOK
	})
	require.True(t, ok, "replica %s did not serve again within 60 s of the database's return", r.url)
	require.Equal(t, http.StatusOK, r.get("/readyz").status)
	return took
}

// noPileUp: what the storm left behind is gone — goroutines back near
// where they were, connections within the pool.
func noPileUp(t *testing.T, r *replica, before usage, during []usage) {
	t.Helper()
	var after usage
	_, ok := until(t.Context(), 15*time.Second, func() bool {
		after = r.usage(t)
		return after.goroutines <= before.goroutines+20
	})
	require.True(t, ok, "goroutines %v after the fault, %v before", after.goroutines, before.goroutines)
	for _, u := range during {
		require.LessOrEqual(t, u.conns, 16.0, "database connections beyond the pool")
		require.Less(t, u.goroutines, before.goroutines+400, "goroutines piled up during the fault")
	}
	t.Logf("goroutines %v before, at most %v during, %v after; connections at most %v during",
		before.goroutines, maxOf(during, func(u usage) float64 { return u.goroutines }), after.goroutines,
		maxOf(during, func(u usage) float64 { return u.conns }))
}

func maxOf[T any](xs []T, f func(T) float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, f(x))
	}
	return m
}

// sample reads r's usage every 500 ms until stop.
func sample(t *testing.T, r *replica, stop <-chan struct{}) func() []usage {
	var (
		out []usage
		wg  sync.WaitGroup
	)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
				out = append(out, r.usage(t))
			}
		}
	})
	return func() []usage { wg.Wait(); return out }
}

// TestDatabaseKilled (item 2): the database is killed (-9; its port
// closes). Every request that needs it is answered within the bound with
// 503 and Retry-After in the caller's dialect; /readyz is 503; JWKS and
// discovery are served; no goroutine or connection pile-up; when the
// database is back the replica serves again without a restart.
func TestDatabaseKilled(t *testing.T) {
	serverDSN := needs(t, envMariaDB)
	dbURL, _ := database(t, serverDSN, "faults_killed")
	r := startReplica(t, replicaEnv(dbURL), true, "--demo")
	var count tally
	_, a := login(r.url)
	require.Equal(t, http.StatusOK, a.status, a.String())
	before := r.usage(t)

	script(t, "mariadb", "kill")
	t.Cleanup(func() { _ = tryScript("mariadb", "restart") })
	stop := make(chan struct{})
	broken := storm(r, 16, &count, stop)
	samples := sample(t, r, stop)
	time.Sleep(8 * time.Second)
	require.Equal(t, http.StatusServiceUnavailable, r.get("/readyz").status)
	publicDocumentsServed(t, r)
	close(stop)
	require.Empty(t, broken(), "answers while the database was away")
	during := samples()

	script(t, "mariadb", "restart")
	recovery := recovers(t, r, &count)
	noPileUp(t, r, before, during)
	record(count.row("database killed (-9), restarted", recovery))
	require.Zero(t, count.bad5xx, "5xx other than 503: %v", count.first)
	require.NotContains(t, r.logs.String(), "panic")
}

// TestDatabaseFrozen (item 6): the database is frozen (SIGSTOP: its port
// accepts, nothing answers). Requests end at their deadline with 503 and
// Retry-After; after SIGCONT the pool is not wedged: every request is
// served again, concurrently.
func TestDatabaseFrozen(t *testing.T) {
	serverDSN := needs(t, envMariaDB)
	dbURL, _ := database(t, serverDSN, "faults_frozen")
	r := startReplica(t, replicaEnv(dbURL), true, "--demo")
	var count tally
	_, a := login(r.url)
	require.Equal(t, http.StatusOK, a.status, a.String())
	before := r.usage(t)

	script(t, "mariadb", "freeze")
	t.Cleanup(func() { _ = tryScript("mariadb", "thaw") })
	stop := make(chan struct{})
	broken := storm(r, 24, &count, stop)
	samples := sample(t, r, stop)
	time.Sleep(2*requestTimeout + time.Second)
	require.Equal(t, http.StatusServiceUnavailable, r.get("/readyz").status)
	publicDocumentsServed(t, r)
	close(stop)
	require.Empty(t, broken(), "answers while the database was frozen")
	during := samples()

	script(t, "mariadb", "thaw")
	recovery := recovers(t, r, &count)
	// Not wedged: a burst of concurrent logins all succeed.
	var wg sync.WaitGroup
	statuses := make([]int, 24)
	for i := range statuses {
		wg.Go(func() {
			_, a := login(r.url)
			count.add(a)
			statuses[i] = a.status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		require.Equal(t, http.StatusOK, s, "login %d after SIGCONT", i)
	}
	noPileUp(t, r, before, during)
	record(count.row("database frozen (SIGSTOP), thawed", recovery))
	require.Zero(t, count.bad5xx, "5xx other than 503: %v", count.first)
}

// TestStartWithoutDatabase (item 3): serve started while the database is
// down waits for it with backoff (logged) instead of exiting; /healthz
// answers meanwhile and /readyz does not; when the database comes the
// replica becomes ready by itself. With a short
// SHOPAUTH_DATABASE_STARTUP_TIMEOUT it gives up and exits non-zero.
func TestStartWithoutDatabase(t *testing.T) {
	serverDSN := needs(t, envMariaDB)
	dbURL, _ := database(t, serverDSN, "faults_startup")
	script(t, "mariadb", "kill")
	t.Cleanup(func() { _ = tryScript("mariadb", "restart") })
	var count tally

	t.Run("gives up after the timeout", func(t *testing.T) {
		r := startReplica(t, replicaEnv(dbURL, "SHOPAUTH_DATABASE_STARTUP_TIMEOUT=3s"), false, "--demo")
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not give up")
		}
		require.Error(t, r.err)
		require.Contains(t, r.logs.String(), "SHOPAUTH_DATABASE_STARTUP_TIMEOUT")
		require.GreaterOrEqual(t, strings.Count(r.logs.String(), "database not available; retrying"), 2)
	})

	r := startReplica(t, replicaEnv(dbURL), false, "--demo")
	_, ok := until(t.Context(), 20*time.Second, func() bool { return r.get("/healthz").status == http.StatusOK })
	require.True(t, ok, "no /healthz while waiting: %s", r.logs)
	for range 5 {
		require.Equal(t, http.StatusOK, r.get("/healthz").status)
		a := r.get("/readyz")
		require.Equal(t, http.StatusServiceUnavailable, a.status)
		a = do(passwordRequest(r.url, "x"), "login while starting")
		count.add(a)
		require.Equal(t, http.StatusServiceUnavailable, a.status)
		require.NotEmpty(t, a.header.Get("Retry-After"))
		time.Sleep(500 * time.Millisecond)
	}
	require.Contains(t, r.logs.String(), "database not available; retrying")

	script(t, "mariadb", "restart")
	start := time.Now()
	_, ok = until(t.Context(), 60*time.Second, func() bool { return r.get("/readyz").status == http.StatusOK })
	require.True(t, ok, "replica never became ready: %s", r.logs)
	ready := time.Since(start)
	_, a := login(r.url)
	count.add(a)
	require.Equal(t, http.StatusOK, a.status, a.String())
	record(count.row("start-up without the database", ready))
}

// tryScript is script for cleanups: errors only matter to the next test.
func tryScript(name string, args ...string) error {
	return execScript(name, args...)
}
