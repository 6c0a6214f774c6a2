package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeFile writes a YAML config file into a fresh temporary directory.
func writeFile(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shopauth.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	return path
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string // "" means no file
		environ []string
		check   func(t *testing.T, c Config)
	}{
		{
			name: "defaults alone",
			check: func(t *testing.T, c Config) {
				require.Equal(t, Defaults(), c)
			},
		},
		{
			name: "file overrides defaults",
			yaml: "access_token_ttl: 15m\nlogin_burst: 3\nissuer: https://auth.example.com\n",
			check: func(t *testing.T, c Config) {
				require.Equal(t, 15*time.Minute, c.Tokens.AccessTokenTTL)
				require.Equal(t, 3, c.Login.Burst)
				require.Equal(t, "https://auth.example.com", c.Issuer)
				require.Equal(t, 720*time.Hour, c.Tokens.RefreshTokenTTL, "untouched settings keep their default")
			},
		},
		{
			name:    "environment overrides file",
			yaml:    "access_token_ttl: 15m\nlogin_burst: 3\n",
			environ: []string{"SHOPAUTH_ACCESS_TOKEN_TTL=5m"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, 5*time.Minute, c.Tokens.AccessTokenTTL)
				require.Equal(t, 3, c.Login.Burst)
			},
		},
		{
			name:    "environment overrides defaults without a file",
			environ: []string{"SHOPAUTH_SPRYKER_SHOP=shop2", "SHOPAUTH_LOG_LEVEL=debug", "PATH=/bin"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "shop2", c.Adapters.SprykerShop)
				require.Equal(t, "debug", c.Log.Level)
			},
		},
		{
			name:    "empty variable keeps the file value",
			yaml:    "spryker_client: glue2\n",
			environ: []string{"SHOPAUTH_SPRYKER_CLIENT=", "SHOPAUTH_ACCESS_TOKEN_TTL=  "},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "glue2", c.Adapters.SprykerClientID)
				require.Equal(t, time.Hour, c.Tokens.AccessTokenTTL)
			},
		},
		{
			name: "null in the file keeps the default",
			yaml: "issuer:\n",
			check: func(t *testing.T, c Config) {
				require.Equal(t, "http://localhost:8080", c.Issuer)
			},
		},
		{
			name:    "test-suite variables are not settings",
			environ: []string{"SHOPAUTH_TEST_MYSQL_DSN=root@tcp(127.0.0.1:3306)/test"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, Defaults(), c)
			},
		},
		{
			name:    "every setting can come from the environment",
			environ: fullEnviron(),
			check: func(t *testing.T, c Config) {
				require.Equal(t, Config{
					Issuer: "https://auth.example.com",
					HTTP: HTTP{
						Addr:           "127.0.0.1:9000",
						TLSCertFile:    "/tls/cert.pem",
						TLSKeyFile:     "/tls/key.pem",
						TrustedProxies: []string{"10.0.0.0/8", "192.168.1.1"},
						RequestTimeout: 7 * time.Second,
					},
					Database: Database{URL: "mysql://u:p@tcp(db:3306)/shopauth", MaxConnections: 24, StartupTimeout: 90 * time.Second},
					Tokens: Tokens{
						AccessTokenTTL:    2 * time.Minute,
						RefreshTokenTTL:   48 * time.Hour,
						RefreshReuseGrace: 0,
						RefreshIdleTTL:    24 * time.Hour,
					},
					Keys: Keys{
						EncryptionKey:         testKEK,
						PreviousEncryptionKey: testKEK2,
						RotationPeriod:        240 * time.Hour,
						PublishAhead:          2 * time.Hour,
						SyncInterval:          30 * time.Second,
					},
					Login: Login{
						LockoutThreshold:  3,
						RatePerMinute:     60,
						Burst:             20,
						HashConcurrency:   4,
						HashQueueTimeout:  5 * time.Second,
						Argon2MemoryKiB:   65536,
						Argon2Iterations:  3,
						Argon2Parallelism: 2,
						SessionTTL:        8 * time.Hour,
					},
					Log:      Log{Format: "text", Level: "warn"},
					Adapters: Adapters{SprykerShop: "shop9", SprykerClientID: "glue9", ShopKeyClientID: "sk9", ShopKeyCartURL: "https://carts.example.com/hook"},
					Accounts: Accounts{ConfirmTTL: 24 * time.Hour, ResetTTL: 30 * time.Minute, RatePerMinute: 30, Burst: 6, ReferencePrefix: "AT"},
					Mail:     Mail{SMTPURL: "smtps://mailer:pw@mail.example:465", From: "ACME <shop@acme.example>", MaxAttempts: 5},
				}, c)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.yaml != "" {
				file = writeFile(t, tt.yaml)
			}
			c, err := Load(file, tt.environ)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

// Two valid 32-byte keys, base64.
const (
	testKEK  = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	testKEK2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
)

// fullEnviron sets every setting once, so a setting missing from the table
// in settings.go fails TestLoadPrecedence.
func fullEnviron() []string {
	return []string{
		"SHOPAUTH_ISSUER=https://auth.example.com/",
		"SHOPAUTH_HTTP_ADDR=127.0.0.1:9000",
		"SHOPAUTH_TLS_CERT_FILE=/tls/cert.pem",
		"SHOPAUTH_TLS_KEY_FILE=/tls/key.pem",
		"SHOPAUTH_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1,",
		"SHOPAUTH_DATABASE_URL=mysql://u:p@tcp(db:3306)/shopauth",
		"SHOPAUTH_DATABASE_MAX_CONNECTIONS=24",
		"SHOPAUTH_DATABASE_STARTUP_TIMEOUT=90s",
		"SHOPAUTH_REQUEST_TIMEOUT=7s",
		"SHOPAUTH_ACCESS_TOKEN_TTL=2m",
		"SHOPAUTH_REFRESH_TOKEN_TTL=48h",
		"SHOPAUTH_REFRESH_REUSE_GRACE=0",
		"SHOPAUTH_REFRESH_IDLE_TTL=24h",
		"SHOPAUTH_KEY_ENCRYPTION_KEY=" + testKEK,
		"SHOPAUTH_KEY_ENCRYPTION_KEY_OLD=" + testKEK2,
		"SHOPAUTH_KEY_ROTATION_PERIOD=240h",
		"SHOPAUTH_KEY_PUBLISH_AHEAD=2h",
		"SHOPAUTH_KEY_SYNC_INTERVAL=30s",
		"SHOPAUTH_LOCKOUT_THRESHOLD=3",
		"SHOPAUTH_LOGIN_RATE_PER_MINUTE=60",
		"SHOPAUTH_LOGIN_BURST=20",
		"SHOPAUTH_HASH_CONCURRENCY=4",
		"SHOPAUTH_HASH_QUEUE_TIMEOUT=5s",
		"SHOPAUTH_ARGON2_MEMORY_KIB=65536",
		"SHOPAUTH_ARGON2_ITERATIONS=3",
		"SHOPAUTH_ARGON2_PARALLELISM=2",
		"SHOPAUTH_SESSION_TTL=8h",
		"SHOPAUTH_LOG_FORMAT=TEXT",
		"SHOPAUTH_LOG_LEVEL=Warn",
		"SHOPAUTH_SPRYKER_SHOP=shop9",
		"SHOPAUTH_SPRYKER_CLIENT=glue9",
		"SHOPAUTH_SHOPKEY_CLIENT=sk9",
		"SHOPAUTH_SHOPKEY_CART_URL=https://carts.example.com/hook",
		"SHOPAUTH_ACCOUNT_CONFIRM_TTL=24h",
		"SHOPAUTH_ACCOUNT_RESET_TTL=30m",
		"SHOPAUTH_ACCOUNT_RATE_PER_MINUTE=30",
		"SHOPAUTH_ACCOUNT_BURST=6",
		"SHOPAUTH_CUSTOMER_REFERENCE_PREFIX=AT",
		"SHOPAUTH_SMTP_URL=smtps://mailer:pw@mail.example:465",
		"SHOPAUTH_MAIL_FROM=ACME <shop@acme.example>",
		"SHOPAUTH_MAIL_MAX_ATTEMPTS=5",
	}
}

func TestLoadFileAndEnvironmentAgree(t *testing.T) {
	// The same settings written as a file must load to the same Config as
	// the environment, so the two documented spellings never drift apart.
	yaml := `
issuer: https://auth.example.com/
http_addr: 127.0.0.1:9000
tls_cert_file: /tls/cert.pem
tls_key_file: /tls/key.pem
trusted_proxies:
  - 10.0.0.0/8
  - 192.168.1.1
database_url: mysql://u:p@tcp(db:3306)/shopauth
database_max_connections: 24
database_startup_timeout: 90s
request_timeout: 7s
access_token_ttl: 2m
refresh_token_ttl: 48h
refresh_reuse_grace: 0
refresh_idle_ttl: 24h
key_encryption_key: ` + testKEK + `
key_encryption_key_old: ` + testKEK2 + `
key_rotation_period: 240h
key_publish_ahead: 2h
key_sync_interval: 30s
lockout_threshold: 3
login_rate_per_minute: 60
login_burst: 20
hash_concurrency: 4
hash_queue_timeout: 5s
argon2_memory_kib: 65536
argon2_iterations: 3
argon2_parallelism: 2
session_ttl: 8h
log_format: TEXT
log_level: Warn
spryker_shop: shop9
spryker_client: glue9
shopkey_client: sk9
shopkey_cart_url: https://carts.example.com/hook
account_confirm_ttl: 24h
account_reset_ttl: 30m
account_rate_per_minute: 30
account_burst: 6
customer_reference_prefix: AT
smtp_url: smtps://mailer:pw@mail.example:465
mail_from: ACME <shop@acme.example>
mail_max_attempts: 5
`
	fromFile, err := Load(writeFile(t, yaml), nil)
	require.NoError(t, err)
	fromEnv, err := Load("", fullEnviron())
	require.NoError(t, err)
	require.Equal(t, fromEnv, fromFile)
}

func TestLoadTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		environ []string
		want    []string
	}{
		{name: "yaml list", yaml: "trusted_proxies: [10.0.0.0/8, ' 172.16.0.0/12 ']", want: []string{"10.0.0.0/8", "172.16.0.0/12"}},
		{name: "yaml comma string", yaml: "trusted_proxies: 10.0.0.0/8,::1", want: []string{"10.0.0.0/8", "::1"}},
		{name: "yaml empty list", yaml: "trusted_proxies: []", want: []string{}},
		{name: "env replaces the file list", yaml: "trusted_proxies: [10.0.0.0/8]", environ: []string{"SHOPAUTH_TRUSTED_PROXIES=127.0.0.1"}, want: []string{"127.0.0.1"}},
		{name: "default is none", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.yaml != "" {
				file = writeFile(t, tt.yaml)
			}
			c, err := Load(file, tt.environ)
			require.NoError(t, err)
			require.Equal(t, tt.want, c.HTTP.TrustedProxies)
		})
	}
}

func TestLoadNormalizes(t *testing.T) {
	tests := []struct {
		issuer string
		want   string
	}{
		{"https://auth.example.com/", "https://auth.example.com"},
		{"https://auth.example.com//", "https://auth.example.com"},
		{"https://auth.example.com/tenant/", "https://auth.example.com/tenant"},
		{"https://auth.example.com", "https://auth.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			c, err := Load("", []string{"SHOPAUTH_ISSUER=" + tt.issuer})
			require.NoError(t, err)
			require.Equal(t, tt.want, c.Issuer)
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		environ []string
		want    []string // substrings that must all appear in the error
	}{
		{
			name:    "unknown variable with a suggestion",
			environ: []string{"SHOPAUTH_ACESS_TOKEN_TTL=1h"},
			want:    []string{"SHOPAUTH_ACESS_TOKEN_TTL: unknown variable (did you mean SHOPAUTH_ACCESS_TOKEN_TTL?)"},
		},
		{
			name:    "unknown variable without a near name",
			environ: []string{"SHOPAUTH_COMPLETELY_DIFFERENT=1"},
			want:    []string{"SHOPAUTH_COMPLETELY_DIFFERENT: unknown variable"},
		},
		{
			name:    "lower-case variable name is not a setting",
			environ: []string{"SHOPAUTH_issuer=https://x.example"},
			want:    []string{"SHOPAUTH_issuer: unknown variable (did you mean SHOPAUTH_ISSUER?)"},
		},
		{
			name: "unknown file key with a suggestion",
			yaml: "acces_token_ttl: 1h\n",
			want: []string{"acces_token_ttl: unknown key (did you mean access_token_ttl?)"},
		},
		{
			name: "file key spelled like a variable",
			yaml: "SHOPAUTH_ISSUER: https://x.example\n",
			want: []string{"SHOPAUTH_ISSUER: unknown key"},
		},
		{
			name: "nested file key",
			yaml: "http:\n  addr: :9000\n",
			want: []string{"http.addr: unknown key"},
		},
		{
			name:    "bad duration in the environment",
			environ: []string{"SHOPAUTH_ACCESS_TOKEN_TTL=1hour"},
			want:    []string{`SHOPAUTH_ACCESS_TOKEN_TTL: must be a duration such as 30s, 15m or 720h, got "1hour"`},
		},
		{
			name:    "duration without a unit",
			environ: []string{"SHOPAUTH_SESSION_TTL=3600"},
			want:    []string{`SHOPAUTH_SESSION_TTL: must be a duration such as 30s, 15m or 720h, got "3600"`},
		},
		{
			name: "bad duration in the file",
			yaml: "refresh_token_ttl: 30d\n",
			want: []string{"shopauth.yaml: refresh_token_ttl: must be a duration", `got "30d"`},
		},
		{
			name:    "non-number",
			environ: []string{"SHOPAUTH_LOGIN_BURST=ten"},
			want:    []string{`SHOPAUTH_LOGIN_BURST: must be a whole number, got "ten"`},
		},
		{
			name: "fraction where a whole number is needed",
			yaml: "lockout_threshold: 2.5\n",
			want: []string{`lockout_threshold: must be a whole number, got "2.5"`},
		},
		{
			name: "list where one value is needed",
			yaml: "issuer: [a, b]\n",
			want: []string{"issuer: must be a single value, got a list"},
		},
		{
			name: "mapping inside a list",
			yaml: "trusted_proxies:\n  - cidr: 10.0.0.0/8\n",
			want: []string{"trusted_proxies: item 1: must be a single value, got a mapping"},
		},
		{
			name:    "every problem of file and environment at once",
			yaml:    "lockout_threshold: many\ntypo_key: 1\n",
			environ: []string{"SHOPAUTH_KEY_SYNC_INTERVAL=soon", "SHOPAUTH_NOPE=1"},
			want: []string{
				`lockout_threshold: must be a whole number, got "many"`,
				"typo_key: unknown key",
				`SHOPAUTH_KEY_SYNC_INTERVAL: must be a duration such as 30s, 15m or 720h, got "soon"`,
				"SHOPAUTH_NOPE: unknown variable",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.yaml != "" {
				file = writeFile(t, tt.yaml)
			}
			_, err := Load(file, tt.environ)
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{
			name: "missing",
			path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.yaml") },
			want: "no such file",
		},
		{
			name: "not YAML",
			path: func(t *testing.T) string { return writeFile(t, "issuer: [unclosed\n") },
			want: "shopauth.yaml",
		},
		{
			name: "a list, not a mapping",
			path: func(t *testing.T) string { return writeFile(t, "- issuer\n") },
			want: "shopauth.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path(t), nil)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestLoadEmptyFile(t *testing.T) {
	c, err := Load(writeFile(t, "# nothing configured yet\n"), nil)
	require.NoError(t, err)
	require.Equal(t, Defaults(), c)
}

func TestSuggest(t *testing.T) {
	known := []string{"issuer", "access_token_ttl", "refresh_token_ttl", "login_burst"}
	tests := []struct {
		unknown string
		want    string
		ok      bool
	}{
		{"isuer", "issuer", true},
		{"ISSUER", "issuer", true},
		{"acess_token_tl", "access_token_ttl", true},
		{"login_bust", "login_burst", true},
		{"database", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.unknown, func(t *testing.T) {
			got, ok := suggest(tt.unknown, known)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

// kubernetesServiceLinks is what Kubernetes injects into every pod of a
// namespace that has a Service named shopauth with the ports http
// (8080/TCP), metrics (9090/TCP), grpc-web (8081/TCP), dns (5353/UDP) and
// assoc (9999/SCTP): the SERVICE_ variables, and the Docker-link style
// PORT_ variables for each port and protocol.
func kubernetesServiceLinks() []string {
	env := []string{
		"SHOPAUTH_SERVICE_HOST=10.96.0.12",
		"SHOPAUTH_SERVICE_PORT=8080",
		"SHOPAUTH_SERVICE_PORT_HTTP=8080",
		"SHOPAUTH_SERVICE_PORT_METRICS=9090",
		"SHOPAUTH_SERVICE_PORT_GRPC_WEB=8081",
		"SHOPAUTH_SERVICE_PORT_DNS=5353",
		"SHOPAUTH_SERVICE_PORT_ASSOC=9999",
		"SHOPAUTH_PORT=tcp://10.96.0.12:8080",
	}
	for _, p := range []struct{ port, proto string }{
		{"8080", "tcp"}, {"9090", "tcp"}, {"8081", "tcp"}, {"5353", "udp"}, {"9999", "sctp"},
	} {
		base := "SHOPAUTH_PORT_" + p.port + "_" + strings.ToUpper(p.proto)
		env = append(env,
			base+"="+p.proto+"://10.96.0.12:"+p.port,
			base+"_PROTO="+p.proto,
			base+"_PORT="+p.port,
			base+"_ADDR=10.96.0.12",
		)
	}
	return env
}

// TestLoadIgnoresKubernetesServiceLinks: a pod in a namespace with a
// Service named shopauth starts (it stopped with "SHOPAUTH_PORT: unknown
// variable; SHOPAUTH_SERVICE_HOST: unknown variable"); the variables are
// reported for the debug log, and the real settings beside them apply.
func TestLoadIgnoresKubernetesServiceLinks(t *testing.T) {
	links := kubernetesServiceLinks()
	environ := append([]string{"SHOPAUTH_HTTP_ADDR=:9000"}, links...)
	c, err := Load("", environ)
	require.NoError(t, err)
	require.Equal(t, ":9000", c.HTTP.Addr)
	var names []string
	for _, kv := range links {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	slices.Sort(names)
	require.Equal(t, names, c.IgnoredVariables)
	require.NoError(t, c.Validate())
}

// TestLoadStillRejectsNearServiceLinks: only the exact service-link
// patterns are ignored; every other unknown SHOPAUTH_ variable, however
// close, still stops start-up with its name.
func TestLoadStillRejectsNearServiceLinks(t *testing.T) {
	for _, name := range []string{
		"SHOPAUTH_SERVICE",
		"SHOPAUTH_SERVICE_HOSTNAME",
		"SHOPAUTH_SERVICE_PORT_",
		"SHOPAUTH_PORTS",
		"SHOPAUTH_PORT_8080",
		"SHOPAUTH_PORT_8080_HTTP",
		"SHOPAUTH_PORT_HTTP_TCP",
		"SHOPAUTH_PORT_8080_TCP_HOST",
		"SHOPAUTH_PORT_8080_tcp",
		"SHOPAUTH_HTTP_PORT",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load("", append(kubernetesServiceLinks(), name+"=x"))
			require.Error(t, err)
			require.Contains(t, err.Error(), name+": unknown variable")
			require.NotContains(t, err.Error(), "SHOPAUTH_SERVICE_HOST:")
		})
	}
}

// TestServiceLinksNeverShadowSettings: no setting's variable looks like a
// service link, or it would be silently ignored.
func TestServiceLinksNeverShadowSettings(t *testing.T) {
	for _, s := range settings() {
		require.False(t, serviceLink.MatchString(s.envName()), "%s matches the service-link pattern", s.envName())
	}
}
