package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// testHashParams keep argon2id cheap in tests (the race detector makes the
// real parameters cost a third of a second per hash). Production
// parameters are exercised in server/customers.
var testHashParams = customers.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// fakeClock is real time plus an offset tests can move forward. Client
// libraries (x/oauth2, go-oidc) check expiry against the real clock, so the
// server's clock starts at real time.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// testServer is the real gin engine over a real store, on an httptest
// listener whose URL is the issuer.
type testServer struct {
	URL    string
	Store  *sqlstore.Store
	Keys   *keys.Manager
	Clock  *fakeClock
	App    *app
	Config config.Config
	Logs   *syncBuffer
}

type testServerOptions struct {
	openStore func(t testing.TB) *sqlstore.Store
	configure []func(*config.Config)
	noDemo    bool
	// hashParams are the argon2id costs of new hashes (testHashParams
	// unless set).
	hashParams customers.Argon2Params
}

type testOption func(*testServerOptions)

// withMySQL runs the server on a fresh MySQL database (skips without one).
func withMySQL() testOption {
	return func(o *testServerOptions) { o.openStore = sqlstoretest.OpenMySQL }
}

// withStore runs the server on the given store (e.g. to share one database
// between two instances).
func withStore(s *sqlstore.Store) testOption {
	return func(o *testServerOptions) { o.openStore = func(testing.TB) *sqlstore.Store { return s } }
}

// withConfig adjusts the configuration before wiring.
func withConfig(f func(*config.Config)) testOption {
	return func(o *testServerOptions) { o.configure = append(o.configure, f) }
}

// withHashParams makes new password hashes with p (e.g. production
// costs, for timing benchmarks).
func withHashParams(p customers.Argon2Params) testOption {
	return func(o *testServerOptions) { o.hashParams = p }
}

// withoutDemo starts on an empty database.
func withoutDemo() testOption { return func(o *testServerOptions) { o.noDemo = true } }

// testKEK is shared by every instance of one test so two servers on one
// database can decrypt each other's keys.
var testKEK = func() []byte { k, _ := keys.GenerateKEK(); return k }()

func newTestServer(t testing.TB, opts ...testOption) *testServer {
	t.Helper()
	o := testServerOptions{openStore: sqlstoretest.OpenSQLite, hashParams: testHashParams}
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	store := o.openStore(t)
	clock := &fakeClock{}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	hs := httptest.NewUnstartedServer(nil)
	cfg := config.Defaults()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	for _, f := range o.configure {
		f(&cfg)
	}
	kc, err := keysConfig(cfg, store, testKEK, logger, clock.Now)
	require.NoError(t, err)
	km, err := keys.New(ctx, kc)
	require.NoError(t, err)
	if !o.noDemo {
		require.NoError(t, seedDemo(ctx, store, io.Discard, cfg, testHashParams))
	}
	a, err := newApp(appDeps{cfg: cfg, store: store, keys: km, kek: testKEK, logger: logger, now: clock.Now, hashParams: o.hashParams})
	require.NoError(t, err)
	hs.Config.Handler = a.handler
	hs.Start()
	t.Cleanup(hs.Close)
	return &testServer{URL: hs.URL, Store: store, Keys: km, Clock: clock, App: a, Config: cfg, Logs: logs}
}

// postForm posts a form to path, with optional HTTP Basic credentials.
func (s *testServer) postForm(t testing.TB, path string, form url.Values, basicUser, basicPass string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
