package bench

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/web"
)

// ClientID is the confidential client the bench signs in with.
const ClientID = "shopauth-bench"

// Settings are what `shopauth bench` was asked to do (its flags).
type Settings struct {
	Target      string
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Scenarios   []string
	JSONFile    string
	// CPUProfile, when set, receives a CPU profile of the whole run (load
	// generator and, in-process, the server) for go tool pprof.
	CPUProfile string
	// HashParams are the argon2id parameters of the bench customers and
	// the hash ceiling (zero: defaults); tests make them cheap.
	HashParams customers.Argon2Params
	// Progress forces the live line on (tests); otherwise it is shown
	// only when stderr is a terminal.
	Progress bool
	// MinRequests, when positive, runs each workload past Duration until
	// it has completed that many requests (for at most a minute more):
	// smoke tests on a loaded machine, where one login can outlast a
	// short Duration. The report's rates are over the time actually run.
	MinRequests int
}

// ScenarioNames are the scenarios the bench knows, in the order it runs them.
func ScenarioNames() []string {
	var names []string
	for _, w := range Scenarios(Target{}) {
		names = append(names, w.Name)
	}
	return names
}

// Check refuses settings the bench cannot run, naming the flag.
func (o Settings) Check() error {
	if o.Concurrency <= 0 || o.Duration <= 0 || o.Warmup < 0 {
		return errors.New("--concurrency and --duration must be positive, --warmup not negative")
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(ScenarioNames(), s) {
			return fmt.Errorf("unknown scenario %q; known: %s", s, strings.Join(ScenarioNames(), ", "))
		}
	}
	return nil
}

// Measure runs the bench the settings describe against the server cfg
// names (with Target) or one it starts in-process, and writes the report
// to stdout (and JSONFile); the live progress line goes to stderr.
func Measure(ctx context.Context, cfg config.Config, o Settings, stdout, stderr io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.HashParams == (customers.Argon2Params{}) {
		o.HashParams = app.Argon2Params(cfg.Login)
	}
	// The server's own log lines are formatted as in production but not
	// written: they would bury the report.
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	env, err := environment(ctx, cfg, o, logger)
	if err != nil {
		return err
	}
	defer env.close()

	client := NewClient(o.Concurrency)
	target := Target{
		URL: env.url, Client: client, ClientID: ClientID, ClientSecret: env.secret,
		Users: env.users, ShopKey: cfg.Adapters.SprykerShop,
	}
	ceilings, stopCeilings, err := benchCeilings(env, client)
	if err != nil {
		return err
	}
	defer stopCeilings()
	var workloads []Workload
	for _, w := range Scenarios(target) {
		if len(o.Scenarios) == 0 || slices.Contains(o.Scenarios, w.Name) {
			workloads = append(workloads, w)
		}
	}
	workloads = append(ceilingsFor(ceilings, workloads), workloads...)

	report := Report{
		Target: env.url, StartedAt: time.Now().UTC(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Concurrency: o.Concurrency, Duration: o.Duration.Seconds(), Warmup: o.Warmup.Seconds(), Settings: env.settings,
	}
	progress := progressLine(stderr, o.Progress)
	if o.CPUProfile != "" {
		stop, err := startCPUProfile(o.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, w := range workloads {
		workers := o.Concurrency
		if w.Name == CeilingHash {
			workers = env.hashConcurrency
		}
		res, err := Run(ctx, w, Options{Duration: o.Duration, Warmup: o.Warmup, Concurrency: workers, Progress: progress,
			MinOps: int64(o.MinRequests)})
		if progress != nil {
			fmt.Fprint(stderr, "\r\033[K")
		}
		if err != nil {
			return err
		}
		if w.Kind == KindScenario {
			res.ServerRSSMiB = target.ServerRSS(ctx)
		}
		report.Results = append(report.Results, res)
	}
	report.Results = WithCeilings(report.Results)
	if err := report.WriteText(stdout); err != nil {
		return err
	}
	if o.JSONFile != "" {
		f, err := os.Create(o.JSONFile)
		if err != nil {
			return err
		}
		if err := report.WriteJSON(f); err != nil {
			_ = f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// progressLine returns the live progress callback, or nil when stderr is
// not a terminal (a log file must not fill up with carriage returns).
func progressLine(stderr io.Writer, force bool) func(Progress) {
	f, ok := stderr.(*os.File)
	if !force && (!ok || !isTerminal(f)) {
		return nil
	}
	return func(p Progress) { fmt.Fprint(stderr, "\r\033[K"+ProgressLine(p)) }
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// benchEnv is what the bench runs against: the server's URL, the seeded
// credentials and what the ceilings need.
type benchEnv struct {
	url             string
	secret          string
	users           []User
	store           *sqlstore.Store
	keys            *keys.Manager
	kek             []byte
	hasher          *customers.Hasher
	hashConcurrency int
	settings        map[string]string
	cleanup         []func()
}

func (e *benchEnv) close() {
	for _, f := range slices.Backward(e.cleanup) {
		f()
	}
}

// environment starts the in-process server or, with --target, opens
// the target's database; both are seeded the same way.
func environment(ctx context.Context, cfg config.Config, o Settings, logger *slog.Logger) (_ *benchEnv, err error) {
	env := &benchEnv{}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	var ln net.Listener
	if o.Target == "" {
		dir, err := os.MkdirTemp("", "shopauth-bench-")
		if err != nil {
			return nil, err
		}
		env.cleanup = append(env.cleanup, func() { _ = os.RemoveAll(dir) })
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		env.cleanup = append(env.cleanup, func() { _ = ln.Close() })
		kek, err := keys.GenerateKEK()
		if err != nil {
			return nil, err
		}
		cfg.Database.URL = "sqlite://" + filepath.Join(dir, "bench.db")
		cfg.Issuer = "http://" + ln.Addr().String()
		cfg.Keys.EncryptionKey = base64.StdEncoding.EncodeToString(kek)
		// The bench signs in far more often than a per-IP limit allows: it
		// measures the server, not its limiter.
		cfg.Login.RatePerMinute = 0
	}
	if env.store, err = app.OpenStore(ctx, cfg, logger); err != nil {
		return nil, err
	}
	env.cleanup = append(env.cleanup, func() { _ = env.store.Close() })
	if env.keys, env.kek, err = app.OpenKeys(ctx, cfg, env.store, logger); err != nil {
		return nil, err
	}
	if env.hasher, err = customers.NewHasher(o.HashParams); err != nil {
		return nil, err
	}
	env.hashConcurrency = cfg.Login.HashConcurrency
	if env.hashConcurrency <= 0 {
		env.hashConcurrency = runtime.GOMAXPROCS(0)
	}
	if o.Target == "" {
		if err := app.SeedDemo(ctx, env.store, io.Discard, cfg, o.HashParams); err != nil {
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	if err := seedBench(ctx, env, cfg.Adapters.SprykerShop, o.Concurrency); err != nil {
		return nil, fmt.Errorf("bench data: %w", err)
	}
	p := env.hasher.Params()
	env.settings = map[string]string{
		"database":         env.store.Dialect(),
		"argon2id":         fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Iterations, p.Parallelism),
		"hash_concurrency": strconv.Itoa(env.hashConcurrency),
		"signing_key":      env.keys.CurrentKID(),
	}
	if o.Target != "" {
		env.url = strings.TrimRight(o.Target, "/")
		return env, nil
	}
	a, err := app.New(app.Deps{Config: cfg, Store: env.store, Keys: env.keys, KEK: env.kek, Logger: logger, Now: time.Now, HashParams: o.HashParams})
	if err != nil {
		return nil, err
	}
	srv := web.NewHTTPServer(ln.Addr().String(), a.Handler, logger)
	go func() { _ = srv.Serve(ln) }()
	env.cleanup = append(env.cleanup, func() { _ = srv.Close() })
	env.url = cfg.Issuer
	return env, nil
}

// seedBench adds, unless present, one verified customer per worker to
// shopKey and the bench's confidential client. Their secrets are derived
// from the KEK, so a second run against the same database finds the same
// ones and nobody without the KEK can use them.
func seedBench(ctx context.Context, env *benchEnv, shopKey string, n int) error {
	derive := func(label string) (string, error) {
		b, err := hkdf.Key(sha256.New, env.kek, nil, "shopauth bench "+label, 18)
		return base64.RawURLEncoding.EncodeToString(b), err
	}
	secret, err := derive("client secret")
	if err != nil {
		return err
	}
	password, err := derive("customer password")
	if err != nil {
		return err
	}
	env.secret = secret
	now := time.Now().UTC()
	if _, err := env.store.GetShop(ctx, shopKey); errors.Is(err, storage.ErrNotFound) {
		err = env.store.CreateShop(ctx, storage.Shop{Key: shopKey, Name: "shopauth bench", Locale: "en", Active: true, CreatedAt: now})
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			return err
		}
	} else if err != nil {
		return err
	}
	err = env.store.CreateClient(ctx, storage.Client{
		ID: ClientID, SecretHash: clients.HashSecret(secret), ShopKey: shopKey,
		GrantTypes: []string{server.GrantPassword, server.GrantRefreshToken},
		Scopes:     []string{server.ScopeOpenID, server.ScopeOfflineAccess}, FirstParty: true, CreatedAt: now,
	})
	if err != nil && !errors.Is(err, storage.ErrConflict) {
		return err
	}
	// Every customer gets the same hash (same password and salt): the cost
	// of verifying it is what matters, and one hash keeps seeding quick.
	hash, err := env.hasher.Hash(password)
	if err != nil {
		return err
	}
	for i := range n {
		email := fmt.Sprintf("bench-%04d@bench.invalid", i)
		err := env.store.CreateCustomer(ctx, &storage.Customer{
			ShopKey: shopKey, Email: email, EmailNormalized: email, Name: "Bench " + strconv.Itoa(i),
			PasswordHash: hash, EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now,
		})
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("customer %s: %w", email, err)
		}
		env.users = append(env.users, User{Email: email, Password: password})
	}
	return nil
}

// benchCeilings builds the ceiling workloads: argon2id verification at the
// configured parameters, RS256 signing with the current key, and a bare
// net/http handler serving the JWKS bytes over loopback (stopped by the
// returned func).
func benchCeilings(env *benchEnv, client *http.Client) ([]Workload, func(), error) {
	hash, err := env.hasher.Hash("ceiling-password")
	if err != nil {
		return nil, nil, err
	}
	hashOp := func(context.Context) (int, error) {
		ok, _, err := env.hasher.Verify(hash, "ceiling-password")
		if err == nil && !ok {
			err = errors.New("argon2id: the password did not verify")
		}
		return 0, err
	}
	now := time.Now().Unix()
	payload, err := json.Marshal(tokens.AccessClaims{
		Issuer: env.url, Subject: "21", Audience: tokens.Audience{ClientID}, ExpiresAt: now + 3600,
		IssuedAt: now, NotBefore: now, JTI: "aW5ncmVkaWVudHM", ClientID: ClientID,
		Scope: "offline_access", Shop: "acme12aa", CustomerReference: "DE--21",
	})
	if err != nil {
		return nil, nil, err
	}
	signOp := func(context.Context) (int, error) {
		_, err := env.keys.Sign(payload, tokens.TypeAccessToken)
		return 0, err
	}
	jwks := env.keys.JWKS()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	bare := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(jwks)
	})}
	go func() { _ = bare.Serve(ln) }()
	fixed := func(op Op) func(context.Context, int) (Op, error) {
		return func(context.Context, int) (Op, error) { return op, nil }
	}
	return []Workload{
		{Name: CeilingHash, Kind: KindCeiling, Worker: fixed(hashOp)},
		{Name: CeilingSign, Kind: KindCeiling, Worker: fixed(signOp)},
		Get(CeilingHTTP, KindCeiling, "http://"+ln.Addr().String()+"/", client),
	}, func() { _ = bare.Close() }, nil
}

// ceilingsFor keeps the ceilings some scenario is held against.
func ceilingsFor(ceilings, scenarios []Workload) []Workload {
	var out []Workload
	for _, c := range ceilings {
		if slices.ContainsFunc(scenarios, func(s Workload) bool { return s.Ceiling == c.Name }) {
			out = append(out, c)
		}
	}
	return out
}
