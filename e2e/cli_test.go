package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/cli"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
)

func TestCLIAdminCommands(t *testing.T) {
	e := harness.NewCLI(t)
	steps := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string // regexp
		wantErr  string // regexp
	}{
		{"version", "", []string{"version"}, 0, `^shopauth \S+\n$`, `^$`},
		{"migrate on a fresh database", "", []string{"migrate"}, 0, `^applied [1-9]\d* migration\(s\)\n$`, `^$`},
		{"migrate again applies nothing", "", []string{"migrate"}, 0, `^applied 0 migration\(s\)\n$`, `^$`},
		{"shop add", "", []string{"shop", "add", "--key", "shop1", "--name", "Shop One", "--locale", "en"}, 0, `shop shop1 added`, `^$`},
		{"shop add twice", "", []string{"shop", "add", "--key", "shop1", "--name", "Again"}, 1, `^$`, `^shopauth: shop "shop1" exists already\n$`},
		{"shop add bad key", "", []string{"shop", "add", "--key", "a/b", "--name", "X"}, 1, `^$`, `--key must be`},
		{"shop list", "", []string{"shop", "list"}, 0, `(?m)^shop1\s+Shop One\s+en\s+true`, `^$`},
		{"customer add", "s3cret-pass\n", []string{"customer", "add", "--shop", "shop1", "--email", "Ana@Example.com", "--name", "Ana", "--password-stdin", "--id", "7"}, 0, `customer 7 added to shop shop1`, `^$`},
		{"customer add without password", "", []string{"customer", "add", "--shop", "shop1", "--email", "b@example.com", "--name", "B"}, 1, `^$`, `exactly one of --password-stdin and --password-hash`},
		{"customer add with an unknown hash", "", []string{"customer", "add", "--shop", "shop1", "--email", "b@example.com", "--name", "B", "--password-hash", "md5:abc"}, 1, `^$`, `not a supported hash`},
		{"customer add with a bcrypt hash", "", []string{"customer", "add", "--shop", "shop1", "--email", "c@example.com", "--name", "C", "--password-hash", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "--verified"}, 0, `added to shop shop1`, `^$`},
		{"customer add to unknown shop", "x\n", []string{"customer", "add", "--shop", "nope", "--email", "d@example.com", "--name", "D", "--password-stdin"}, 1, `^$`, `no shop "nope"`},
		{"customer verify", "", []string{"customer", "verify", "--shop", "shop1", "--email", "ana@example.com"}, 0, `customer 7 verified`, `^$`},
		{"client add generates a secret", "", []string{"client", "add", "--id", "app", "--shop", "shop1", "--grants", "password,refresh_token", "--scopes", "openid offline_access"}, 0, `(?s)client app added\nclient_secret: [A-Za-z0-9_-]{43}\n`, `^$`},
		{"client add public", "", []string{"client", "add", "--id", "spa", "--public", "--shop", "shop1", "--grants", "password", "--scopes", "openid"}, 0, `^client spa added\n$`, `^$`},
		{"client add secret from stdin", "my-secret\n", []string{"client", "add", "--id", "svc", "--secret-stdin", "--shop", "shop1", "--grants", "password", "--scopes", "openid"}, 0, `^client svc added\n$`, `^$`},
		{"client add preset spryker", "", []string{"client", "add", "--id", "glue", "--public", "--shop", "shop1", "--preset", "spryker"}, 0, `client glue added`, `^$`},
		{"client add unknown grant", "", []string{"client", "add", "--id", "x", "--grants", "implicit", "--scopes", "openid"}, 1, `^$`, `unsupported grant "implicit"`},
		{"client add third-party code flow", "", []string{"client", "add", "--id", "tp", "--public", "--shop", "shop1", "--grants", "authorization_code,refresh_token", "--scopes", "openid offline_access", "--redirect-uri", "https://tp.example/cb", "--post-logout-redirect-uri", "https://tp.example/bye"}, 0, `^client tp added\n$`, `^$`},
		{"client add machine client", "", []string{"client", "add", "--id", "erp", "--grants", "client_credentials", "--scopes", "orders:read"}, 0, `client erp added`, `^$`},
		{"client add code flow without redirect", "", []string{"client", "add", "--id", "x", "--public", "--shop", "shop1", "--grants", "authorization_code", "--scopes", "openid"}, 1, `^$`, `needs at least one --redirect-uri`},
		{"client add plain-http redirect", "", []string{"client", "add", "--id", "x", "--public", "--shop", "shop1", "--grants", "authorization_code", "--scopes", "openid", "--redirect-uri", "http://tp.example/cb"}, 1, `^$`, `only allowed on a loopback host`},
		{"client list", "", []string{"client", "list"}, 0, `(?m)^glue\s+public\s+shop1\s+password,refresh_token\s+customer offline_access\s+8h0m0s\s+730h0m0s`, `^$`},
		{"keys list", "", []string{"keys", "list"}, 0, `(?m)^\S+\s+RS256\s+current\s+true`, `^$`},
		{"unknown command", "", []string{"frobnicate"}, 1, `^$`, `^shopauth: unknown command`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, errOut := e.Run(s.stdin, s.args...)
			require.Equal(t, s.wantCode, code, "stdout=%q stderr=%q", out, errOut)
			require.Regexp(t, s.wantOut, out)
			require.Regexp(t, s.wantErr, errOut)
			if code != 0 {
				require.Equal(t, 1, strings.Count(errOut, "\n"), "errors are one line")
			}
		})
	}
}

// TestCLIGeneratedSecretWorks: the secret `client add` prints (256 bits,
// shown once, never listed) authenticates the client at the token
// endpoint of a server on the same database, and another secret does not.
//
// Mutant (cli/cmd_admin.go, client add): store the hash of another
// generated secret than the one printed: the client_credentials grant
// with the printed secret gets 401.
func TestCLIGeneratedSecretWorks(t *testing.T) {
	e := harness.NewCLI(t)
	store := e.Store(t)
	_, err := store.Migrate(t.Context())
	require.NoError(t, err)
	ts := harness.NewTestServer(t, harness.WithStore(store))

	code, out, errOut := e.Run("", "client", "add", "--id", "app", "--shop", app.DemoShop, "--grants", "client_credentials", "--scopes", "orders:read")
	require.Zero(t, code, errOut)
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
	require.Len(t, m, 2)
	secret := m[1]
	require.GreaterOrEqual(t, len(secret), 43, "256 bits, base64url")
	_, again, _ := e.Run("", "client", "list")
	require.NotContains(t, again, secret, "the secret is printed once and never stored")

	b := tokenOK(t, ts, url.Values{"grant_type": {"client_credentials"}}, "app", secret)
	require.NotEmpty(t, b.AccessToken)
	resp := ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "app", secret+"x")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "another secret")
}

func TestCLIConfigErrorsNameEveryKey(t *testing.T) {
	e := harness.NewCLI(t)
	e.Environ = append(e.Environ, "SHOPAUTH_ACCESS_TOKEN_TTL=-1s", "SHOPAUTH_LOG_FORMAT=xml")
	code, _, errOut := e.Run("", "serve")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "SHOPAUTH_ACCESS_TOKEN_TTL")
	require.Contains(t, errOut, "SHOPAUTH_LOG_FORMAT")
	require.Equal(t, 1, strings.Count(errOut, "\n"))
}

// TestServeDemoAndGracefulShutdown runs `serve --demo` in-process, checks it
// prints the demo credentials once, serves, and exits 0 on shutdown.
func TestServeDemoAndGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	e := harness.NewCLI(t)
	e.Environ = append(e.Environ, "SHOPAUTH_HTTP_ADDR="+addr, "SHOPAUTH_ISSUER=http://"+addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--demo"}, strings.NewReader(""), &out, &errb, e.Environ)
	}()

	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case code := <-done:
		require.Equal(t, 0, code, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	require.Contains(t, out.String(), "sonia@spryker.com / change123")
	require.Contains(t, out.String(), "storefront / storefront-secret")

	// A second start on the same database adds and prints nothing.
	var out2 bytes.Buffer
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() {
		done <- cli.Run(ctx2, []string{"serve", "--demo"}, strings.NewReader(""), &out2, &errb, e.Environ)
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
	cancel2()
	require.Equal(t, 0, <-done)
	require.Empty(t, out2.String())
}

// TestDatabasePoolSize: SHOPAUTH_DATABASE_MAX_CONNECTIONS sizes the pool;
// 0 keeps the dialect's default. A SQLite file has one writer connection
// beside the pool of readers (docs/performance.md), which Stats adds.
func TestDatabasePoolSize(t *testing.T) {
	for _, tt := range []struct {
		name       string
		configured int
		want       int
	}{
		{"configured", 3, 3 + 1},
		{"SQLite default", 0, 4 + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "pool.db")
			cfg.Database.MaxConnections = tt.configured
			store, err := app.OpenStore(t.Context(), cfg, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			t.Cleanup(func() { _ = store.Close() })
			require.Equal(t, tt.want, store.Stats().MaxOpenConnections)
		})
	}
}
