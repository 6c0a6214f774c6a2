package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvPrefix starts the name of every environment variable Load reads. A
// variable's name is EnvPrefix plus its file key upper-cased.
const EnvPrefix = "SHOPAUTH_"

// Database URL schemes (docs/configuration.md).
const (
	sqliteScheme = "sqlite://"
	mysqlScheme  = "mysql://"
)

// Config is every setting of shopauth (docs/configuration.md), grouped by
// the part of the program that consumes it. Each field's comment names its
// environment variable; the file key is that name lower-cased without
// SHOPAUTH_.
type Config struct {
	// Issuer is the `iss` of every token and the base of the discovery
	// URLs, without a trailing slash. SHOPAUTH_ISSUER.
	Issuer string

	HTTP     HTTP
	Database Database
	Tokens   Tokens
	Keys     Keys
	Login    Login
	Log      Log
	Adapters Adapters
	Accounts Accounts
	Mail     Mail

	// MemoryLimitMiB is the Go runtime's soft memory limit
	// (runtime/debug.SetMemoryLimit) that serve sets: 0 derives it from
	// the hash slots' argon2 memory (app.MemoryLimit); a GOMEMLIMIT
	// variable takes precedence. SHOPAUTH_MEMORY_LIMIT_MIB.
	MemoryLimitMiB int

	// IgnoredVariables are the Kubernetes service-link variables Load found
	// and ignored (SHOPAUTH_SERVICE_HOST, SHOPAUTH_PORT_8080_TCP, …), for
	// the wiring to log at debug level. Not a setting.
	IgnoredVariables []string
}

// HTTP is how the server listens and whom it believes about client addresses.
type HTTP struct {
	// Addr is the listen address, host:port. SHOPAUTH_HTTP_ADDR.
	Addr string
	// AdminAddr, when set, is a second listen address serving only the
	// admin API (/admin/v1, docs/admin.md), which Addr then does not
	// serve. SHOPAUTH_ADMIN_ADDR.
	AdminAddr string
	// TLSCertFile and TLSKeyFile serve HTTPS directly when both are set;
	// with neither, shopauth expects a TLS-terminating proxy in front.
	// SHOPAUTH_TLS_CERT_FILE, SHOPAUTH_TLS_KEY_FILE.
	TLSCertFile string
	TLSKeyFile  string
	// TrustedProxies are CIDRs or single IPs whose X-Forwarded-For is
	// believed; empty means none, so the peer address is the client.
	// SHOPAUTH_TRUSTED_PROXIES (comma-separated; a list in the file).
	TrustedProxies []string
	// RequestTimeout is every request's deadline: a request whose database
	// has not answered by then is refused with 503 and Retry-After.
	// SHOPAUTH_REQUEST_TIMEOUT.
	RequestTimeout time.Duration
}

// TLSEnabled reports whether the server terminates TLS itself.
func (h HTTP) TLSEnabled() bool { return h.TLSCertFile != "" && h.TLSKeyFile != "" }

// Database is where shopauth keeps its data.
type Database struct {
	// URL is sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params.
	// It may hold a password: log it only through Config's LogValue.
	// SHOPAUTH_DATABASE_URL.
	URL string
	// MaxConnections caps the connection pool; 0 picks the dialect's
	// default (4 for SQLite, 16 for MySQL). SHOPAUTH_DATABASE_MAX_CONNECTIONS.
	MaxConnections int
	// StartupTimeout is how long serve waits, retrying with backoff, for a
	// database that cannot answer when it starts (a database started in the
	// same deployment, a failover) before it gives up; 0 gives up at once.
	// SHOPAUTH_DATABASE_STARTUP_TIMEOUT.
	StartupTimeout time.Duration
}

// Tokens are the server-wide token lifetimes; clients may override the TTLs.
type Tokens struct {
	// AccessTokenTTL is the default access-token lifetime.
	// SHOPAUTH_ACCESS_TOKEN_TTL.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the default lifetime of a refresh-token family.
	// SHOPAUTH_REFRESH_TOKEN_TTL.
	RefreshTokenTTL time.Duration
	// RefreshReuseGrace is how long a retry with a just-spent refresh token
	// gets the same successor instead of revoking the family; 0 turns the
	// grace off. SHOPAUTH_REFRESH_REUSE_GRACE.
	RefreshReuseGrace time.Duration
	// RefreshIdleTTL expires a refresh family unused this long; 0 turns it
	// off. SHOPAUTH_REFRESH_IDLE_TTL.
	RefreshIdleTTL time.Duration
}

// Keys governs the signing keys: their encryption at rest and rotation.
type Keys struct {
	// EncryptionKey is base64 of 32 bytes that encrypts private keys at
	// rest, as given (decode with keys.ParseKEK). Empty is allowed only with
	// SQLite: package app then keeps a generated one next to the database
	// file.
	// SHOPAUTH_KEY_ENCRYPTION_KEY.
	EncryptionKey string
	// PreviousEncryptionKey is the key being replaced, read by
	// `keys rekey`. SHOPAUTH_KEY_ENCRYPTION_KEY_OLD.
	PreviousEncryptionKey string
	// RotationPeriod is how often a new signing key is made.
	// SHOPAUTH_KEY_ROTATION_PERIOD.
	RotationPeriod time.Duration
	// PublishAhead is how long a new key is in the JWKS before it signs, so
	// relying parties' JWKS caches know it first. SHOPAUTH_KEY_PUBLISH_AHEAD.
	PublishAhead time.Duration
	// SyncInterval is how often a replica reloads keys from the database.
	// SHOPAUTH_KEY_SYNC_INTERVAL.
	SyncInterval time.Duration
}

// encryptionKeySize is the AES-256 key size the keys package encrypts with.
const encryptionKeySize = 32

// checkEncryptionKey accepts what keys.ParseKEK accepts (package app
// decodes with that): base64 of 32 bytes, standard or URL alphabet, padded or not, since
// operators paste keys from `openssl rand -base64 32` and from secret
// managers that re-encode. The error never echoes the key: it is a secret.
func checkEncryptionKey(s string) error {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		return fmt.Errorf("must be base64 of %d bytes (generate with: openssl rand -base64 32)", encryptionKeySize)
	}
	if len(b) != encryptionKeySize {
		return fmt.Errorf("must be base64 of %d bytes, got %d bytes (generate with: openssl rand -base64 32)", encryptionKeySize, len(b))
	}
	return nil
}

// Login covers every surface where a customer signs in: lockout, rate
// limiting, the password-hashing pool and the hosted login session.
type Login struct {
	// LockoutThreshold is the number of failed logins within 15 minutes
	// that locks an account. SHOPAUTH_LOCKOUT_THRESHOLD.
	LockoutThreshold int
	// RatePerMinute is the sustained login attempts allowed per client IP;
	// 0 turns rate limiting off. SHOPAUTH_LOGIN_RATE_PER_MINUTE.
	RatePerMinute int
	// Burst is how many attempts a client IP may make at once before
	// RatePerMinute applies. SHOPAUTH_LOGIN_BURST.
	Burst int
	// HashConcurrency is how many password hashes are computed at once;
	// 0 means runtime.GOMAXPROCS(0), resolved by the consumer.
	// SHOPAUTH_HASH_CONCURRENCY.
	HashConcurrency int
	// HashQueueTimeout is how long a login waits for a hashing slot before
	// it is refused with 503 and Retry-After. SHOPAUTH_HASH_QUEUE_TIMEOUT.
	HashQueueTimeout time.Duration
	// Argon2MemoryKiB, Argon2Iterations and Argon2Parallelism are the
	// argon2id cost of new password hashes (OWASP's baseline by default:
	// 19456 KiB, 2, 1). Stored hashes with weaker parameters are upgraded
	// on the next successful login. SHOPAUTH_ARGON2_MEMORY_KIB,
	// SHOPAUTH_ARGON2_ITERATIONS, SHOPAUTH_ARGON2_PARALLELISM.
	Argon2MemoryKiB   int
	Argon2Iterations  int
	Argon2Parallelism int
	// SessionTTL is the lifetime of the hosted login page's browser session.
	// SHOPAUTH_SESSION_TTL.
	SessionTTL time.Duration
}

// RateLimited reports whether login attempts are rate limited per client IP.
func (l Login) RateLimited() bool { return l.RatePerMinute > 0 }

// Log is slog's output.
type Log struct {
	// Format is "json" or "text" (lower-cased at load). SHOPAUTH_LOG_FORMAT.
	Format string
	// Level is "debug", "info", "warn" or "error" (lower-cased at load).
	// SHOPAUTH_LOG_LEVEL.
	Level string
}

// SlogLevel returns Level as a slog.Level; an invalid level, which Validate
// rejects, reads as info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Adapters configures the legacy dialects (web/spryker, web/shopkey): which
// shop and client each one signs customers in through.
type Adapters struct {
	// SprykerShop is the shop behind /access-tokens. SHOPAUTH_SPRYKER_SHOP.
	SprykerShop string
	// SprykerClientID is the client the Spryker Glue dialect uses.
	// SHOPAUTH_SPRYKER_CLIENT.
	SprykerClientID string
	// ShopKeyClientID is the client behind /api/v1/{shopKey}/….
	// SHOPAUTH_SHOPKEY_CLIENT.
	ShopKeyClientID string
	// ShopKeyCartURL, when set, is the webhook anonymous carts are handed
	// over through instead of the database. SHOPAUTH_SHOPKEY_CART_URL.
	ShopKeyCartURL string
}

// Accounts governs customers' own accounts (docs/accounts.md): the keys
// mailed to them and how often one address may ask.
type Accounts struct {
	// ConfirmTTL is how long a registration's confirmation link works.
	// SHOPAUTH_ACCOUNT_CONFIRM_TTL.
	ConfirmTTL time.Duration
	// ResetTTL is how long a password-reset link works.
	// SHOPAUTH_ACCOUNT_RESET_TTL.
	ResetTTL time.Duration
	// RatePerMinute and Burst limit account requests (register, confirm,
	// forgot, reset, change) per client IP; 0 turns the limit off.
	// SHOPAUTH_ACCOUNT_RATE_PER_MINUTE, SHOPAUTH_ACCOUNT_BURST.
	RatePerMinute int
	Burst         int
	// ReferencePrefix starts a registered customer's reference
	// ("DE" → "DE--25"). SHOPAUTH_CUSTOMER_REFERENCE_PREFIX.
	ReferencePrefix string
}

// RateLimited reports whether account requests are rate limited per IP.
func (a Accounts) RateLimited() bool { return a.RatePerMinute > 0 }

// Mail is how mails to customers are delivered.
type Mail struct {
	// SMTPURL is smtp://user:pass@host:port (STARTTLS when offered) or
	// smtps://user:pass@host:port (implicit TLS); empty means no SMTP
	// server: mails wait in the outbox (with --demo, their links are
	// logged). It may hold a password: log it only through LogValue.
	// SHOPAUTH_SMTP_URL.
	SMTPURL string
	// From is the sender address, e.g. "ACME Shop <shop@acme.example>".
	// SHOPAUTH_MAIL_FROM.
	From string
	// MaxAttempts bounds the deliveries of one mail before it is given up.
	// SHOPAUTH_MAIL_MAX_ATTEMPTS.
	MaxAttempts int
}

// Defaults returns the settings used where neither the file nor the
// environment says otherwise (docs/configuration.md).
func Defaults() Config {
	return Config{
		Issuer: "http://localhost:8080",
		HTTP: HTTP{
			Addr:           ":8080",
			RequestTimeout: 5 * time.Second,
		},
		Database: Database{
			URL:            "sqlite://shopauth.db",
			StartupTimeout: 5 * time.Minute,
		},
		Tokens: Tokens{
			AccessTokenTTL:    time.Hour,
			RefreshTokenTTL:   720 * time.Hour,
			RefreshReuseGrace: 10 * time.Second,
			RefreshIdleTTL:    0,
		},
		Keys: Keys{
			RotationPeriod: 720 * time.Hour,
			PublishAhead:   time.Hour,
			SyncInterval:   time.Minute,
		},
		Login: Login{
			LockoutThreshold:  5,
			RatePerMinute:     20,
			Burst:             10,
			HashConcurrency:   0,
			HashQueueTimeout:  2 * time.Second,
			Argon2MemoryKiB:   19456,
			Argon2Iterations:  2,
			Argon2Parallelism: 1,
			SessionTTL:        24 * time.Hour,
		},
		Log: Log{
			Format: "json",
			Level:  "info",
		},
		Adapters: Adapters{
			SprykerShop:     "acme12aa",
			SprykerClientID: "spryker-glue",
			ShopKeyClientID: "shopkey-storefront",
		},
		Accounts: Accounts{
			ConfirmTTL:      72 * time.Hour,
			ResetTTL:        time.Hour,
			RatePerMinute:   10,
			Burst:           5,
			ReferencePrefix: "DE",
		},
		Mail: Mail{
			MaxAttempts: 8,
		},
	}
}

// DatabaseIsSQLite reports whether the database URL names SQLite.
func (c Config) DatabaseIsSQLite() bool {
	return strings.HasPrefix(c.Database.URL, sqliteScheme)
}

// DatabaseIsMySQL reports whether the database URL names MySQL or MariaDB.
func (c Config) DatabaseIsMySQL() bool {
	return strings.HasPrefix(c.Database.URL, mysqlScheme)
}

// SQLitePath is the file path of a sqlite:// URL, as given (relative paths
// are relative to the working directory; sqlite:///var/x.db is absolute),
// without the URL's query, which tunes the connection, not which file. It
// is empty for other databases.
func (c Config) SQLitePath() string {
	if !c.DatabaseIsSQLite() {
		return ""
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(c.Database.URL, sqliteScheme), "?")
	return path
}

// MySQLDSN is the go-sql-driver DSN of a mysql:// URL (the URL without its
// scheme). It is empty for other databases.
func (c Config) MySQLDSN() string {
	if !c.DatabaseIsMySQL() {
		return ""
	}
	return strings.TrimPrefix(c.Database.URL, mysqlScheme)
}

// LogValue lets the CLI log the effective configuration without leaking
// secrets: the encryption keys show only whether they are set, and the
// database password is masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("issuer", c.Issuer),
		slog.String("http_addr", c.HTTP.Addr),
		slog.String("tls_cert_file", c.HTTP.TLSCertFile),
		slog.String("tls_key_file", c.HTTP.TLSKeyFile),
		slog.Any("trusted_proxies", c.HTTP.TrustedProxies),
		slog.Duration("request_timeout", c.HTTP.RequestTimeout),
		slog.String("database_url", redactDatabaseURL(c.Database.URL)),
		slog.Int("database_max_connections", c.Database.MaxConnections),
		slog.Duration("database_startup_timeout", c.Database.StartupTimeout),
		slog.Duration("access_token_ttl", c.Tokens.AccessTokenTTL),
		slog.Duration("refresh_token_ttl", c.Tokens.RefreshTokenTTL),
		slog.Duration("refresh_reuse_grace", c.Tokens.RefreshReuseGrace),
		slog.Duration("refresh_idle_ttl", c.Tokens.RefreshIdleTTL),
		slog.Bool("key_encryption_key_set", c.Keys.EncryptionKey != ""),
		slog.Bool("key_encryption_key_old_set", c.Keys.PreviousEncryptionKey != ""),
		slog.Duration("key_rotation_period", c.Keys.RotationPeriod),
		slog.Duration("key_publish_ahead", c.Keys.PublishAhead),
		slog.Duration("key_sync_interval", c.Keys.SyncInterval),
		slog.Int("lockout_threshold", c.Login.LockoutThreshold),
		slog.Int("login_rate_per_minute", c.Login.RatePerMinute),
		slog.Int("login_burst", c.Login.Burst),
		slog.Int("memory_limit_mib", c.MemoryLimitMiB),
		slog.Int("hash_concurrency", c.Login.HashConcurrency),
		slog.Duration("hash_queue_timeout", c.Login.HashQueueTimeout),
		slog.Int("argon2_memory_kib", c.Login.Argon2MemoryKiB),
		slog.Int("argon2_iterations", c.Login.Argon2Iterations),
		slog.Int("argon2_parallelism", c.Login.Argon2Parallelism),
		slog.Duration("session_ttl", c.Login.SessionTTL),
		slog.String("log_format", c.Log.Format),
		slog.String("log_level", c.Log.Level),
		slog.String("spryker_shop", c.Adapters.SprykerShop),
		slog.String("spryker_client", c.Adapters.SprykerClientID),
		slog.String("shopkey_client", c.Adapters.ShopKeyClientID),
		slog.String("shopkey_cart_url", c.Adapters.ShopKeyCartURL),
		slog.Duration("account_confirm_ttl", c.Accounts.ConfirmTTL),
		slog.Duration("account_reset_ttl", c.Accounts.ResetTTL),
		slog.Int("account_rate_per_minute", c.Accounts.RatePerMinute),
		slog.Int("account_burst", c.Accounts.Burst),
		slog.String("customer_reference_prefix", c.Accounts.ReferencePrefix),
		slog.String("smtp_url", redactSMTPURL(c.Mail.SMTPURL)),
		slog.String("mail_from", c.Mail.From),
		slog.Int("mail_max_attempts", c.Mail.MaxAttempts),
	)
}

// redactDatabaseURL masks a MySQL password. A URL that does not parse is
// hidden whole, since where the password ends is then unknown.
func redactDatabaseURL(u string) string {
	if !strings.HasPrefix(u, mysqlScheme) {
		return u
	}
	dsn, err := mysql.ParseDSN(strings.TrimPrefix(u, mysqlScheme))
	if err != nil {
		return mysqlScheme + "(unparsable, hidden)"
	}
	if dsn.Passwd != "" {
		dsn.Passwd = "xxxxx"
	}
	return mysqlScheme + dsn.FormatDSN()
}

// redactSMTPURL masks the password of an SMTP URL; one that does not parse
// is hidden whole.
func redactSMTPURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable, hidden)"
	}
	return u.Redacted()
}
