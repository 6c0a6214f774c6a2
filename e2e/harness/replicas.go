package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
)

// ReplicaSyncInterval is SHOPAUTH_KEY_SYNC_INTERVAL in the multi-process
// test: short, so the test runs in seconds.
const ReplicaSyncInterval = time.Second

// ReplicaTokenCheck is one way a replica is asked about a token it did not
// issue. Every check runs on every replica for every token the test gets.
type ReplicaTokenCheck struct {
	Name  string
	Check func(ctx context.Context, replicaURL, accessToken string) error
}

// ReplicaTokenChecks are what every replica must say of a token another
// one issued: resource servers verify it with the JWKS, or ask the
// introspection or UserInfo endpoint of whichever replica the load
// balancer picks.
func ReplicaTokenChecks() []ReplicaTokenCheck {
	return []ReplicaTokenCheck{
		{Name: "jwks", Check: verifyWithReplicaJWKS},
		{Name: "introspection", Check: introspectOnReplica},
		{Name: "userinfo", Check: userInfoOnReplica},
	}
}

// untilSynced retries try until it succeeds or the sync interval (twice,
// and a margin) has passed: a replica that has not synced a key another
// one just made (`keys rotate --now`) must know it within
// SHOPAUTH_KEY_SYNC_INTERVAL (Must hold 2).
func untilSynced(try func() error) error {
	deadline := time.Now().Add(2*ReplicaSyncInterval + 500*time.Millisecond)
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
		req.SetBasicAuth(app.DemoClientID, app.DemoClientSecret)
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
	raw, err := HTTPGet(ctx, replicaURL+"/.well-known/jwks.json")
	if err != nil {
		return set, err
	}
	return set, json.Unmarshal(raw, &set)
}

// HTTPGet fetches u and returns the body of a 200 answer.
func HTTPGet(ctx context.Context, u string) ([]byte, error) {
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

// PostToken calls the token endpoint of one replica as the demo client.
func PostToken(ctx context.Context, replicaURL string, form url.Values) (TokenBody, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, replicaURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return TokenBody{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.DemoClientID, app.DemoClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return TokenBody{}, err
	}
	defer resp.Body.Close()
	var b TokenBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return TokenBody{}, err
	}
	if resp.StatusCode != http.StatusOK || b.AccessToken == "" {
		return b, fmt.Errorf("%s: %d %s: %s", form.Get("grant_type"), resp.StatusCode, b.Error, b.ErrorDescription)
	}
	return b, nil
}

// BuildShopauth builds the binary once for the test.
func BuildShopauth(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shopauth")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/shopauth/shopauth").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// replica is one `shopauth serve` process.
type Replica struct {
	URL    string
	Cmd    *exec.Cmd
	Stderr *SyncBuffer
}

// FreeAddr returns a loopback address nothing listens on right now.
func FreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// StartReplica starts `shopauth serve` on its own port and waits until it
// is ready. It is stopped with SIGINT when the test ends.
func StartReplica(t *testing.T, bin string, env []string, args ...string) *Replica {
	t.Helper()
	addr := FreeAddr(t)
	r := &Replica{URL: "http://" + addr, Stderr: &SyncBuffer{}}
	r.Cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	r.Cmd.Env = append(env[:len(env):len(env)], "SHOPAUTH_HTTP_ADDR="+addr)
	r.Cmd.Stdout = io.Discard
	r.Cmd.Stderr = r.Stderr
	require.NoError(t, r.Cmd.Start())
	t.Cleanup(func() {
		_ = r.Cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- r.Cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("replica %s: %v\n%s", r.URL, err, r.Stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = r.Cmd.Process.Kill()
			t.Errorf("replica %s did not stop", r.URL)
		}
	})
	require.Eventually(t, func() bool {
		_, err := HTTPGet(context.Background(), r.URL+"/readyz")
		return err == nil
	}, 60*time.Second, 50*time.Millisecond, "replica %s not ready: %s", r.URL, r.Stderr)
	return r
}
