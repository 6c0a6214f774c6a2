package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/keys"
)

// openKeysAt opens the store and the signing keys of a SQLite database URL
// with no key encryption key configured, as `shopauth serve` would, and
// returns what the logger said.
func openKeysAt(t *testing.T, url string) (kek []byte, logs string, err error) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Database.URL = url
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	ctx := context.Background()
	store, err := OpenStore(ctx, cfg, logger)
	require.NoError(t, err)
	defer store.Close()
	_, kek, err = OpenKeys(ctx, cfg, store, logger)
	return kek, buf.String(), err
}

// TestGeneratedKEKFile: with SQLite and no SHOPAUTH_KEY_ENCRYPTION_KEY,
// one key per database file sits in PATH.kek (issue 20 item 6). Each step
// failed before: a query in the URL generated a second key under another
// name and start-up failed on the stored keys; a 0644 file gave no
// warning; a lost file was silently replaced by a new key, and the error
// then named only SHOPAUTH_KEY_ENCRYPTION_KEY.
func TestGeneratedKEKFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.db")
	kekPath := db + ".kek"

	kek, logs, err := openKeysAt(t, "sqlite://"+db)
	require.NoError(t, err)
	require.Contains(t, logs, "generated a key encryption key")
	onDisk, err := keys.LoadKEKFile(kekPath)
	require.NoError(t, err)
	require.Equal(t, kek, onDisk)

	t.Run("the URL's query names no other key", func(t *testing.T) {
		again, logs, err := openKeysAt(t, "sqlite://"+db+"?_pragma=cache_size(-4000)")
		require.NoError(t, err)
		require.Equal(t, kek, again)
		require.NotContains(t, logs, "generated")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			require.NotContains(t, e.Name(), "?", "a second key file: %s", e.Name())
		}
	})

	t.Run("a key file others may read is a warning", func(t *testing.T) {
		require.NoError(t, os.Chmod(kekPath, 0o644))
		_, logs, err := openKeysAt(t, "sqlite://"+db)
		require.NoError(t, err)
		require.Contains(t, logs, "readable by group or others")
		require.Contains(t, logs, kekPath)
		require.NoError(t, os.Chmod(kekPath, 0o600))
		_, logs, err = openKeysAt(t, "sqlite://"+db)
		require.NoError(t, err)
		require.NotContains(t, logs, "readable by group or others")
	})

	t.Run("another key in the file names the file", func(t *testing.T) {
		saved, err := os.ReadFile(kekPath)
		require.NoError(t, err)
		other, err := keys.GenerateKEK()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(kekPath, []byte(keys.EncodeKEK(other)), 0o600))
		_, _, err = openKeysAt(t, "sqlite://"+db)
		require.ErrorIs(t, err, keys.ErrWrongKEK)
		require.ErrorContains(t, err, kekPath)
		require.NoError(t, os.WriteFile(kekPath, saved, 0o600))
	})

	t.Run("a lost key file stops start-up and is not replaced", func(t *testing.T) {
		require.NoError(t, os.Remove(kekPath))
		_, _, err := openKeysAt(t, "sqlite://"+db)
		require.Error(t, err)
		require.ErrorContains(t, err, kekPath+" is missing")
		require.ErrorContains(t, err, "restore")
		_, statErr := os.Stat(kekPath)
		require.ErrorIs(t, statErr, os.ErrNotExist, "no new key written beside the encrypted keys")
	})
}
