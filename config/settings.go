package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// setting is one configurable value: its file key and how a raw value from
// the YAML file or the environment is decoded into its Config field.
type setting struct {
	key   string // file key; the variable is EnvPrefix + upper-cased key
	apply func(c *Config, raw any) error
}

// envName is the environment variable that sets s.
func (s setting) envName() string { return envName(s.key) }

// envName returns the environment variable for a file key, e.g.
// "access_token_ttl" → "SHOPAUTH_ACCESS_TOKEN_TTL".
func envName(key string) string { return EnvPrefix + strings.ToUpper(key) }

// settings is the single table of what can be configured. It is a function
// rather than a package variable so that nothing mutable is shared.
func settings() []setting {
	return []setting{
		{"issuer", field(parseString, func(c *Config) *string { return &c.Issuer })},

		{"http_addr", field(parseString, func(c *Config) *string { return &c.HTTP.Addr })},
		{"admin_addr", field(parseString, func(c *Config) *string { return &c.HTTP.AdminAddr })},
		{"tls_cert_file", field(parseString, func(c *Config) *string { return &c.HTTP.TLSCertFile })},
		{"tls_key_file", field(parseString, func(c *Config) *string { return &c.HTTP.TLSKeyFile })},
		{"trusted_proxies", field(parseList, func(c *Config) *[]string { return &c.HTTP.TrustedProxies })},
		{"request_timeout", field(parseDuration, func(c *Config) *time.Duration { return &c.HTTP.RequestTimeout })},

		{"memory_limit_mib", field(parseInt, func(c *Config) *int { return &c.MemoryLimitMiB })},

		{"database_url", field(parseString, func(c *Config) *string { return &c.Database.URL })},
		{"database_max_connections", field(parseInt, func(c *Config) *int { return &c.Database.MaxConnections })},
		{"database_startup_timeout", field(parseDuration, func(c *Config) *time.Duration { return &c.Database.StartupTimeout })},

		{"access_token_ttl", field(parseDuration, func(c *Config) *time.Duration { return &c.Tokens.AccessTokenTTL })},
		{"refresh_token_ttl", field(parseDuration, func(c *Config) *time.Duration { return &c.Tokens.RefreshTokenTTL })},
		{"refresh_reuse_grace", field(parseDuration, func(c *Config) *time.Duration { return &c.Tokens.RefreshReuseGrace })},
		{"refresh_idle_ttl", field(parseDuration, func(c *Config) *time.Duration { return &c.Tokens.RefreshIdleTTL })},

		{"key_encryption_key", field(parseString, func(c *Config) *string { return &c.Keys.EncryptionKey })},
		{"key_encryption_key_old", field(parseString, func(c *Config) *string { return &c.Keys.PreviousEncryptionKey })},
		{"key_rotation_period", field(parseDuration, func(c *Config) *time.Duration { return &c.Keys.RotationPeriod })},
		{"key_publish_ahead", field(parseDuration, func(c *Config) *time.Duration { return &c.Keys.PublishAhead })},
		{"key_sync_interval", field(parseDuration, func(c *Config) *time.Duration { return &c.Keys.SyncInterval })},

		{"lockout_threshold", field(parseInt, func(c *Config) *int { return &c.Login.LockoutThreshold })},
		{"login_rate_per_minute", field(parseInt, func(c *Config) *int { return &c.Login.RatePerMinute })},
		{"login_burst", field(parseInt, func(c *Config) *int { return &c.Login.Burst })},
		{"hash_concurrency", field(parseInt, func(c *Config) *int { return &c.Login.HashConcurrency })},
		{"hash_queue_timeout", field(parseDuration, func(c *Config) *time.Duration { return &c.Login.HashQueueTimeout })},
		{"argon2_memory_kib", field(parseInt, func(c *Config) *int { return &c.Login.Argon2MemoryKiB })},
		{"argon2_iterations", field(parseInt, func(c *Config) *int { return &c.Login.Argon2Iterations })},
		{"argon2_parallelism", field(parseInt, func(c *Config) *int { return &c.Login.Argon2Parallelism })},
		{"session_ttl", field(parseDuration, func(c *Config) *time.Duration { return &c.Login.SessionTTL })},

		{"log_format", field(parseString, func(c *Config) *string { return &c.Log.Format })},
		{"log_level", field(parseString, func(c *Config) *string { return &c.Log.Level })},

		{"spryker_shop", field(parseString, func(c *Config) *string { return &c.Adapters.SprykerShop })},
		{"spryker_client", field(parseString, func(c *Config) *string { return &c.Adapters.SprykerClientID })},
		{"shopkey_client", field(parseString, func(c *Config) *string { return &c.Adapters.ShopKeyClientID })},
		{"shopkey_cart_url", field(parseString, func(c *Config) *string { return &c.Adapters.ShopKeyCartURL })},

		{"account_confirm_ttl", field(parseDuration, func(c *Config) *time.Duration { return &c.Accounts.ConfirmTTL })},
		{"account_reset_ttl", field(parseDuration, func(c *Config) *time.Duration { return &c.Accounts.ResetTTL })},
		{"account_rate_per_minute", field(parseInt, func(c *Config) *int { return &c.Accounts.RatePerMinute })},
		{"account_burst", field(parseInt, func(c *Config) *int { return &c.Accounts.Burst })},
		{"customer_reference_prefix", field(parseString, func(c *Config) *string { return &c.Accounts.ReferencePrefix })},
		{"smtp_url", field(parseString, func(c *Config) *string { return &c.Mail.SMTPURL })},
		{"mail_from", field(parseString, func(c *Config) *string { return &c.Mail.From })},
		{"mail_max_attempts", field(parseInt, func(c *Config) *int { return &c.Mail.MaxAttempts })},
	}
}

// field binds a parser to the Config field at returns.
func field[T any](parse func(raw any) (T, error), at func(*Config) *T) func(*Config, any) error {
	return func(c *Config, raw any) error {
		v, err := parse(raw)
		if err != nil {
			return err
		}
		*at(c) = v
		return nil
	}
}

// scalar turns one raw value into text. Environment values are always
// strings; YAML ones may be numbers or booleans (`login_burst: 10`), which
// then go through the same text parsing as the environment, so a file and a
// variable accept exactly the same spellings.
func scalar(raw any) (string, error) {
	switch v := raw.(type) {
	case string:
		return strings.TrimSpace(v), nil
	case []any:
		return "", fmt.Errorf("must be a single value, got a list")
	case map[string]any:
		return "", fmt.Errorf("must be a single value, got a mapping")
	default:
		return fmt.Sprint(v), nil
	}
}

func parseString(raw any) (string, error) { return scalar(raw) }

func parseDuration(raw any) (time.Duration, error) {
	s, err := scalar(raw)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("must be a duration such as 30s, 15m or 720h, got %q", s)
	}
	return d, nil
}

func parseInt(raw any) (int, error) {
	s, err := scalar(raw)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("must be a whole number, got %q", s)
	}
	return n, nil
}

// parseList accepts a YAML list or a comma-separated string (the only way
// to write a list in an environment variable); blanks are dropped so that
// "a, b," means [a b].
func parseList(raw any) ([]string, error) {
	var parts []string
	switch v := raw.(type) {
	case []any:
		for i, item := range v {
			s, err := scalar(item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
			parts = append(parts, s)
		}
	default:
		s, err := scalar(v)
		if err != nil {
			return nil, err
		}
		parts = strings.Split(s, ",")
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// suggest returns the known name closest to an unknown one, if any is
// close enough to be a likely typo.
func suggest(unknown string, known []string) (string, bool) {
	best, bestDist := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(unknown), strings.ToLower(k))
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist < 0 || bestDist > max(2, len(unknown)/4) {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
