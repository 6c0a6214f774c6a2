package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaultsAreValid(t *testing.T) {
	require.NoError(t, Defaults().Validate())
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // "" means valid; otherwise the whole, single error
	}{
		// Issuer.
		{"https issuer", func(c *Config) { c.Issuer = "https://auth.example.com" }, ""},
		{"issuer with path", func(c *Config) { c.Issuer = "https://example.com/auth" }, ""},
		{"relative issuer", func(c *Config) { c.Issuer = "auth.example.com" }, `SHOPAUTH_ISSUER: must be an absolute http(s) URL with a host, got "auth.example.com"`},
		{"issuer without host", func(c *Config) { c.Issuer = "https://" }, `SHOPAUTH_ISSUER: must be an absolute http(s) URL with a host, got "https://"`},
		{"ftp issuer", func(c *Config) { c.Issuer = "ftp://auth.example.com" }, `SHOPAUTH_ISSUER: must be an absolute http(s) URL with a host, got "ftp://auth.example.com"`},
		{"issuer with query", func(c *Config) { c.Issuer = "https://auth.example.com?a=1" }, `SHOPAUTH_ISSUER: must have no query or fragment, got "https://auth.example.com?a=1"`},
		{"issuer with empty query", func(c *Config) { c.Issuer = "https://auth.example.com?" }, `SHOPAUTH_ISSUER: must have no query or fragment, got "https://auth.example.com?"`},
		{"issuer with fragment", func(c *Config) { c.Issuer = "https://auth.example.com#x" }, `SHOPAUTH_ISSUER: must have no query or fragment, got "https://auth.example.com#x"`},
		{"issuer with user info", func(c *Config) { c.Issuer = "https://u:secret@auth.example.com" }, `SHOPAUTH_ISSUER: must have no user info, got "https://u:xxxxx@auth.example.com"`},
		{"empty issuer", func(c *Config) { c.Issuer = "" }, `SHOPAUTH_ISSUER: must be an absolute http(s) URL with a host, got ""`},

		// Accounts and mail.
		{"SMTP with STARTTLS", func(c *Config) { c.Mail.SMTPURL, c.Mail.From = "smtp://u:p@mail.example:587", "shop@acme.example" }, ""},
		{"SMTPS without port", func(c *Config) { c.Mail.SMTPURL, c.Mail.From = "smtps://mail.example", "ACME <shop@acme.example>" }, ""},
		{"SMTP over http", func(c *Config) { c.Mail.SMTPURL, c.Mail.From = "http://u:secret@mail.example", "shop@acme.example" },
			"SHOPAUTH_SMTP_URL: must be smtp://user:pass@host:port (STARTTLS when offered) or smtps://user:pass@host:port (implicit TLS)"},
		{"SMTP with a path", func(c *Config) { c.Mail.SMTPURL, c.Mail.From = "smtp://mail.example/x", "shop@acme.example" },
			"SHOPAUTH_SMTP_URL: must be smtp://user:pass@host:port (STARTTLS when offered) or smtps://user:pass@host:port (implicit TLS): no path, query or fragment"},
		{"SMTP with a bad port", func(c *Config) { c.Mail.SMTPURL, c.Mail.From = "smtp://mail.example:99999", "shop@acme.example" },
			`SHOPAUTH_SMTP_URL: must be smtp://user:pass@host:port (STARTTLS when offered) or smtps://user:pass@host:port (implicit TLS): port "99999" is not a port`},
		{"SMTP without a sender", func(c *Config) { c.Mail.SMTPURL = "smtp://mail.example" },
			"SHOPAUTH_MAIL_FROM: must be set together with SHOPAUTH_SMTP_URL (the sender of customers' mails)"},
		{"sender not an address", func(c *Config) { c.Mail.From = "shop at acme" },
			`SHOPAUTH_MAIL_FROM: must be an address such as "ACME Shop <shop@acme.example>", got "shop at acme"`},
		{"no mail attempts", func(c *Config) { c.Mail.MaxAttempts = 0 }, "SHOPAUTH_MAIL_MAX_ATTEMPTS: must be 1 to 100, got 0"},
		{"confirmation links that never work", func(c *Config) { c.Accounts.ConfirmTTL = 0 }, `SHOPAUTH_ACCOUNT_CONFIRM_TTL: must be a positive duration, got "0s"`},
		{"reset links that never work", func(c *Config) { c.Accounts.ResetTTL = -time.Minute }, `SHOPAUTH_ACCOUNT_RESET_TTL: must be a positive duration, got "-1m0s"`},
		{"account limit off", func(c *Config) { c.Accounts.RatePerMinute, c.Accounts.Burst = 0, 0 }, ""},
		{"account limit admitting nothing", func(c *Config) { c.Accounts.Burst = 0 }, "SHOPAUTH_ACCOUNT_BURST: must be at least 1 while SHOPAUTH_ACCOUNT_RATE_PER_MINUTE is above 0, got 0"},
		{"negative account rate", func(c *Config) { c.Accounts.RatePerMinute = -1 }, "SHOPAUTH_ACCOUNT_RATE_PER_MINUTE: must be 0 (off) or more, got -1"},
		{"reference prefix with a slash", func(c *Config) { c.Accounts.ReferencePrefix = "DE/" }, `SHOPAUTH_CUSTOMER_REFERENCE_PREFIX: must be 1 to 16 characters without spaces, /, ?, # or %, got "DE/"`},
		{"empty reference prefix", func(c *Config) { c.Accounts.ReferencePrefix = "" }, `SHOPAUTH_CUSTOMER_REFERENCE_PREFIX: must be 1 to 16 characters without spaces, /, ?, # or %, got ""`},

		// HTTP.
		{"listen on all interfaces", func(c *Config) { c.HTTP.Addr = "0.0.0.0:8080" }, ""},
		{"listen address without port", func(c *Config) { c.HTTP.Addr = "localhost" }, `SHOPAUTH_HTTP_ADDR: must be HOST:PORT such as :8080, got "localhost"`},
		{"TLS cert and key", func(c *Config) { c.HTTP.TLSCertFile, c.HTTP.TLSKeyFile = "c.pem", "k.pem" }, ""},
		{"TLS cert alone", func(c *Config) { c.HTTP.TLSCertFile = "c.pem" }, "SHOPAUTH_TLS_KEY_FILE: must be set together with SHOPAUTH_TLS_CERT_FILE"},
		{"TLS key alone", func(c *Config) { c.HTTP.TLSKeyFile = "k.pem" }, "SHOPAUTH_TLS_CERT_FILE: must be set together with SHOPAUTH_TLS_KEY_FILE"},
		{"trusted CIDRs and IPs", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "fd00::/8", "127.0.0.1", "::1"} }, ""},
		{"trusted proxy not an address", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"} }, `SHOPAUTH_TRUSTED_PROXIES: "proxy.local" is neither a CIDR nor an IP address`},
		{"trusted proxy bad mask", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/33"} }, `SHOPAUTH_TRUSTED_PROXIES: "10.0.0.0/33" is neither a CIDR nor an IP address`},

		// Database and the key encryption key.
		{"absolute SQLite path", func(c *Config) { c.Database.URL = "sqlite:///var/lib/shopauth/shopauth.db" }, ""},
		{"SQLite without path", func(c *Config) { c.Database.URL = "sqlite://" }, "SHOPAUTH_DATABASE_URL: must be sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params: the SQLite file path is missing"},
		{"postgres", func(c *Config) { c.Database.URL = "postgres://u:secret@db/shopauth" }, "SHOPAUTH_DATABASE_URL: must be sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params"},
		{"bare DSN", func(c *Config) { c.Database.URL = "u:secret@tcp(db:3306)/shopauth" }, "SHOPAUTH_DATABASE_URL: must be sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params"},
		{"MySQL with key", func(c *Config) {
			c.Database.URL = "mysql://shopauth:secret@tcp(mysql:3306)/shopauth?parseTime=true&loc=UTC&charset=utf8mb4"
			c.Keys.EncryptionKey = testKEK
		}, ""},
		{"MySQL without key", func(c *Config) { c.Database.URL = "mysql://u:secret@tcp(db:3306)/shopauth" }, "SHOPAUTH_KEY_ENCRYPTION_KEY: required with a MySQL database (generate with: openssl rand -base64 32)"},
		{"MySQL without database name", func(c *Config) {
			c.Database.URL = "mysql://u:secret@tcp(db:3306)/"
			c.Keys.EncryptionKey = testKEK
		}, "SHOPAUTH_DATABASE_URL: must be sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params: the database name is missing"},
		{"MySQL DSN that does not parse", func(c *Config) {
			c.Database.URL = "mysql://u:secret@db:3306"
			c.Keys.EncryptionKey = testKEK
		}, "SHOPAUTH_DATABASE_URL: must be sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params: invalid DSN"},
		{"SQLite with key", func(c *Config) { c.Keys.EncryptionKey = testKEK }, ""},
		{"key not base64", func(c *Config) { c.Keys.EncryptionKey = "not base64!" }, "SHOPAUTH_KEY_ENCRYPTION_KEY: must be base64 of 32 bytes (generate with: openssl rand -base64 32)"},
		{"key of 16 bytes", func(c *Config) { c.Keys.EncryptionKey = "AAECAwQFBgcICQoLDA0ODw==" }, "SHOPAUTH_KEY_ENCRYPTION_KEY: must be base64 of 32 bytes, got 16 bytes (generate with: openssl rand -base64 32)"},
		{"old key of 16 bytes", func(c *Config) { c.Keys.PreviousEncryptionKey = "AAECAwQFBgcICQoLDA0ODw==" }, "SHOPAUTH_KEY_ENCRYPTION_KEY_OLD: must be base64 of 32 bytes, got 16 bytes (generate with: openssl rand -base64 32)"},

		// Durations.
		{"access TTL zero", func(c *Config) { c.Tokens.AccessTokenTTL = 0 }, `SHOPAUTH_ACCESS_TOKEN_TTL: must be a positive duration, got "0s"`},
		{"access TTL negative", func(c *Config) { c.Tokens.AccessTokenTTL = -time.Second }, `SHOPAUTH_ACCESS_TOKEN_TTL: must be a positive duration, got "-1s"`},
		{"refresh TTL zero", func(c *Config) { c.Tokens.RefreshTokenTTL = 0 }, `SHOPAUTH_REFRESH_TOKEN_TTL: must be a positive duration, got "0s"`},
		{"reuse grace off", func(c *Config) { c.Tokens.RefreshReuseGrace = 0 }, ""},
		{"reuse grace negative", func(c *Config) { c.Tokens.RefreshReuseGrace = -time.Second }, `SHOPAUTH_REFRESH_REUSE_GRACE: must be 0 (off) or a positive duration, got "-1s"`},
		{"idle TTL on", func(c *Config) { c.Tokens.RefreshIdleTTL = 24 * time.Hour }, ""},
		{"idle TTL negative", func(c *Config) { c.Tokens.RefreshIdleTTL = -time.Minute }, `SHOPAUTH_REFRESH_IDLE_TTL: must be 0 (off) or a positive duration, got "-1m0s"`},
		{"rotation period zero", func(c *Config) { c.Keys.RotationPeriod = 0 }, `SHOPAUTH_KEY_ROTATION_PERIOD: must be a positive duration, got "0s"`},
		{"publish ahead zero", func(c *Config) { c.Keys.PublishAhead = 0 }, ""},
		{"publish ahead not shorter than the period", func(c *Config) { c.Keys.PublishAhead = c.Keys.RotationPeriod },
			`SHOPAUTH_KEY_PUBLISH_AHEAD: must be shorter than SHOPAUTH_KEY_ROTATION_PERIOD (720h0m0s)`},
		{"publish ahead negative", func(c *Config) { c.Keys.PublishAhead = -time.Hour }, `SHOPAUTH_KEY_PUBLISH_AHEAD: must be 0 (off) or a positive duration, got "-1h0m0s"`},
		{"sync interval zero", func(c *Config) { c.Keys.SyncInterval = 0 }, `SHOPAUTH_KEY_SYNC_INTERVAL: must be a positive duration, got "0s"`},
		{"session TTL zero", func(c *Config) { c.Login.SessionTTL = 0 }, `SHOPAUTH_SESSION_TTL: must be a positive duration, got "0s"`},

		// Login.
		{"lockout after one failure", func(c *Config) { c.Login.LockoutThreshold = 1 }, ""},
		{"lockout threshold zero", func(c *Config) { c.Login.LockoutThreshold = 0 }, "SHOPAUTH_LOCKOUT_THRESHOLD: must be at least 1, got 0"},
		{"rate limiting off", func(c *Config) { c.Login.RatePerMinute, c.Login.Burst = 0, 0 }, ""},
		{"rate negative", func(c *Config) { c.Login.RatePerMinute = -1 }, "SHOPAUTH_LOGIN_RATE_PER_MINUTE: must be 0 (off) or more, got -1"},
		{"pool negative", func(c *Config) { c.Database.MaxConnections = -1 }, "SHOPAUTH_DATABASE_MAX_CONNECTIONS: must be 0 (the dialect's default) to 1000, got -1"},
		{"memory limit too small", func(c *Config) { c.MemoryLimitMiB = 8 }, "SHOPAUTH_MEMORY_LIMIT_MIB: must be 0 (derived) or 16 to 1048576, got 8"},
		{"memory limit negative", func(c *Config) { c.MemoryLimitMiB = -1 }, "SHOPAUTH_MEMORY_LIMIT_MIB: must be 0 (derived) or 16 to 1048576, got -1"},
		{"hash queue timeout zero", func(c *Config) { c.Login.HashQueueTimeout = 0 }, `SHOPAUTH_HASH_QUEUE_TIMEOUT: must be a positive duration up to 1m, got "0s"`},
		{"request timeout zero", func(c *Config) { c.HTTP.RequestTimeout = 0 }, `SHOPAUTH_REQUEST_TIMEOUT: must be a positive duration up to 5m, got "0s"`},
		{"request timeout not above the hash queue's", func(c *Config) { c.HTTP.RequestTimeout = 2 * time.Second },
			`SHOPAUTH_REQUEST_TIMEOUT: must be longer than SHOPAUTH_HASH_QUEUE_TIMEOUT (2s), got "2s"`},
		{"request timeout longer", func(c *Config) { c.HTTP.RequestTimeout = 30 * time.Second }, ""},
		{"no wait for the database at start-up", func(c *Config) { c.Database.StartupTimeout = 0 }, ""},
		{"startup timeout negative", func(c *Config) { c.Database.StartupTimeout = -time.Second }, `SHOPAUTH_DATABASE_STARTUP_TIMEOUT: must be 0 (off) or a positive duration, got "-1s"`},
		{"burst negative", func(c *Config) { c.Login.Burst = -1 }, "SHOPAUTH_LOGIN_BURST: must be 0 or more, got -1"},
		{"burst zero with a rate", func(c *Config) { c.Login.Burst = 0 }, "SHOPAUTH_LOGIN_BURST: must be at least 1 while SHOPAUTH_LOGIN_RATE_PER_MINUTE is above 0, got 0"},
		{"hash concurrency explicit", func(c *Config) { c.Login.HashConcurrency = 8 }, ""},
		{"hash concurrency negative", func(c *Config) { c.Login.HashConcurrency = -2 }, "SHOPAUTH_HASH_CONCURRENCY: must be 0 (GOMAXPROCS) or more, got -2"},
		{"argon2 stronger", func(c *Config) {
			c.Login.Argon2MemoryKiB, c.Login.Argon2Iterations, c.Login.Argon2Parallelism = 65536, 3, 4
		}, ""},
		{"argon2 memory below 8 KiB a lane", func(c *Config) { c.Login.Argon2MemoryKiB, c.Login.Argon2Parallelism = 16, 4 }, "SHOPAUTH_ARGON2_MEMORY_KIB: must be 8 KiB per lane (32) to 2097152, got 16"},
		{"argon2 memory above what is read back", func(c *Config) { c.Login.Argon2MemoryKiB = 1<<21 + 1 }, "SHOPAUTH_ARGON2_MEMORY_KIB: must be 8 KiB per lane (8) to 2097152, got 2097153"},
		{"argon2 iterations zero", func(c *Config) { c.Login.Argon2Iterations = 0 }, "SHOPAUTH_ARGON2_ITERATIONS: must be 1 to 64, got 0"},
		{"argon2 parallelism zero", func(c *Config) { c.Login.Argon2Parallelism = 0 }, "SHOPAUTH_ARGON2_PARALLELISM: must be 1 to 255, got 0"},

		// Log.
		{"text logs", func(c *Config) { c.Log.Format, c.Log.Level = "text", "debug" }, ""},
		{"log format", func(c *Config) { c.Log.Format = "logfmt" }, `SHOPAUTH_LOG_FORMAT: must be json or text, got "logfmt"`},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, `SHOPAUTH_LOG_LEVEL: must be debug, info, warn or error, got "verbose"`},

		// Adapters.
		{"no Spryker shop", func(c *Config) { c.Adapters.SprykerShop = "" }, "SHOPAUTH_SPRYKER_SHOP: must not be empty"},
		{"no Spryker client", func(c *Config) { c.Adapters.SprykerClientID = "" }, "SHOPAUTH_SPRYKER_CLIENT: must not be empty"},
		{"no shopKey client", func(c *Config) { c.Adapters.ShopKeyClientID = "" }, "SHOPAUTH_SHOPKEY_CLIENT: must not be empty"},
		{"cart webhook", func(c *Config) { c.Adapters.ShopKeyCartURL = "https://carts.example.com/hook?token=abc" }, `SHOPAUTH_SHOPKEY_CART_URL: must have no query or fragment, got "https://carts.example.com/hook?token=abc"`},
		{"cart webhook relative", func(c *Config) { c.Adapters.ShopKeyCartURL = "/hook" }, `SHOPAUTH_SHOPKEY_CART_URL: must be an absolute http(s) URL with a host, got "/hook"`},
		{"cart webhook valid", func(c *Config) { c.Adapters.ShopKeyCartURL = "http://carts:9000/hook" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Len(t, unjoin(err), 1, "exactly one problem expected, got: %v", err)
			require.True(t, strings.HasPrefix(err.Error(), tt.want), "got %q, want prefix %q", err.Error(), tt.want)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Defaults()
	c.Issuer = "https://auth.example.com?x"
	c.Database.URL = "mysql://u:topsecret@tcp(db:3306)/shopauth"
	c.Tokens.AccessTokenTTL = -time.Second
	c.Login.LockoutThreshold = 0
	c.Log.Level = "loud"
	c.HTTP.TLSCertFile = "c.pem"

	err := c.Validate()
	require.Error(t, err)
	require.Len(t, unjoin(err), 6)
	for _, want := range []string{
		"SHOPAUTH_ISSUER:",
		"SHOPAUTH_KEY_ENCRYPTION_KEY: required with a MySQL database",
		`SHOPAUTH_ACCESS_TOKEN_TTL: must be a positive duration, got "-1s"`,
		"SHOPAUTH_LOCKOUT_THRESHOLD:",
		"SHOPAUTH_LOG_LEVEL:",
		"SHOPAUTH_TLS_KEY_FILE:",
	} {
		require.Contains(t, err.Error(), want)
	}
	require.NotContains(t, err.Error(), "topsecret")
}

func TestValidateNeverEchoesSecrets(t *testing.T) {
	c := Defaults()
	c.Database.URL = "mysql://u:topsecret@db:3306/shopauth" // no tcp(): does not parse
	c.Keys.EncryptionKey = "topsecret"
	c.Keys.PreviousEncryptionKey = "topsecret=="
	c.Mail.SMTPURL = "http://u:topsecret@mail.example"
	err := c.Validate()
	require.Error(t, err)
	require.Len(t, unjoin(err), 5) // the SMTP URL, and the sender it needs
	require.NotContains(t, err.Error(), "topsecret")
}

func TestLoadThenValidate(t *testing.T) {
	// The way the CLI uses the package: malformed input stops Load, and
	// values that parse but cannot work stop Validate.
	c, err := Load("", []string{"SHOPAUTH_ACCESS_TOKEN_TTL=-1s", "SHOPAUTH_LOCKOUT_THRESHOLD=0"})
	require.NoError(t, err)
	err = c.Validate()
	require.ErrorContains(t, err, `SHOPAUTH_ACCESS_TOKEN_TTL: must be a positive duration, got "-1s"`)
	require.ErrorContains(t, err, "SHOPAUTH_LOCKOUT_THRESHOLD: must be at least 1, got 0")
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string // substrings, one per expected warning
	}{
		{"defaults", func(c *Config) {}, nil},
		{"https issuer", func(c *Config) { c.Issuer = "https://auth.example.com" }, nil},
		{"http on 127.0.0.1", func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }, nil},
		{"http on ::1", func(c *Config) { c.Issuer = "http://[::1]:8080" }, nil},
		{"http on a .localhost name", func(c *Config) { c.Issuer = "http://shop.localhost" }, nil},
		{"http on a public host", func(c *Config) { c.Issuer = "http://auth.example.com" }, []string{"SHOPAUTH_ISSUER:", "OIDC requires https"}},
		{"invalid issuer gets no warning", func(c *Config) { c.Issuer = "::" }, nil},
		{"publish ahead shorter than sync", func(c *Config) { c.Keys.PublishAhead = 30 * time.Second }, []string{"SHOPAUTH_KEY_PUBLISH_AHEAD (30s) is shorter than SHOPAUTH_KEY_SYNC_INTERVAL (1m0s)"}},
		{"idle TTL longer than refresh TTL", func(c *Config) { c.Tokens.RefreshIdleTTL = 1000 * time.Hour }, []string{"SHOPAUTH_REFRESH_IDLE_TTL (1000h0m0s) is not shorter than SHOPAUTH_REFRESH_TOKEN_TTL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.change(&c)
			got := c.Warnings()
			if tt.want == nil {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			for _, w := range tt.want {
				require.Contains(t, got[0], w)
			}
		})
	}
}

// unjoin returns the problems inside an errors.Join error.
func unjoin(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}
