package harness

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

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/mail/mailtest"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// TestHashParams keep argon2id cheap in tests (the race detector makes the
// real parameters cost a third of a second per hash). Production
// parameters are exercised in server/customers.
var TestHashParams = customers.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// FakeClock is real time plus an offset tests can move forward. Client
// libraries (x/oauth2, go-oidc) check expiry against the real clock, so the
// server's clock starts at real time.
type FakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the server's clock.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// TestServer is the real gin engine over a real store, on an httptest
// listener whose URL is the issuer.
type TestServer struct {
	URL    string
	Store  *sqlstore.Store
	Keys   *keys.Manager
	Clock  *FakeClock
	App    *app.App
	Config config.Config
	Logs   *SyncBuffer
	// Mail is the SMTP server the mail outbox delivers to (WithMailSink);
	// nil without one.
	Mail *mailtest.Sink
}

type testServerOptions struct {
	openStore func(t testing.TB) *sqlstore.Store
	configure []func(*config.Config)
	noDemo    bool
	// hashParams are the argon2id costs of new hashes (TestHashParams
	// unless set).
	hashParams customers.Argon2Params
	mailSink   *mailtest.Options
	demoMode   bool
}

// TestOption adjusts how NewTestServer builds the server.
type TestOption func(*testServerOptions)

// WithMySQL runs the server on a fresh MySQL database (skips without one).
func WithMySQL() TestOption {
	return func(o *testServerOptions) { o.openStore = sqlstoretest.OpenMySQL }
}

// WithStore runs the server on the given store (e.g. to share one database
// between two instances).
func WithStore(s *sqlstore.Store) TestOption {
	return func(o *testServerOptions) { o.openStore = func(testing.TB) *sqlstore.Store { return s } }
}

// WithConfig adjusts the configuration before wiring.
func WithConfig(f func(*config.Config)) TestOption {
	return func(o *testServerOptions) { o.configure = append(o.configure, f) }
}

// WithHashParams makes new password hashes with p (e.g. production costs,
// for timing benchmarks) instead of TestHashParams.
func WithHashParams(p customers.Argon2Params) TestOption {
	return func(o *testServerOptions) { o.hashParams = p }
}

// WithMailSink starts a real SMTP server (package mailtest) for the
// server's mails, points SHOPAUTH_SMTP_URL at it, and runs the outbox
// sender until the test ends.
func WithMailSink(opts mailtest.Options) TestOption {
	return func(o *testServerOptions) { o.mailSink = &opts }
}

// WithDemoMode wires the server as `serve --demo` does: the demo app at
// /demo, and without an SMTP server each mail's link in the log (Logs);
// the outbox sender runs until the test ends.
func WithDemoMode() TestOption { return func(o *testServerOptions) { o.demoMode = true } }

// WithoutDemo starts on an empty database.
func WithoutDemo() TestOption { return func(o *testServerOptions) { o.noDemo = true } }

// TestKEK is shared by every instance of one test so two servers on one
// database can decrypt each other's keys.
var TestKEK = func() []byte { k, _ := keys.GenerateKEK(); return k }()

// NewTestServer starts the wired app (package app) on SQLite (or the store
// an option names) with the demo data, a fake clock and cheap hashes, and
// stops it when the test ends.
func NewTestServer(t testing.TB, opts ...TestOption) *TestServer {
	t.Helper()
	o := testServerOptions{openStore: sqlstoretest.OpenSQLite, hashParams: TestHashParams}
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	store := o.openStore(t)
	clock := &FakeClock{}
	logs := &SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	hs := httptest.NewUnstartedServer(nil)
	cfg := config.Defaults()
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	var sink *mailtest.Sink
	if o.mailSink != nil {
		sink = mailtest.Start(t, *o.mailSink)
		cfg.Mail.SMTPURL, cfg.Mail.From = sink.URL(), "ACME Shop <shop@acme.example>"
	}
	for _, f := range o.configure {
		f(&cfg)
	}
	kc, err := app.KeysConfig(cfg, store, TestKEK, logger, clock.Now)
	require.NoError(t, err)
	km, err := keys.New(ctx, kc)
	require.NoError(t, err)
	if !o.noDemo {
		require.NoError(t, app.SeedDemo(ctx, store, io.Discard, cfg, TestHashParams))
	}
	deps := app.Deps{Config: cfg, Store: store, Keys: km, KEK: TestKEK, Logger: logger, Now: clock.Now, HashParams: o.hashParams}
	if sink != nil {
		deps.MailTLS = sink.TLSConfig
	}
	deps.Demo = o.demoMode
	a, err := app.New(deps)
	require.NoError(t, err)
	hs.Config.Handler = a.Handler
	hs.Start()
	t.Cleanup(hs.Close)
	if sink != nil || o.demoMode {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Mail.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return &TestServer{URL: hs.URL, Store: store, Keys: km, Clock: clock, App: a, Config: cfg, Logs: logs, Mail: sink}
}

// PostForm posts a form to path, with optional HTTP Basic credentials.
func (s *TestServer) PostForm(t testing.TB, path string, form url.Values, basicUser, basicPass string) *http.Response {
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

// SyncBuffer collects log output written from many goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
