package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// TestMultiProcessRotation runs separate `shopauth serve` processes on one
// database behind one issuer (a load balancer's URL): a client logs in on
// the first, refreshes on the second and has its tokens checked on the
// third, over and over, while `shopauth keys rotate --now` replaces the
// signing key. Nothing may fail (Must hold 2 and 5): three replicas on
// MariaDB, and two sharing one SQLite file.
func TestMultiProcessRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test builds the binary: skipped with -short")
	}
	bin := harness.BuildShopauth(t)
	for _, tc := range []struct {
		name     string
		dbURL    func(testing.TB) string
		replicas int
	}{
		{name: "mariadb", dbURL: sqlstoretest.MySQLDatabaseURL, replicas: 3},
		{name: "sqlite", dbURL: sqlstoretest.SQLiteDatabaseURL, replicas: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runReplicas(t, bin, tc.dbURL(t), tc.replicas)
		})
	}
}

func runReplicas(t *testing.T, bin, dbURL string, n int) {
	const issuer = "https://auth.shop.test" // every replica's iss: the load balancer
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"SHOPAUTH_DATABASE_URL=" + dbURL,
		"SHOPAUTH_KEY_ENCRYPTION_KEY=" + keys.EncodeKEK(harness.TestKEK),
		"SHOPAUTH_ISSUER=" + issuer,
		"SHOPAUTH_KEY_SYNC_INTERVAL=" + harness.ReplicaSyncInterval.String(),
		"SHOPAUTH_LOG_FORMAT=text",
		"SHOPAUTH_LOG_LEVEL=warn",
		"SHOPAUTH_LOGIN_RATE_PER_MINUTE=0", // one client IP logs in over and over
	}
	replicas := []*harness.Replica{harness.StartReplica(t, bin, env, "--demo")}
	for range n - 1 {
		replicas = append(replicas, harness.StartReplica(t, bin, env))
	}
	at := func(i int) *harness.Replica { return replicas[i%n] }
	ctx := t.Context()

	// One round: log in on the first replica, refresh on the second, and
	// check both tokens on the third (and every other).
	round := func() (kids []string, err error) {
		tok, err := harness.PostToken(ctx, at(0).URL, harness.PasswordForm("openid offline_access"))
		if err != nil {
			return nil, fmt.Errorf("login on %s: %w", at(0).URL, err)
		}
		next, err := harness.PostToken(ctx, at(1).URL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if err != nil {
			return nil, fmt.Errorf("refresh on %s: %w", at(1).URL, err)
		}
		for _, access := range []string{tok.AccessToken, next.AccessToken} {
			jws, err := jose.ParseSignedCompact(access, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				return nil, err
			}
			var claims struct {
				Iss string `json:"iss"`
			}
			if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil || claims.Iss != issuer {
				return nil, fmt.Errorf("iss %q, want %q (%v)", claims.Iss, issuer, err)
			}
			kids = append(kids, jws.Signatures[0].Protected.KeyID)
			for i := range n {
				r := at(2 + i) // the third replica first
				for _, c := range harness.ReplicaTokenChecks() {
					if err := c.Check(ctx, r.URL, access); err != nil {
						return nil, fmt.Errorf("%s check on %s: %w", c.Name, r.URL, err)
					}
				}
			}
		}
		return kids, nil
	}

	first, err := round()
	require.NoError(t, err)
	oldKID := first[0]

	// Clients keep going while the key is replaced under them.
	var (
		mu      sync.Mutex
		errs    []error
		seen    = map[string]bool{}
		rounds  int
		stop    = make(chan struct{})
		workers sync.WaitGroup
	)
	for range 2 {
		workers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				kids, err := round()
				// A pause between rounds: each login is a real argon2id
				// hash, and the machine is shared with other tests.
				time.Sleep(150 * time.Millisecond)
				mu.Lock()
				rounds++
				if err != nil {
					errs = append(errs, err)
				}
				for _, k := range kids {
					seen[k] = true
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	cmd := exec.Command(bin, "keys", "rotate", "--now")
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "keys rotate --now: %s", errOut.String())
	newKID := strings.Fields(out.String())[1]
	require.NotEqual(t, oldKID, newKID)

	// Every replica signs with the new key within the sync interval.
	require.Eventually(t, func() bool {
		kids, err := round()
		return err == nil && kids[0] == newKID && kids[1] == newKID
	}, 5*harness.ReplicaSyncInterval, 100*time.Millisecond, "replicas did not switch to %s", newKID)
	time.Sleep(harness.ReplicaSyncInterval)
	close(stop)
	workers.Wait()

	require.Empty(t, errs, "%d of %d rounds failed, first: %v", len(errs), rounds, errors.Join(errs[:min(3, len(errs))]...))
	require.True(t, seen[oldKID] && seen[newKID], "rounds ran on both sides of the rotation: %v", seen)
	t.Logf("%d replicas, %d rounds (login, refresh, checks on every replica) across the rotation, none failed", n, rounds)

	// All replicas serve the same JWKS: the new key and the old one, which
	// stays until its tokens have expired.
	var want []byte
	for _, r := range replicas {
		raw, err := harness.HTTPGet(ctx, r.URL+"/.well-known/jwks.json")
		require.NoError(t, err)
		if want == nil {
			want = raw
		}
		require.JSONEq(t, string(want), string(raw), "replica %s", r.URL)
		require.Equal(t, []string{newKID, oldKID}, jwksKIDsOf(t, raw))
	}
	for _, r := range replicas {
		require.NotContains(t, r.Stderr.String(), "level=ERROR", "replica %s logged an error", r.URL)
	}
}

func jwksKIDsOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(raw, &set))
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}
