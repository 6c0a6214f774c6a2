package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func TestSQLiteDSN(t *testing.T) {
	tests := []struct {
		name       string
		rest       string
		wantPrefix string
		wantMemory bool
		wantExtra  string
	}{
		{name: "absolute path", rest: "/var/lib/shopauth/db.sqlite", wantPrefix: "/var/lib/shopauth/db.sqlite?"},
		{name: "relative path", rest: "shopauth.db", wantPrefix: "shopauth.db?"},
		{name: "memory", rest: ":memory:", wantPrefix: ":memory:?", wantMemory: true},
		{name: "extra params kept", rest: "x.db?_pragma=cache_size(-2000)", wantPrefix: "x.db?", wantExtra: "_pragma=cache_size(-2000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, memory, err := sqliteDSN(tt.rest)
			require.NoError(t, err)
			require.Equal(t, tt.wantMemory, memory)
			require.True(t, strings.HasPrefix(dsn, tt.wantPrefix), dsn)
			require.Contains(t, dsn, "_txlock=immediate")
			// The text every existing row holds: SQL compares times as text.
			require.Contains(t, dsn, "_time_format=sqlite")
			// busy_timeout must precede journal_mode: see sqliteDSN.
			require.Less(t, strings.Index(dsn, "busy_timeout(5000)"), strings.Index(dsn, "journal_mode(WAL)"))
			require.Contains(t, dsn, "synchronous(NORMAL)")
			require.Contains(t, dsn, "foreign_keys(1)")
			require.Contains(t, dsn, tt.wantExtra)
		})
	}
}

func TestMySQLDSN(t *testing.T) {
	tests := []struct {
		name        string
		rest        string
		wantLoc     string
		wantCharset string
		wantInterp  bool
	}{
		{name: "defaults added", rest: "u:p@tcp(db:3306)/shop", wantLoc: "UTC", wantCharset: "utf8mb4", wantInterp: true},
		{name: "given values kept", rest: "u:p@tcp(db:3306)/shop?loc=Europe%2FBerlin&charset=utf8mb4,utf8&interpolateParams=false", wantLoc: "Europe/Berlin", wantCharset: "utf8mb4,utf8"},
		{name: "parseTime forced", rest: "u:p@tcp(db:3306)/shop?parseTime=false", wantLoc: "UTC", wantCharset: "utf8mb4", wantInterp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			given, err := mysqlConfig(tt.rest)
			require.NoError(t, err)
			// Through the DSN's text, as the driver would read it.
			cfg, err := gomysql.ParseDSN(given.FormatDSN())
			require.NoError(t, err)
			require.True(t, cfg.ParseTime)
			require.True(t, cfg.ClientFoundRows, "RowsAffected must count matched rows")
			require.Equal(t, tt.wantLoc, cfg.Loc.String())
			require.Equal(t, tt.wantCharset, cfg.Params["charset"])
			require.Equal(t, tt.wantInterp, cfg.InterpolateParams, "one round trip per statement unless the operator says otherwise")
			require.Equal(t, "shop", cfg.DBName)
			require.Equal(t, "p", cfg.Passwd)
		})
	}
}

func TestMigrationsOrdered(t *testing.T) {
	var last int64
	for _, m := range migrations() {
		require.Greater(t, m.version, last, "versions must be strictly increasing")
		require.NotEmpty(t, m.name)
		require.NotNil(t, m.up)
		last = m.version
	}
}

// TestSQLiteTimeText pins the stored form that makes SQL comparisons on
// SQLite's time text correct: UTC, whole seconds, one fixed layout.
func TestSQLiteTimeText(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(ctx)
	require.NoError(t, err)

	at := time.Date(2031, 3, 4, 5, 6, 7, 891_000_000, time.FixedZone("CET", 3600))
	require.NoError(t, s.CreateRefreshToken(ctx, storage.RefreshToken{TokenHash: "h", ExpiresAt: at}, storage.IssuedAccessToken{}))
	var text string
	require.NoError(t, s.db.Raw("SELECT CAST(expires_at AS TEXT) FROM refresh_tokens").Row().Scan(&text))
	require.Equal(t, "2031-03-04 04:06:07+00:00", text)
}
