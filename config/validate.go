package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Validate reports every setting that cannot work, all at once (joined with
// errors.Join), each prefixed with the variable that sets it so an operator
// fixes everything in one go. Messages never echo a secret.
func (c Config) Validate() error {
	var v validation

	if err := checkHTTPURL(c.Issuer); err != nil {
		v.add("issuer", "%v", err)
	}

	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		v.add("http_addr", "must be HOST:PORT such as :8080, got %q", c.HTTP.Addr)
	}
	if c.HTTP.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.AdminAddr); err != nil {
			v.add("admin_addr", "must be HOST:PORT such as 127.0.0.1:8081, got %q", c.HTTP.AdminAddr)
		} else if c.HTTP.AdminAddr == c.HTTP.Addr {
			v.add("admin_addr", "must differ from %s", envName("http_addr"))
		}
	}
	switch {
	case c.HTTP.TLSCertFile != "" && c.HTTP.TLSKeyFile == "":
		v.add("tls_key_file", "must be set together with %s", envName("tls_cert_file"))
	case c.HTTP.TLSCertFile == "" && c.HTTP.TLSKeyFile != "":
		v.add("tls_cert_file", "must be set together with %s", envName("tls_key_file"))
	}
	for _, p := range c.HTTP.TrustedProxies {
		if !validProxy(p) {
			v.add("trusted_proxies", "%q is neither a CIDR nor an IP address", p)
		}
	}

	c.validateDatabase(&v)
	if c.Keys.EncryptionKey != "" {
		if err := checkEncryptionKey(c.Keys.EncryptionKey); err != nil {
			v.add("key_encryption_key", "%v", err)
		}
	} else if c.DatabaseIsMySQL() {
		// With SQLite a missing key is generated next to the database file;
		// replicas sharing MySQL have no shared place to put one.
		v.add("key_encryption_key", "required with a MySQL database (generate with: openssl rand -base64 32)")
	}
	if c.Keys.PreviousEncryptionKey != "" {
		if err := checkEncryptionKey(c.Keys.PreviousEncryptionKey); err != nil {
			v.add("key_encryption_key_old", "%v", err)
		}
	}

	v.positive("access_token_ttl", c.Tokens.AccessTokenTTL)
	v.positive("refresh_token_ttl", c.Tokens.RefreshTokenTTL)
	v.notNegative("refresh_reuse_grace", c.Tokens.RefreshReuseGrace)
	v.notNegative("refresh_idle_ttl", c.Tokens.RefreshIdleTTL)
	v.positive("key_rotation_period", c.Keys.RotationPeriod)
	v.notNegative("key_publish_ahead", c.Keys.PublishAhead)
	v.positive("key_sync_interval", c.Keys.SyncInterval)
	if c.Keys.RotationPeriod > 0 && c.Keys.PublishAhead >= c.Keys.RotationPeriod {
		v.add("key_publish_ahead", "must be shorter than %s (%s): each key is published ahead within the period of the one before",
			envName("key_rotation_period"), c.Keys.RotationPeriod)
	}
	v.positive("session_ttl", c.Login.SessionTTL)

	if c.Login.LockoutThreshold < 1 {
		v.add("lockout_threshold", "must be at least 1, got %d", c.Login.LockoutThreshold)
	}
	v.rateLimit("login_rate_per_minute", "login_burst", c.Login.RatePerMinute, c.Login.Burst)
	if n := c.Database.MaxConnections; n < 0 || n > 1000 {
		v.add("database_max_connections", "must be 0 (the dialect's default) to 1000, got %d", n)
	}
	if n := c.MemoryLimitMiB; n < 0 || (n > 0 && n < 16) || n > 1<<20 {
		v.add("memory_limit_mib", "must be 0 (derived) or 16 to 1048576, got %d", n)
	}
	if c.Login.HashConcurrency < 0 {
		v.add("hash_concurrency", "must be 0 (GOMAXPROCS) or more, got %d", c.Login.HashConcurrency)
	}
	if t := c.Login.HashQueueTimeout; t <= 0 || t > time.Minute {
		v.add("hash_queue_timeout", "must be a positive duration up to 1m, got %q", t.String())
	}
	switch t := c.HTTP.RequestTimeout; {
	case t <= 0 || t > 5*time.Minute:
		v.add("request_timeout", "must be a positive duration up to 5m, got %q", t.String())
	case t <= c.Login.HashQueueTimeout:
		// A login that waited the whole queue time must still have time
		// for its hash and its writes.
		v.add("request_timeout", "must be longer than %s (%s), got %q", envName("hash_queue_timeout"), c.Login.HashQueueTimeout, t.String())
	}
	v.notNegative("database_startup_timeout", c.Database.StartupTimeout)
	// The upper bounds are those the verifier accepts from a stored hash, so
	// every hash written can be read back; argon2 needs 8 KiB per lane.
	if p := c.Login.Argon2Parallelism; p < 1 || p > 255 {
		v.add("argon2_parallelism", "must be 1 to 255, got %d", p)
	}
	if m := c.Login.Argon2MemoryKiB; m < 8*max(1, c.Login.Argon2Parallelism) || m > 1<<21 {
		v.add("argon2_memory_kib", "must be 8 KiB per lane (%d) to 2097152, got %d", 8*max(1, c.Login.Argon2Parallelism), m)
	}
	if t := c.Login.Argon2Iterations; t < 1 || t > 64 {
		v.add("argon2_iterations", "must be 1 to 64, got %d", t)
	}

	if c.Log.Format != "json" && c.Log.Format != "text" {
		v.add("log_format", "must be json or text, got %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log_level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}

	v.notEmpty("spryker_shop", c.Adapters.SprykerShop)
	v.notEmpty("spryker_client", c.Adapters.SprykerClientID)
	v.notEmpty("shopkey_client", c.Adapters.ShopKeyClientID)
	if c.Adapters.ShopKeyCartURL != "" {
		if err := checkHTTPURL(c.Adapters.ShopKeyCartURL); err != nil {
			v.add("shopkey_cart_url", "%v", err)
		}
	}

	c.validateAccounts(&v)
	return errors.Join(v.errs...)
}

// validateAccounts checks the account and mail settings; an SMTP URL is
// never echoed (it may carry a password).
func (c Config) validateAccounts(v *validation) {
	v.positive("account_confirm_ttl", c.Accounts.ConfirmTTL)
	v.positive("account_reset_ttl", c.Accounts.ResetTTL)
	v.rateLimit("account_rate_per_minute", "account_burst", c.Accounts.RatePerMinute, c.Accounts.Burst)
	if p := c.Accounts.ReferencePrefix; p == "" || len(p) > 16 || strings.ContainsAny(p, " \t/?#%") {
		v.add("customer_reference_prefix", "must be 1 to 16 characters without spaces, /, ?, # or %%, got %q", p)
	}
	if n := c.Mail.MaxAttempts; n < 1 || n > 100 {
		v.add("mail_max_attempts", "must be 1 to 100, got %d", n)
	}
	if c.Mail.SMTPURL != "" {
		if err := checkSMTPURL(c.Mail.SMTPURL); err != nil {
			v.add("smtp_url", "%v", err)
		}
		if c.Mail.From == "" {
			v.add("mail_from", "must be set together with %s (the sender of customers' mails)", envName("smtp_url"))
		}
	}
	if c.Mail.From != "" {
		if _, err := mail.ParseAddress(c.Mail.From); err != nil {
			v.add("mail_from", "must be an address such as \"ACME Shop <shop@acme.example>\", got %q", c.Mail.From)
		}
	}
}

// checkSMTPURL accepts smtp:// and smtps:// URLs with a host and an
// optional port, user and password.
func checkSMTPURL(s string) error {
	const want = "must be smtp://user:pass@host:port (STARTTLS when offered) or smtps://user:pass@host:port (implicit TLS)"
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return errors.New(want)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s: no path, query or fragment", want)
	}
	if p := u.Port(); p != "" {
		if n, err := net.LookupPort("tcp", p); err != nil || n < 1 {
			return fmt.Errorf("%s: port %q is not a port", want, p)
		}
	}
	return nil
}

// validateDatabase never echoes the URL: a MySQL one carries a password.
func (c Config) validateDatabase(v *validation) {
	const want = "must be sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params"
	switch {
	case c.DatabaseIsSQLite():
		if c.SQLitePath() == "" {
			v.add("database_url", "%s: the SQLite file path is missing", want)
		}
	case c.DatabaseIsMySQL():
		dsn, err := mysql.ParseDSN(c.MySQLDSN())
		if err != nil {
			v.add("database_url", "%s: %v", want, err)
		} else if dsn.DBName == "" {
			v.add("database_url", "%s: the database name is missing", want)
		}
	default:
		v.add("database_url", "%s", want)
	}
}

// validation collects problems; each is prefixed with its variable.
type validation struct{ errs []error }

func (v *validation) add(key, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", envName(key), fmt.Sprintf(format, args...)))
}

func (v *validation) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "must be a positive duration, got %q", d.String())
	}
}

func (v *validation) notNegative(key string, d time.Duration) {
	if d < 0 {
		v.add(key, "must be 0 (off) or a positive duration, got %q", d.String())
	}
}

// rateLimit checks a per-address token bucket: a rate of 0 turns it off,
// and a bucket of size 0 would admit nothing, refusing every request.
func (v *validation) rateLimit(rateKey, burstKey string, rate, burst int) {
	if rate < 0 {
		v.add(rateKey, "must be 0 (off) or more, got %d", rate)
	}
	switch {
	case burst < 0:
		v.add(burstKey, "must be 0 or more, got %d", burst)
	case burst == 0 && rate > 0:
		v.add(burstKey, "must be at least 1 while %s is above 0, got 0", envName(rateKey))
	}
}

func (v *validation) notEmpty(key, s string) {
	if s == "" {
		v.add(key, "must not be empty")
	}
}

// checkHTTPURL accepts an absolute http(s) URL with a host and no query,
// fragment or user info: what OpenID Connect Discovery 1.0 §3 asks of an
// issuer, and what a webhook address needs.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL with a host, got %q", s)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("must have no query or fragment, got %q", s)
	}
	if u.User != nil {
		return fmt.Errorf("must have no user info, got %q", u.Redacted())
	}
	return nil
}

func validProxy(p string) bool {
	if _, err := netip.ParsePrefix(p); err == nil {
		return true
	}
	_, err := netip.ParseAddr(p)
	return err == nil
}

// Warnings returns notes on settings that work but are probably not meant,
// for the CLI to log at start-up. Settings Validate rejects get no warning.
func (c Config) Warnings() []string {
	var w []string
	if u, err := url.Parse(c.Issuer); err == nil && u.Scheme == "http" && u.Host != "" && !isLoopback(u.Hostname()) {
		w = append(w, fmt.Sprintf("%s: %q is plain http on a non-loopback host; OIDC requires https (terminate TLS here or at a proxy and use an https issuer)", envName("issuer"), c.Issuer))
	}
	if c.Keys.PublishAhead >= 0 && c.Keys.SyncInterval > 0 && c.Keys.PublishAhead < c.Keys.SyncInterval {
		w = append(w, fmt.Sprintf("%s (%s) is shorter than %s (%s): a replica may sign with a key the others do not publish yet",
			envName("key_publish_ahead"), c.Keys.PublishAhead, envName("key_sync_interval"), c.Keys.SyncInterval))
	}
	if c.Tokens.RefreshIdleTTL > 0 && c.Tokens.RefreshTokenTTL > 0 && c.Tokens.RefreshIdleTTL >= c.Tokens.RefreshTokenTTL {
		w = append(w, fmt.Sprintf("%s (%s) is not shorter than %s (%s): it never expires a family",
			envName("refresh_idle_ttl"), c.Tokens.RefreshIdleTTL, envName("refresh_token_ttl"), c.Tokens.RefreshTokenTTL))
	}
	return w
}

// isLoopback reports whether host names this machine only, where plain
// http is acceptable for development.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
