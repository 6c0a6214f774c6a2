package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDatabaseHelpers(t *testing.T) {
	tests := []struct {
		url        string
		sqlite     bool
		mysql      bool
		sqlitePath string
		mysqlDSN   string
	}{
		{url: "sqlite://shopauth.db", sqlite: true, sqlitePath: "shopauth.db"},
		{url: "sqlite:///var/lib/shopauth/data.db", sqlite: true, sqlitePath: "/var/lib/shopauth/data.db"},
		{url: "sqlite://:memory:", sqlite: true, sqlitePath: ":memory:"},
		// The query tunes the connection, not which file: one database
		// file, one PATH.kek.
		{url: "sqlite:///var/lib/shopauth/data.db?_pragma=cache_size(-8000)", sqlite: true, sqlitePath: "/var/lib/shopauth/data.db"},
		{url: "sqlite://shopauth.db?", sqlite: true, sqlitePath: "shopauth.db"},
		{
			url:      "mysql://shopauth:pw@tcp(mysql:3306)/shopauth?parseTime=true",
			mysql:    true,
			mysqlDSN: "shopauth:pw@tcp(mysql:3306)/shopauth?parseTime=true",
		},
		{url: "postgres://x"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c := Defaults()
			c.Database.URL = tt.url
			require.Equal(t, tt.sqlite, c.DatabaseIsSQLite())
			require.Equal(t, tt.mysql, c.DatabaseIsMySQL())
			require.Equal(t, tt.sqlitePath, c.SQLitePath())
			require.Equal(t, tt.mysqlDSN, c.MySQLDSN())
		})
	}
}

func TestCheckEncryptionKey(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		wantErr string
	}{
		{name: "standard, padded", key: testKEK},
		{name: "standard, unpadded", key: strings.TrimRight(testKEK, "=")},
		{name: "URL alphabet", key: "-_-_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw"},
		{name: "empty", key: "", wantErr: "got 0 bytes"},
		{name: "not base64", key: "%%%", wantErr: "must be base64 of 32 bytes (generate"},
		{name: "too short", key: "AAAA", wantErr: "got 3 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkEncryptionKey(tt.key)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestSlogLevel(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"error", slog.LevelError},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			require.Equal(t, tt.want, Log{Level: tt.level}.SlogLevel())
		})
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantURL string
	}{
		{name: "mysql", url: "mysql://shopauth:topsecret@tcp(mysql:3306)/shopauth", wantURL: "shopauth:xxxxx@tcp(mysql:3306)/shopauth"},
		{name: "unparsable mysql", url: "mysql://shopauth:topsecret@mysql", wantURL: "(unparsable, hidden)"},
		{name: "sqlite", url: "sqlite://shopauth.db", wantURL: "sqlite://shopauth.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			c.Database.URL = tt.url
			c.Keys.EncryptionKey = testKEK
			c.Mail.SMTPURL = "smtps://mailer:topsecret@mail.example"
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
			out := buf.String()
			require.Contains(t, out, tt.wantURL)
			require.Contains(t, out, "config.key_encryption_key_set=true")
			require.Contains(t, out, "config.smtp_url=smtps://mailer:xxxxx@mail.example")
			require.NotContains(t, out, "topsecret")
			require.NotContains(t, out, testKEK)
		})
	}
}
