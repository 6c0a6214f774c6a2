package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// replicaSyncInterval is SHOPAUTH_KEY_SYNC_INTERVAL in the multi-process
// test: short, so the test runs in seconds.
const replicaSyncInterval = time.Second

// replicaTokenCheck is one way a replica is asked about a token it did not
// issue. Every check runs on every replica for every token the test gets.
type replicaTokenCheck struct {
	name  string
	check func(ctx context.Context, replicaURL, accessToken string) error
}

// replicaTokenChecks are what every replica must say of a token another
// one issued: resource servers verify it with the JWKS, or ask the
// introspection or UserInfo endpoint of whichever replica the load
// balancer picks.
func replicaTokenChecks() []replicaTokenCheck {
	return []replicaTokenCheck{
		{name: "jwks", check: verifyWithReplicaJWKS},
		{name: "introspection", check: introspectOnReplica},
		{name: "userinfo", check: userInfoOnReplica},
	}
}

// untilSynced retries try until it succeeds or the sync interval (twice,
// and a margin) has passed: a replica that has not synced a key another
// one just made (`keys rotate --now`) must know it within
// SHOPAUTH_KEY_SYNC_INTERVAL (Must hold 2).
func untilSynced(try func() error) error {
	deadline := time.Now().Add(2*replicaSyncInterval + 500*time.Millisecond)
	for {
		err := try()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verifyWithReplicaJWKS verifies the token's signature with the replica's
// published keys, as a resource server does.
func verifyWithReplicaJWKS(ctx context.Context, replicaURL, accessToken string) error {
	jws, err := jose.ParseSignedCompact(accessToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	kid := jws.Signatures[0].Protected.KeyID
	return untilSynced(func() error {
		set, err := fetchJWKS(ctx, replicaURL)
		if err != nil {
			return err
		}
		ks := set.Key(kid)
		if len(ks) == 0 {
			return fmt.Errorf("kid %s not in %s's JWKS", kid, replicaURL)
		}
		_, err = jws.Verify(ks[0].Key)
		return err
	})
}

// introspectOnReplica asks the replica about the token as the demo client
// (RFC 7662): it must be active there too.
func introspectOnReplica(ctx context.Context, replicaURL, accessToken string) error {
	return untilSynced(func() error {
		form := url.Values{"token": {accessToken}, "token_type_hint": {"access_token"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, replicaURL+"/oauth2/introspect", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(demoClientID, demoClientSecret)
		var got struct {
			Active bool   `json:"active"`
			Sub    string `json:"sub"`
		}
		if err := doJSON(req, &got); err != nil {
			return err
		}
		if !got.Active || got.Sub == "" {
			return fmt.Errorf("introspection on %s: %+v", replicaURL, got)
		}
		return nil
	})
}

// userInfoOnReplica presents the token to the replica's UserInfo endpoint
// (OIDC Core §5.3): it must name the customer.
func userInfoOnReplica(ctx context.Context, replicaURL, accessToken string) error {
	return untilSynced(func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, replicaURL+"/userinfo", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+accessToken)
		var got struct {
			Sub string `json:"sub"`
		}
		if err := doJSON(req, &got); err != nil {
			return err
		}
		if got.Sub == "" {
			return fmt.Errorf("userinfo on %s names nobody", replicaURL)
		}
		return nil
	})
}

// doJSON sends req and decodes a 200 answer into into.
func doJSON(req *http.Request, into any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, into)
}

func fetchJWKS(ctx context.Context, replicaURL string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	raw, err := httpGet(ctx, replicaURL+"/.well-known/jwks.json")
	if err != nil {
		return set, err
	}
	return set, json.Unmarshal(raw, &set)
}

func httpGet(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, raw)
	}
	return raw, err
}

// postToken calls the token endpoint of one replica as the demo client.
func postToken(ctx context.Context, replicaURL string, form url.Values) (tokenBody, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, replicaURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenBody{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demoClientID, demoClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return tokenBody{}, err
	}
	defer resp.Body.Close()
	var b tokenBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return tokenBody{}, err
	}
	if resp.StatusCode != http.StatusOK || b.AccessToken == "" {
		return b, fmt.Errorf("%s: %d %s: %s", form.Get("grant_type"), resp.StatusCode, b.Error, b.ErrorDescription)
	}
	return b, nil
}

// buildShopauth builds the binary once for the test.
func buildShopauth(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shopauth")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// replica is one `shopauth serve` process.
type replica struct {
	url    string
	cmd    *exec.Cmd
	stderr *syncBuffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startReplica starts `shopauth serve` on its own port and waits until it
// is ready. It is stopped with SIGINT when the test ends.
func startReplica(t *testing.T, bin string, env []string, args ...string) *replica {
	t.Helper()
	addr := freeAddr(t)
	r := &replica{url: "http://" + addr, stderr: &syncBuffer{}}
	r.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	r.cmd.Env = append(env[:len(env):len(env)], "SHOPAUTH_HTTP_ADDR="+addr)
	r.cmd.Stdout = io.Discard
	r.cmd.Stderr = r.stderr
	require.NoError(t, r.cmd.Start())
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- r.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("replica %s: %v\n%s", r.url, err, r.stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = r.cmd.Process.Kill()
			t.Errorf("replica %s did not stop", r.url)
		}
	})
	require.Eventually(t, func() bool {
		_, err := httpGet(context.Background(), r.url+"/readyz")
		return err == nil
	}, 60*time.Second, 50*time.Millisecond, "replica %s not ready: %s", r.url, r.stderr)
	return r
}

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
	bin := buildShopauth(t)
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
		"SHOPAUTH_KEY_ENCRYPTION_KEY=" + keys.EncodeKEK(testKEK),
		"SHOPAUTH_ISSUER=" + issuer,
		"SHOPAUTH_KEY_SYNC_INTERVAL=" + replicaSyncInterval.String(),
		"SHOPAUTH_LOG_FORMAT=text",
		"SHOPAUTH_LOG_LEVEL=warn",
		"SHOPAUTH_LOGIN_RATE_PER_MINUTE=0", // one client IP logs in over and over
	}
	replicas := []*replica{startReplica(t, bin, env, "--demo")}
	for range n - 1 {
		replicas = append(replicas, startReplica(t, bin, env))
	}
	at := func(i int) *replica { return replicas[i%n] }
	ctx := t.Context()

	// One round: log in on the first replica, refresh on the second, and
	// check both tokens on the third (and every other).
	round := func() (kids []string, err error) {
		tok, err := postToken(ctx, at(0).url, passwordForm("openid offline_access"))
		if err != nil {
			return nil, fmt.Errorf("login on %s: %w", at(0).url, err)
		}
		next, err := postToken(ctx, at(1).url, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if err != nil {
			return nil, fmt.Errorf("refresh on %s: %w", at(1).url, err)
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
				for _, c := range replicaTokenChecks() {
					if err := c.check(ctx, r.url, access); err != nil {
						return nil, fmt.Errorf("%s check on %s: %w", c.name, r.url, err)
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
	}, 5*replicaSyncInterval, 100*time.Millisecond, "replicas did not switch to %s", newKID)
	time.Sleep(replicaSyncInterval)
	close(stop)
	workers.Wait()

	require.Empty(t, errs, "%d of %d rounds failed, first: %v", len(errs), rounds, errors.Join(errs[:min(3, len(errs))]...))
	require.True(t, seen[oldKID] && seen[newKID], "rounds ran on both sides of the rotation: %v", seen)
	t.Logf("%d replicas, %d rounds (login, refresh, checks on every replica) across the rotation, none failed", n, rounds)

	// All replicas serve the same JWKS: the new key and the old one, which
	// stays until its tokens have expired.
	var want []byte
	for _, r := range replicas {
		raw, err := httpGet(ctx, r.url+"/.well-known/jwks.json")
		require.NoError(t, err)
		if want == nil {
			want = raw
		}
		require.JSONEq(t, string(want), string(raw), "replica %s", r.url)
		require.Equal(t, []string{newKID, oldKID}, jwksKIDsOf(t, raw))
	}
	for _, r := range replicas {
		require.NotContains(t, r.stderr.String(), "level=ERROR", "replica %s logged an error", r.url)
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
