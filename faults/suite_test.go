package faults_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/keys"
)

// The environment faults/run prepares. Without SHOPAUTH_FAULTS=1 the
// suite skips (plain `go test ./...`); faults/run fails when anything in it
// skipped, so CI never passes a suite that did not run.
const (
	envEnabled = "SHOPAUTH_FAULTS"
	// envMariaDB is the DSN (without database) of the throwaway MariaDB
	// that faults/mariadb kills, freezes and restarts.
	envMariaDB = "SHOPAUTH_FAULTS_MARIADB"
	// envGalera lists the DSNs (without database) of the three Galera
	// nodes, comma-separated, in node order.
	envGalera = "SHOPAUTH_FAULTS_GALERA"
	// envSmallFS is a mounted directory on a small filesystem (faults/smallfs).
	envSmallFS = "SHOPAUTH_FAULTS_SMALLFS"
)

// requestBound is the longest any request may take while its database is
// away or frozen: SHOPAUTH_REQUEST_TIMEOUT (5 s, the default) and a margin
// for a loaded machine. docs/operations.md states it.
const (
	requestTimeout = 5 * time.Second
	requestBound   = requestTimeout + 2*time.Second
)

var bin string // the shopauth binary, built once by TestMain

func TestMain(m *testing.M) {
	if os.Getenv(envEnabled) != "1" {
		if os.Getenv("CI") == "true" {
			// Under CI a fault suite that did not run must not pass.
			fmt.Fprintln(os.Stderr, "fault suite: CI=true but "+envEnabled+" is not 1: run it with faults/run, which starts its databases")
			os.Exit(1)
		}
		fmt.Println("fault suite skipped: run faults/run, which starts its databases (set " + envEnabled + "=1 to run it against prepared ones)")
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "shopauth-faults-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "shopauth")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/shopauth/shopauth").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	printReport(os.Stdout)
	os.Exit(code)
}

// needs skips the test unless faults/run prepared the environment, and
// returns the value of the variable named.
func needs(t *testing.T, name string) string {
	t.Helper()
	if os.Getenv(envEnabled) != "1" {
		t.Skip("fault suite: run faults/run")
	}
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: faults/run sets it", name)
	}
	return v
}

// row is one line of the report: a fault, how many requests the test
// sent while and after injecting it, how many were answered with a 5xx
// other than 503, how many tokens a client lost (a 200 answer whose
// refresh token no longer works, or a chain that broke), the longest any
// answer took (the request bound is asserted per test), and how long the
// service took to answer normally again once the fault ended.
type row struct {
	fault    string
	sent     int
	bad5xx   int
	lost     int
	slowest  time.Duration // the longest any answer took
	recovery time.Duration // < 0: not applicable
}

var report struct {
	mu   sync.Mutex
	rows []row
}

func record(r row) {
	report.mu.Lock()
	defer report.mu.Unlock()
	report.rows = append(report.rows, r)
}

func printReport(w io.Writer) {
	report.mu.Lock()
	defer report.mu.Unlock()
	if len(report.rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFAULT TABLE (request bound "+requestBound.String()+")")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\trequests sent\t5xx other than 503\tlost tokens\tslowest answer\trecovery time")
	for _, r := range report.rows {
		rec := "-"
		if r.recovery >= 0 {
			rec = r.recovery.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", r.fault, r.sent, r.bad5xx, r.lost, r.slowest.Round(100*time.Millisecond), rec)
	}
	_ = tw.Flush()
}

// tally counts the answers of one fault's requests.
type tally struct {
	mu      sync.Mutex
	sent    int
	bad5xx  int
	lost    int
	slowest time.Duration
	first   []string // the first few unexpected answers, for the failure message
}

func (c *tally) add(a answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent++
	c.slowest = max(c.slowest, a.took)
	if a.status >= 500 && a.status != http.StatusServiceUnavailable {
		c.bad5xx++
		if len(c.first) < 5 {
			c.first = append(c.first, a.String())
		}
	}
}

func (c *tally) lose(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lost += n
}

func (c *tally) row(fault string, recovery time.Duration) row {
	c.mu.Lock()
	defer c.mu.Unlock()
	return row{fault: fault, sent: c.sent, bad5xx: c.bad5xx, lost: c.lost, slowest: c.slowest, recovery: recovery}
}

// answer is one HTTP exchange as the test saw it.
type answer struct {
	what   string
	status int // 0: no answer (err)
	header http.Header
	body   string
	took   time.Duration
	err    error
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("%s: no answer after %s: %v", a.what, a.took, a.err)
	}
	return fmt.Sprintf("%s: %d after %s: %.200s", a.what, a.status, a.took.Round(time.Millisecond), a.body)
}

// client has no timeout of its own beyond a generous one: the server's
// bound is what is measured.
var client = &http.Client{Timeout: 30 * time.Second}

func do(req *http.Request, what string) answer {
	start := time.Now()
	resp, err := client.Do(req)
	a := answer{what: what, took: time.Since(start), err: err}
	if err != nil {
		return a
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a.took = time.Since(start)
	a.status, a.header, a.body = resp.StatusCode, resp.Header, string(b)
	return a
}

// replica is one `shopauth serve` process.
type replica struct {
	url  string
	cmd  *exec.Cmd
	logs *harness.SyncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// replicaEnv is the environment of every replica: one issuer (the load
// balancer), one key encryption key, short key sync, cheap hashes, no
// per-IP rate limit (the test is one IP), and the full set of Kubernetes
// service-link variables a Service named shopauth injects (item 7: every
// replica of the suite starts with them).
func replicaEnv(dbURL string, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"SHOPAUTH_DATABASE_URL=" + dbURL,
		"SHOPAUTH_KEY_ENCRYPTION_KEY=" + keys.EncodeKEK(bytes.Repeat([]byte{7}, 32)),
		"SHOPAUTH_ISSUER=https://auth.shop.test",
		"SHOPAUTH_KEY_SYNC_INTERVAL=1s",
		"SHOPAUTH_LOG_FORMAT=text",
		"SHOPAUTH_LOG_LEVEL=info",
		"SHOPAUTH_LOGIN_RATE_PER_MINUTE=0",
		"SHOPAUTH_LOCKOUT_THRESHOLD=5",
		"SHOPAUTH_ARGON2_MEMORY_KIB=" + strconv.Itoa(int(harness.TestHashParams.MemoryKiB)),
		"SHOPAUTH_ARGON2_ITERATIONS=1",
		"SHOPAUTH_REQUEST_TIMEOUT=" + requestTimeout.String(),
	}
	env = append(env, kubernetesServiceLinks()...)
	return append(env, extra...)
}

// kubernetesServiceLinks is what Kubernetes injects for a Service named
// shopauth with one port, 8080/TCP, named http.
func kubernetesServiceLinks() []string {
	return []string{
		"SHOPAUTH_SERVICE_HOST=10.96.0.12",
		"SHOPAUTH_SERVICE_PORT=8080",
		"SHOPAUTH_SERVICE_PORT_HTTP=8080",
		"SHOPAUTH_PORT=tcp://10.96.0.12:8080",
		"SHOPAUTH_PORT_8080_TCP=tcp://10.96.0.12:8080",
		"SHOPAUTH_PORT_8080_TCP_PROTO=tcp",
		"SHOPAUTH_PORT_8080_TCP_PORT=8080",
		"SHOPAUTH_PORT_8080_TCP_ADDR=10.96.0.12",
	}
}

// startReplica starts `shopauth serve` on a free port. With ready it
// waits until /readyz says so. The process is killed when the test ends
// if it still runs; a replica that exited with an error on its own fails
// the test.
func startReplica(t *testing.T, env []string, ready bool, args ...string) *replica {
	t.Helper()
	addr := harness.FreeAddr(t)
	r := &replica{url: "http://" + addr, logs: &harness.SyncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	r.cmd.Env = append(slices.Clone(env), "SHOPAUTH_HTTP_ADDR="+addr)
	r.cmd.Stdout = io.Discard
	r.cmd.Stderr = r.logs
	require.NoError(t, r.cmd.Start())
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
			return
		default:
		}
		_ = r.cmd.Process.Signal(os.Interrupt)
		select {
		case <-r.done:
			if r.err != nil {
				t.Errorf("replica %s: %v\n%s", r.url, r.err, r.logs)
			}
		case <-time.After(30 * time.Second):
			_ = r.cmd.Process.Kill()
			t.Errorf("replica %s did not stop", r.url)
		}
		if t.Failed() {
			t.Logf("replica %s log:\n%s", r.url, tail(r.logs.String(), 40))
		}
	})
	if ready {
		require.Eventually(t, func() bool { return r.get("/readyz").status == http.StatusOK },
			90*time.Second, 100*time.Millisecond, "replica %s not ready: %s", r.url, r.logs)
	}
	return r
}

// kill9 kills the replica at once, as a crashed node would be.
func (r *replica) kill9(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGKILL))
	<-r.done
}

func (r *replica) get(path string) answer {
	req, _ := http.NewRequest(http.MethodGet, r.url+path, nil)
	return do(req, "GET "+path)
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

// metric reads one unlabelled value from the replica's /metrics.
func (r *replica) metric(t *testing.T, name string) float64 {
	t.Helper()
	a := r.get("/metrics")
	require.Equal(t, http.StatusOK, a.status, a.String())
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(a.body)
	require.NotNil(t, m, "%s not in /metrics", name)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// usage is what a replica holds: goroutines and database connections.
type usage struct{ goroutines, conns float64 }

func (r *replica) usage(t *testing.T) usage {
	return usage{goroutines: r.metric(t, "go_goroutines"), conns: r.metric(t, "shopauth_db_open_connections")}
}

// The requests of each dialect that need the database: a password login
// in OAuth JSON, Spryker's JSON:API, the shopKey envelope, and the hosted
// login page's form post.
type dialect struct {
	name string
	req  func(base string) *http.Request
	// is503 checks that a 503 is in the dialect's own form.
	is503 func(a answer) error
}

func dialects() []dialect {
	return []dialect{
		{name: "oauth", req: func(base string) *http.Request {
			return passwordRequest(base, app.DemoPassword)
		}, is503: func(a answer) error {
			return wantJSONField(a, "application/json", `"error":"temporarily_unavailable"`)
		}},
		{name: "spryker", req: func(base string) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, base+"/access-tokens", strings.NewReader(harness.LoginBody(app.DemoCustomerEmail, app.DemoPassword)))
			req.Header.Set("Content-Type", "application/vnd.api+json")
			return req
		}, is503: func(a answer) error {
			return wantJSONField(a, "application/vnd.api+json", `"errors"`)
		}},
		{name: "shopkey", req: func(base string) *http.Request {
			body := fmt.Sprintf(`{"_method":"POST","email":%q,"password":%q}`, app.DemoCustomerEmail, app.DemoPassword)
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/"+app.DemoShop+"/customers/login", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, is503: func(a answer) error {
			return wantJSONField(a, "application/json", `"success":false`)
		}},
		{name: "hosted", req: func(base string) *http.Request {
			return authorizeRequest(base)
		}, is503: func(a answer) error {
			return wantJSONField(a, "text/html", "<html")
		}},
	}
}

func wantJSONField(a answer, contentType, fragment string) error {
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
		return fmt.Errorf("content type %q, want %s", ct, contentType)
	}
	if !strings.Contains(a.body, fragment) {
		return fmt.Errorf("body lacks %s", fragment)
	}
	return nil
}

func passwordRequest(base, password string) *http.Request {
	form := url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {password},
		"scope": {"openid offline_access"}, "shop": {app.DemoShop}}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.DemoClientID, app.DemoClientSecret)
	return req
}

func refreshRequest(base, refreshToken string) *http.Request {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.DemoClientID, app.DemoClientSecret)
	return req
}

// authorizeRequest starts the code flow at the hosted pages with a client
// the page must look up in the database.
func authorizeRequest(base string) *http.Request {
	q := url.Values{"response_type": {"code"}, "client_id": {faultsCodeClient}, "redirect_uri": {"https://shop.test/cb"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	req, _ := http.NewRequest(http.MethodGet, base+"/oauth2/authorize?"+q.Encode(), nil)
	return req
}

// faultsCodeClient is a client no database knows: the page must ask the
// database for it (a known client may be in the replica's client cache),
// and a database that answers makes it a 400 error page.
const faultsCodeClient = "faults-web"

// login logs the demo customer in on base and returns the token body.
func login(base string) (harness.TokenBody, answer) {
	a := do(passwordRequest(base, app.DemoPassword), "login")
	return decodeTokens(a), a
}

func refresh(base, token string) (harness.TokenBody, answer) {
	a := do(refreshRequest(base, token), "refresh")
	return decodeTokens(a), a
}

func decodeTokens(a answer) harness.TokenBody {
	var b harness.TokenBody
	if a.status == http.StatusOK {
		_ = json.Unmarshal([]byte(a.body), &b)
	}
	return b
}

// database is a fresh database on a MySQL server (dsn without database):
// its shopauth URL and a handle for checks.
func database(t *testing.T, serverDSN, name string) (dbURL string, db *sql.DB) {
	t.Helper()
	admin, err := sql.Open("mysql", serverDSN)
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.Exec("DROP DATABASE IF EXISTS " + name)
	require.NoError(t, err)
	_, err = admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4")
	require.NoError(t, err)
	dsn := strings.Replace(serverDSN, ")/", ")/"+name, 1)
	db, err = sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return "mysql://" + dsn, db
}

// script runs one of the suite's scripts (faults/mariadb, faults/galera).
func script(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command("./"+name, args...).CombinedOutput()
	require.NoError(t, err, "faults/%s %s: %s", name, strings.Join(args, " "), out)
}

// until polls cond every 100 ms until it holds or d has passed, and
// reports how long it took.
func until(ctx context.Context, d time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if cond() {
			return time.Since(start), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start), false
}

func execScript(name string, args ...string) error {
	out, err := exec.Command("./"+name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("faults/%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
