package faults_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/web"
)

// galeraRotation is SHOPAUTH_KEY_ROTATION_PERIOD on the cluster: short,
// so the three replicas' rotators race for new keys during the test.
const (
	galeraRotation     = 20 * time.Second
	galeraPublishAhead = 5 * time.Second
)

// cluster is one replica per Galera node on one database.
type cluster struct {
	replicas []*replica
	db       *sql.DB // on node 1
}

// startCluster creates the database through node 1 (Galera replicates it)
// and starts one replica per node, one after the other: the first one
// migrates and seeds.
func startCluster(t *testing.T, name string) *cluster {
	t.Helper()
	dsns := strings.Split(needs(t, envGalera), ",")
	require.Len(t, dsns, 3)
	c := &cluster{}
	var firstURL string
	firstURL, c.db = database(t, dsns[0], name)
	for i, dsn := range dsns {
		dbURL := firstURL
		if i > 0 {
			dbURL = "mysql://" + strings.Replace(dsn, ")/", ")/"+name, 1)
		}
		env := replicaEnv(dbURL, "SHOPAUTH_KEY_ROTATION_PERIOD="+galeraRotation.String(),
			"SHOPAUTH_KEY_PUBLISH_AHEAD="+galeraPublishAhead.String())
		var args []string
		if i == 0 {
			args = []string{"--demo"}
		}
		r := startReplica(t, env, true, args...)
		require.Contains(t, r.logs.String(), "database is a Galera node", "replica %d: causal reads on", i+1)
		c.replicas = append(c.replicas, r)
	}
	return c
}

func (c *cluster) at(i int) *replica { return c.replicas[i%len(c.replicas)] }

// race runs fn(i) for i in [0, n) at once, released together.
func race(n int, fn func(i int)) {
	var (
		ready, wg sync.WaitGroup
		start     = make(chan struct{})
	)
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			ready.Done()
			<-start
			fn(i)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
}

// TestGalera (items 1 and 2 on a cluster): three replicas, one per node,
// under concurrent load from all three. One successor per refresh token,
// the lockout threshold exact, one key per rotation period however many
// rotators race, one JWKS; certification conflicts never answer 500. Then
// a node is killed: its replica answers 503 within the bound and is not
// ready while the others serve on; when the node rejoins, the replica
// serves again without a restart.
func TestGalera(t *testing.T) {
	c := startCluster(t, "faults_galera")
	var count tally

	t.Run("one successor per refresh token", func(t *testing.T) {
		for round := range 3 {
			tok, a := login(c.at(round).url)
			count.add(a)
			require.Equal(t, http.StatusOK, a.status, a.String())
			var (
				mu         sync.Mutex
				successors = map[string]bool{}
			)
			race(24, func(i int) {
				next, a := refresh(c.at(i).url, tok.RefreshToken)
				count.add(a)
				if a.status == http.StatusOK {
					mu.Lock()
					successors[next.RefreshToken] = true
					mu.Unlock()
				}
			})
			require.Len(t, successors, 1, "round %d: distinct successors", round)
			for s := range successors {
				_, a := refresh(c.at(round+1).url, s)
				count.add(a)
				if a.status != http.StatusOK {
					count.lose(1)
				}
				require.Equal(t, http.StatusOK, a.status, "the successor works on another node: %s", a)
			}
		}
	})

	t.Run("a successor presented at once on another node", func(t *testing.T) {
		// Galera applies another node's commits asynchronously: without
		// causal reads (wsrep_sync_wait) the next node may not know the
		// successor yet and refuse it.
		tok, a := login(c.at(0).url)
		count.add(a)
		require.Equal(t, http.StatusOK, a.status, a.String())
		cur := tok.RefreshToken
		for hop := 1; hop <= 60; hop++ {
			next, a := refresh(c.at(hop).url, cur)
			count.add(a)
			if a.status != http.StatusOK {
				count.lose(1)
			}
			require.Equal(t, http.StatusOK, a.status, "hop %d to node %d: %s", hop, hop%3+1, a)
			cur = next.RefreshToken
		}
	})

	t.Run("lockout threshold exact across nodes", func(t *testing.T) {
		const guesses, threshold = 30, 5
		var refused atomic.Int32
		race(guesses, func(i int) {
			a := do(wrongPasswordRequest(c.at(i).url), "wrong password")
			count.add(a)
			if a.status == http.StatusServiceUnavailable {
				refused.Add(1)
			}
		})
		var failed int
		var locked sql.NullTime
		require.NoError(t, c.db.QueryRow("SELECT failed_logins, locked_until FROM login_failures WHERE shop_key = ? AND email_normalized = ?",
			app.DemoShop, app.DemoUnverifiedUser).Scan(&failed, &locked))
		require.LessOrEqual(t, failed, threshold, "passwords checked past the threshold")
		if guesses-int(refused.Load()) >= threshold {
			require.Equal(t, threshold, failed)
			require.True(t, locked.Valid, "locked after the threshold")
		}
		t.Logf("%d guesses over 3 nodes: %d counted, %d refused with 503", guesses, failed, refused.Load())
	})

	t.Run("one key per rotation period, one JWKS", func(t *testing.T) {
		// Wait for at least one rotation all three rotators raced for.
		_, ok := until(t.Context(), 3*galeraRotation, func() bool {
			var n int
			return c.db.QueryRow("SELECT COUNT(*) FROM signing_keys").Scan(&n) == nil && n >= 2
		})
		require.True(t, ok, "no rotation within %s", 3*galeraRotation)
		rows, err := c.db.Query("SELECT not_before FROM signing_keys ORDER BY generation")
		require.NoError(t, err)
		var nbs []time.Time
		for rows.Next() {
			var nb time.Time
			require.NoError(t, rows.Scan(&nb))
			nbs = append(nbs, nb)
		}
		require.NoError(t, rows.Err())
		for i := 1; i < len(nbs); i++ {
			require.InDelta(t, galeraRotation.Seconds(), nbs[i].Sub(nbs[i-1]).Seconds(), 1,
				"keys %d and %d: one key per period, not one per rotator", i, i+1)
		}
		_, ok = until(t.Context(), 10*time.Second, func() bool {
			first := c.at(0).get(web.PathJWKS).body
			return first == c.at(1).get(web.PathJWKS).body && first == c.at(2).get(web.PathJWKS).body
		})
		require.True(t, ok, "the replicas serve different JWKS")
	})

	record(count.row("galera: concurrent refreshes, guesses, rotators on 3 nodes", -1))
	require.Zero(t, count.bad5xx, "5xx other than 503 (certification conflicts must be retried or 503): %v", count.first)
	count = tally{}

	t.Run("a node is killed and rejoins", func(t *testing.T) {
		victim := c.at(1)
		script(t, "galera", "kill", "2")
		t.Cleanup(func() { _ = tryScript("galera", "start-node", "2") })
		stop := make(chan struct{})
		broken := storm(victim, 8, &count, stop)
		// The other nodes' replicas serve on meanwhile.
		for i := range 6 {
			_, a := login(c.at([]int{0, 2}[i%2]).url)
			count.add(a)
			require.Equal(t, http.StatusOK, a.status, "replica on a live node: %s", a)
			time.Sleep(500 * time.Millisecond)
		}
		require.Equal(t, http.StatusServiceUnavailable, victim.get("/readyz").status)
		publicDocumentsServed(t, victim)
		close(stop)
		require.Empty(t, broken(), "answers of the replica whose node is down")

		start := time.Now()
		script(t, "galera", "start-node", "2")
		recovers(t, victim, &count)
		record(count.row("galera: node killed (-9), rejoined", time.Since(start)))
	})
	require.Zero(t, count.bad5xx, "5xx other than 503 with a node down: %v", count.first)
}

// TestReplicaKilledMidLoad (item 4): refresh chains, logins and the
// hosted code flow (codes_test.go) run on all three replicas when one is
// killed (-9). A client whose answer was lost
// retries on another replica with the same token within the grace and
// gets a working successor; every 200 answer's successor keeps working;
// no half-written rows remain.
func TestReplicaKilledMidLoad(t *testing.T) {
	c := startCluster(t, "faults_kill")
	var (
		count tally
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		dead  atomic.Int32 // index+1 of the killed replica
	)
	liveIdx := func(i int) int {
		for {
			if int(dead.Load()) != i%3+1 {
				return i % 3
			}
			i++
		}
	}
	live := func(i int) *replica { return c.at(liveIdx(i)) }
	const chains = 9
	last := make([]string, chains)
	for w := range chains {
		wg.Go(func() {
			tok, a := login(live(w).url)
			count.add(a)
			if a.status != http.StatusOK {
				return
			}
			cur := tok.RefreshToken
			for step := w; ; step++ {
				select {
				case <-stop:
					last[w] = cur
					return
				default:
				}
				// A lost answer (the replica died under it) is retried
				// on the next live replica with the same token.
				var next string
				for try := 0; try < 3 && next == ""; try++ {
					tb, a := refresh(live(step+try).url, cur)
					if a.err == nil {
						count.add(a)
					}
					switch {
					case a.status == http.StatusOK:
						next = tb.RefreshToken
					case a.err != nil || a.status == http.StatusServiceUnavailable:
						continue
					default:
						count.lose(1)
						t.Errorf("chain %d: refresh on %s refused: %s", w, live(step+try).url, a)
						last[w] = ""
						return
					}
				}
				if next != "" {
					cur = next
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	// Wrong passwords on every replica meanwhile: lockout records are
	// written while the replica dies.
	for g := range 6 {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a := do(wrongPasswordRequest(live(i).url), "wrong password")
				if a.err == nil {
					count.add(a)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	// Authorization codes on every replica meanwhile: issued on one,
	// redeemed on another, some kept until after the kill.
	codes := &codeLoad{redeemed: map[string]bool{}}
	for g := range 3 {
		wg.Go(func() { codes.run(t, g, stop, liveIdx, c.at, &count) })
	}
	time.Sleep(3 * time.Second)
	dead.Store(3)
	c.at(2).kill9(t)
	killed := time.Now()
	time.Sleep(4 * time.Second)
	close(stop)
	wg.Wait()

	// Every chain's last token works on the replicas left.
	for w, tok := range last {
		if tok == "" {
			continue // already counted lost
		}
		_, a := refresh(c.at(w%2).url, tok)
		count.add(a)
		if a.status != http.StatusOK {
			count.lose(1)
			t.Errorf("chain %d: last successor refused: %s", w, a)
		}
	}
	codes.check(t, c.db, c.at, &count)
	// No half-written rows: every spent token's successor exists, and no
	// family has two live tokens.
	var orphans, split int
	require.NoError(t, c.db.QueryRow(`SELECT COUNT(*) FROM refresh_tokens a WHERE a.spent_at IS NOT NULL AND a.successor_hash <> ''
		AND NOT EXISTS (SELECT 1 FROM refresh_tokens b WHERE b.token_hash = a.successor_hash)`).Scan(&orphans))
	require.NoError(t, c.db.QueryRow(`SELECT COUNT(*) FROM (SELECT family_id FROM refresh_tokens
		WHERE spent_at IS NULL AND revoked_at IS NULL GROUP BY family_id HAVING COUNT(*) > 1) f`).Scan(&split))
	// Lockout records whole: never more failures counted than the
	// threshold, and locked exactly when the threshold was reached.
	var failed int
	var locked sql.NullTime
	require.NoError(t, c.db.QueryRow("SELECT failed_logins, locked_until FROM login_failures WHERE shop_key = ? AND email_normalized = ?",
		app.DemoShop, app.DemoUnverifiedUser).Scan(&failed, &locked))
	require.LessOrEqual(t, failed, 5, "failures counted past the threshold")
	require.Equal(t, failed == 5, locked.Valid, "locked exactly at the threshold (%d failures)", failed)
	require.Zero(t, orphans, "spent tokens whose successor was never written")
	require.Zero(t, split, "families with two live tokens")
	t.Logf("killed at %s; the survivors served on", killed.Format(time.TimeOnly))
	record(count.row("replica killed (-9) mid-load", -1))
	require.Zero(t, count.lost, "tokens lost")
	require.Zero(t, count.bad5xx, "5xx other than 503: %v", count.first)
}

// wrongPasswordRequest is a password login with a wrong password for the
// demo's unverified customer (whose lockout record the tests read).
func wrongPasswordRequest(base string) *http.Request {
	form := url.Values{"grant_type": {"password"}, "username": {app.DemoUnverifiedUser}, "password": {"wrong"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.DemoClientID, app.DemoClientSecret)
	return req
}
