package app

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/internal/memtrim"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/accounts"
	"github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/server/carts"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/login"
	"github.com/shopauth/shopauth/server/mail"
	"github.com/shopauth/shopauth/server/ratelimit"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/web"
	webadmin "github.com/shopauth/shopauth/web/admin"
	"github.com/shopauth/shopauth/web/demo"
	"github.com/shopauth/shopauth/web/hosted"
	"github.com/shopauth/shopauth/web/metrics"
	"github.com/shopauth/shopauth/web/shopkey"
	"github.com/shopauth/shopauth/web/spryker"
)

// ClockSkew is how far apart replicas' and resource servers' clocks may be.
const ClockSkew = 30 * time.Second

// clientCacheTTL is how long a replica keeps a client registration: a
// change made with the admin CLI reaches every replica within it.
const clientCacheTTL = 5 * time.Second

// The token sweeper's policy (server.SweeperConfig): a sweep every few
// minutes, 500 rows per batch; revoked refresh tokens kept a week, spent
// ones a week after their family ended, and redeemed authorization codes a
// week after they expired, so that reuse of a stolen one is detected that
// long. The verifier's leeway and the tolerated skew are both ClockSkew.
const (
	SweepInterval           = 5 * time.Minute
	SweepBatch              = 500
	SettledRefreshRetention = 7 * 24 * time.Hour
)

// App is one wired server: core, keys and HTTP engine over one store.
type App struct {
	// Verifier checks access tokens as every route does (signature,
	// claims, revocation).
	Verifier *tokens.Verifier
	Keys     *keys.Manager
	Handler  http.Handler
	// AdminHandler serves only the admin API, when SHOPAUTH_ADMIN_ADDR
	// gives it a listener of its own (Handler then does not serve it);
	// nil otherwise.
	AdminHandler http.Handler
	Sweeper      *server.Sweeper
	// MemoryTrim gives argon2's memory back to the operating system after
	// a burst of hashing; run it like the sweeper.
	MemoryTrim *memtrim.Trimmer
	// Mail drains the mail outbox; run it like the sweeper.
	Mail *mail.Sender
}

// Deps are what New wires together.
type Deps struct {
	Config config.Config
	Store  *sqlstore.Store
	Keys   *keys.Manager
	KEK    []byte
	Logger *slog.Logger
	Now    func() time.Time
	// HashParams are the argon2id parameters of new hashes (zero: defaults).
	HashParams customers.Argon2Params
	// Demo says `serve --demo` runs: without an SMTP server, mails are
	// logged (their links at info) instead of waiting in the outbox.
	Demo bool
	// MailTLS, when set, is the TLS configuration of the SMTP client
	// (tests: a server with a certificate of its own).
	MailTLS *tls.Config
}

// New wires the packages together. This package is the only one that reads
// config and turns it into each package's own Config.
func New(d Deps) (*App, error) {
	cfg, store, km, logger, now := d.Config, d.Store, d.Keys, d.Logger, d.Now
	if now == nil {
		now = time.Now
	}
	// A registry of our own, never Prometheus's global default: two apps in
	// one process (tests) must not share counters. The hashing queue is
	// read at scrape time from the authenticator made below.
	var authn *customers.Authenticator
	m, err := metrics.New(metrics.Config{
		Registry: prometheus.NewRegistry(), DBStats: store.Stats, Keys: km, Now: now,
		HashQueue: func() int { return authn.QueueLength() },
	})
	if err != nil {
		return nil, err
	}
	// One lockout policy for the Authenticator that counts failed logins
	// and the sweeper that forgets them.
	lockout := LockoutPolicy(cfg.Login)
	hasher, err := customers.NewHasher(d.HashParams)
	if err != nil {
		return nil, err
	}
	trim := memtrim.New(memoryTrimQuiet, debug.FreeOSMemory, nil)
	hasher = hasher.Tracked(trim)
	authn, err = customers.NewAuthenticator(customers.Config{
		Store:            store,
		Hasher:           hasher,
		Lockout:          lockout,
		HashConcurrency:  cfg.Login.HashConcurrency,
		HashQueueTimeout: cfg.Login.HashQueueTimeout,
		Now:              now,
		Logger:           logger,
		Observer:         m,
	})
	if err != nil {
		return nil, err
	}
	loginLimiter, err := loginRateLimiter(cfg.Login, now)
	if err != nil {
		return nil, err
	}
	verifier, err := tokens.NewVerifier(cfg.Issuer, km, store, now, ClockSkew)
	if err != nil {
		return nil, err
	}
	rk, err := refreshKey(d.KEK)
	if err != nil {
		return nil, err
	}
	core, err := newCore(coreDeps{
		cfg: cfg, store: store, signer: km, verifier: verifier, refreshKey: rk,
		login:    login.Config{Authenticator: authn, Limiter: loginLimiter},
		observer: m, now: now, logger: logger,
	})
	if err != nil {
		return nil, err
	}
	sender, err := newMailSender(d, m, now)
	if err != nil {
		return nil, err
	}
	accountService, err := newAccounts(cfg, store, authn, sender, d.KEK, now, logger)
	if err != nil {
		return nil, err
	}
	csrfKey, err := hkdf.Key(sha256.New, d.KEK, nil, "shopauth hosted-page csrf v1", 32)
	if err != nil {
		return nil, err
	}
	pages, err := hosted.New(hosted.Config{
		Authorizer: core.authorize,
		Logout:     core.logout,
		// Cookies of an https issuer are Secure; a plain-http issuer is a
		// local setup (config warns about any other).
		SecureCookies: strings.HasPrefix(cfg.Issuer, "https://"),
		CSRFKey:       csrfKey,
		Accounts:      accountService,
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	shopKeyAPI, err := newShopKeyAPI(cfg, store, core, logger)
	if err != nil {
		return nil, err
	}
	// gin's mode is process-wide; release mode only silences its debug
	// printing.
	gin.SetMode(gin.ReleaseMode)
	glue, err := spryker.New(spryker.Config{
		Grants: core.tokens, AccessTokens: verifier, Revocations: core.customerRevocation, Logger: logger,
		ClientID: cfg.Adapters.SprykerClientID, ShopKey: cfg.Adapters.SprykerShop,
		Registrations: accountService, Passwords: accountService,
	})
	if err != nil {
		return nil, err
	}
	features := []web.Mounter{pages, glue, shopKeyAPI}
	if d.Demo {
		demoApp, err := demo.New(core.tokens)
		if err != nil {
			return nil, err
		}
		features = append(features, demoApp)
	}
	adminAPI, err := newAdminAPI(store, hasher, accountService, km, verifier, now, logger)
	if err != nil {
		return nil, err
	}
	webCfg := web.Config{
		Tokens:         core.tokens,
		Lifecycle:      &web.Lifecycle{Revoker: core.revocation, Introspector: core.introspection, UserInfo: core.userInfo},
		Keys:           km,
		Ready:          readiness(store, km),
		Logger:         logger,
		TrustedProxies: cfg.HTTP.TrustedProxies,
		RequestTimeout: cfg.HTTP.RequestTimeout,
		Metrics:        m,
		Features:       features,
	}
	var adminHandler http.Handler
	if cfg.HTTP.AdminAddr != "" {
		if adminHandler, err = web.NewAdmin(webCfg, adminAPI); err != nil {
			return nil, err
		}
	} else {
		webCfg.Admin = adminAPI
	}
	engine, err := web.New(webCfg)
	if err != nil {
		return nil, err
	}
	sweeper, err := server.NewSweeper(server.SweeperConfig{
		Store: store, Interval: SweepInterval, BatchSize: SweepBatch,
		SettledRetention: SettledRefreshRetention, Leeway: ClockSkew, ClockSkew: ClockSkew, Lockout: lockout, Now: now, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	return &App{Verifier: verifier, Keys: km, Handler: engine, AdminHandler: adminHandler, Sweeper: sweeper, Mail: sender, MemoryTrim: trim}, nil
}

// newAdminAPI wires the admin core (server/admin) and its HTTP API
// (web/admin): invitations through the accounts' mail path, the key
// manager's keys, admin clients read uncached so that a revoked scope
// applies at once.
func newAdminAPI(store *sqlstore.Store, hasher *customers.Hasher, inviter *accounts.Service, km *keys.Manager,
	verifier *tokens.Verifier, now func() time.Time, logger *slog.Logger) (*webadmin.Handler, error) {
	svc, err := admin.New(admin.Config{
		Store: store, Hasher: hasher, Inviter: inviter, Keys: km, Now: now, Logger: logger,
		SigningAlgorithms: func(context.Context) ([]string, error) { return km.SigningAlgorithms(), nil },
	})
	if err != nil {
		return nil, err
	}
	return webadmin.New(webadmin.Config{Service: svc, AccessTokens: verifier, Clients: store, Logger: logger})
}

// newMailSender wires the outbox's sender and its transport: SMTP when
// SHOPAUTH_SMTP_URL is set; otherwise the log for a demo, and for anyone
// else a transport that keeps mails waiting (with a warning now).
func newMailSender(d Deps, m *metrics.Metrics, now func() time.Time) (*mail.Sender, error) {
	cfg, logger := d.Config, d.Logger
	var transport mail.Transport
	switch {
	case cfg.Mail.SMTPURL != "":
		smtp, err := mail.NewSMTP(mail.SMTPConfig{URL: cfg.Mail.SMTPURL, From: cfg.Mail.From, TLSConfig: d.MailTLS})
		if err != nil {
			return nil, err
		}
		transport = smtp
	case d.Demo:
		transport = mail.Log{Logger: logger}
	default:
		logger.Warn("SHOPAUTH_SMTP_URL is not set: mails to customers (registration, password reset) wait in the outbox until it is")
		transport = mail.Unconfigured{}
	}
	sealer, err := mail.NewSealer(d.KEK)
	if err != nil {
		return nil, err
	}
	renderer, err := mail.NewRenderer()
	if err != nil {
		return nil, err
	}
	return mail.NewSender(mail.SenderConfig{
		Store: d.Store, Sweeper: d.Store, Sealer: sealer, Renderer: renderer, Transport: transport,
		MaxAttempts: cfg.Mail.MaxAttempts, Now: now, Logger: logger, Observer: m,
	})
}

// newAccounts wires customers' own accounts: one service for the Spryker
// dialect and the hosted pages, rate limited per client address.
func newAccounts(cfg config.Config, store *sqlstore.Store, authn *customers.Authenticator, sender *mail.Sender,
	kek []byte, now func() time.Time, logger *slog.Logger) (*accounts.Service, error) {
	sealer, err := mail.NewSealer(kek)
	if err != nil {
		return nil, err
	}
	var limiter accounts.Limiter
	if cfg.Accounts.RateLimited() {
		l, err := ratelimit.New(ratelimit.Config{PerMinute: cfg.Accounts.RatePerMinute, Burst: cfg.Accounts.Burst, Now: now})
		if err != nil {
			return nil, err
		}
		limiter = l
	}
	return accounts.New(accounts.Config{
		Shops: store, Customers: store, Outbox: store, Keys: store, Passwords: authn, Sealer: sealer,
		Sessions: store, Limiter: limiter, Notifier: sender, LinkBase: cfg.Issuer, ReferencePrefix: cfg.Accounts.ReferencePrefix,
		ConfirmKeyTTL: cfg.Accounts.ConfirmTTL, ResetKeyTTL: cfg.Accounts.ResetTTL, Now: now, Logger: logger,
	})
}

// Argon2Params are the configured argon2id costs of new password hashes.
func Argon2Params(l config.Login) customers.Argon2Params {
	return customers.Argon2Params{
		MemoryKiB:   uint32(l.Argon2MemoryKiB),
		Iterations:  uint32(l.Argon2Iterations),
		Parallelism: uint8(l.Argon2Parallelism),
	}
}

// LockoutPolicy is the lockout of docs/design.md with the configured
// threshold.
func LockoutPolicy(l config.Login) storage.LockoutPolicy {
	p := storage.DefaultLockoutPolicy
	p.Threshold = l.LockoutThreshold
	return p
}

// loginRateLimiter is the per-address login limit, or nil when it is off
// (a nil *ratelimit.Limiter must not become a non-nil interface).
func loginRateLimiter(l config.Login, now func() time.Time) (login.RateLimiter, error) {
	if !l.RateLimited() {
		return nil, nil
	}
	return ratelimit.New(ratelimit.Config{PerMinute: l.RatePerMinute, Burst: l.Burst, Now: now})
}

// newShopKeyAPI wires the shopKey dialect: its client, and where anonymous
// carts are handed over (the webhook when SHOPAUTH_SHOPKEY_CART_URL is set,
// the database otherwise).
func newShopKeyAPI(cfg config.Config, store *sqlstore.Store, core *core, logger *slog.Logger) (*shopkey.Handler, error) {
	var backend carts.HandOver
	if cfg.Adapters.ShopKeyCartURL != "" {
		hook, err := carts.NewWebhook(cfg.Adapters.ShopKeyCartURL, carts.WebhookTimeout)
		if err != nil {
			return nil, err
		}
		backend = hook
	} else {
		db, err := carts.NewDatabase(store)
		if err != nil {
			return nil, err
		}
		backend = db
	}
	cartService, err := carts.New(backend, logger)
	if err != nil {
		return nil, err
	}
	return shopkey.New(shopkey.Config{
		Shops: core.shopSessions, Logins: core.tokens, Sessions: core.shopSessions, Carts: cartService,
		ClientID: cfg.Adapters.ShopKeyClientID, Logger: logger,
	})
}

func readiness(store *sqlstore.Store, km *keys.Manager) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			return errors.New("database unreachable")
		}
		if !km.Ready() {
			return fmt.Errorf("no signing key loaded")
		}
		return nil
	}
}
