package app

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// OpenStore connects and brings the schema up to date. Migrations are
// versioned, idempotent and serialised across processes, so every command
// may run them; a fresh SQLite file just works.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.Database.URL, sqlstore.Options{Logger: logger, MaxOpenConns: cfg.Database.MaxConnections})
	if err != nil {
		return nil, err
	}
	if store.Galera() && logger != nil {
		logger.InfoContext(ctx, "database is a Galera node: reads wait for the cluster's earlier commits (wsrep_sync_wait)")
	}
	if _, err := store.Migrate(ctx); err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return store, nil
}

// KeyEncryptionKey returns the configured KEK or, with SQLite and none set,
// the one kept next to the database file (keyFile).
func KeyEncryptionKey(ctx context.Context, cfg config.Config, store *sqlstore.Store, logger *slog.Logger) ([]byte, error) {
	kek, _, err := keyEncryptionKey(ctx, cfg, store, logger)
	return kek, err
}

// keyEncryptionKey is KeyEncryptionKey, also naming the file the key came
// from ("" when configured), so that errors can name it.
func keyEncryptionKey(ctx context.Context, cfg config.Config, store *sqlstore.Store, logger *slog.Logger) (kek []byte, file string, err error) {
	if cfg.Keys.EncryptionKey != "" {
		kek, err = keys.ParseKEK(cfg.Keys.EncryptionKey)
		return kek, "", err
	}
	if !cfg.DatabaseIsSQLite() {
		return nil, "", errors.New("SHOPAUTH_KEY_ENCRYPTION_KEY is required with MySQL")
	}
	if cfg.SQLitePath() == ":memory:" {
		kek, err = keys.GenerateKEK()
		return kek, "", err
	}
	file = cfg.SQLitePath() + ".kek"
	kek, err = keyFile(ctx, file, store, logger)
	return kek, file, err
}

// keyFile reads the generated key encryption key at path (one per database
// file: the URL's query is not part of it), or creates it while the
// database holds no signing key. Beside encrypted keys a missing file is an
// error, never a new key: a new key would open none of them, and writing
// one would hide the loss until every token stops verifying. A file group
// or others may read is a warning.
func keyFile(ctx context.Context, path string, store *sqlstore.Store, logger *slog.Logger) ([]byte, error) {
	stored, err := store.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var kek []byte
	if len(stored) > 0 {
		kek, err = keys.LoadKEKFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing, but the database holds %d signing keys encrypted with the key it held: "+
				"restore the file from a backup (or set SHOPAUTH_KEY_ENCRYPTION_KEY to that key); "+
				"shopauth does not write a new one, which would open none of them (docs/operations.md, \"A lost key encryption key\")",
				path, len(stored))
		}
	} else {
		var created bool
		kek, created, err = keys.LoadOrCreateKEKFile(path)
		if created {
			logger.Warn("generated a key encryption key next to the database; set SHOPAUTH_KEY_ENCRYPTION_KEY in production", "path", path)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := keys.CheckKEKFileMode(path); errors.Is(err, keys.ErrKEKFileMode) {
		logger.Warn("the key encryption key file is readable by group or others; chmod 600 it", "path", path, "err", err)
	} else if err != nil {
		return nil, err
	}
	return kek, nil
}

// refreshKey derives the key that links a refresh token to its successor.
// It comes from the KEK so that every replica derives the same one.
func refreshKey(kek []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, kek, nil, "shopauth refresh-token successor v1", 32)
}

// OpenKeys opens the signing keys the configuration names, over a migrated
// store, and returns the key encryption key with them.
func OpenKeys(ctx context.Context, cfg config.Config, store *sqlstore.Store, logger *slog.Logger) (*keys.Manager, []byte, error) {
	kek, file, err := keyEncryptionKey(ctx, cfg, store, logger)
	if err != nil {
		return nil, nil, err
	}
	kc, err := KeysConfig(cfg, store, kek, logger, time.Now)
	if err != nil {
		return nil, nil, err
	}
	km, err := keys.New(ctx, kc)
	switch {
	case errors.Is(err, keys.ErrWrongKEK) && file != "":
		return nil, nil, fmt.Errorf("the key encryption key in %s does not open the stored signing keys "+
			"(was the file replaced? restore it from a backup, or set SHOPAUTH_KEY_ENCRYPTION_KEY to the key that does): %w", file, err)
	case errors.Is(err, keys.ErrWrongKEK):
		return nil, nil, fmt.Errorf("SHOPAUTH_KEY_ENCRYPTION_KEY does not open the stored signing keys "+
			"(changing it? run with the previous one in SHOPAUTH_KEY_ENCRYPTION_KEY_OLD, then `shopauth keys rekey`): %w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	return km, kek, nil
}

// KeysConfig turns the configuration into the key manager's: the same on
// every replica and every `shopauth keys` command, so they all compute the
// same rotation plan.
func KeysConfig(cfg config.Config, store *sqlstore.Store, kek []byte, logger *slog.Logger, now func() time.Time) (keys.Config, error) {
	kc := keys.Config{
		Store:          store,
		KEK:            kek,
		Now:            now,
		Logger:         logger,
		RotationPeriod: cfg.Keys.RotationPeriod,
		PublishAhead:   cfg.Keys.PublishAhead,
		SyncInterval:   cfg.Keys.SyncInterval,
		ClockSkew:      ClockSkew,
		MaxTokenTTL:    maxTokenTTL(cfg, store),
	}
	if cfg.Keys.PreviousEncryptionKey != "" {
		prev, err := keys.ParseKEK(cfg.Keys.PreviousEncryptionKey)
		if err != nil {
			return keys.Config{}, fmt.Errorf("SHOPAUTH_KEY_ENCRYPTION_KEY_OLD: %w", err)
		}
		kc.PreviousKEK = prev
	}
	return kc, nil
}

// maxTokenTTL is the longest lifetime of a token signed now: the default
// access-token TTL or any client's own, whichever is longest (Spryker
// clients run 28800 s, some shops 86400 s). ID tokens live no longer than
// the access token issued with them. A retired key stays published this
// long after its last token.
func maxTokenTTL(cfg config.Config, store *sqlstore.Store) func(ctx context.Context) (time.Duration, error) {
	return func(ctx context.Context) (time.Duration, error) {
		longest := cfg.Tokens.AccessTokenTTL
		cls, err := store.ListClients(ctx)
		if err != nil {
			return 0, err
		}
		for _, cl := range cls {
			longest = max(longest, cl.AccessTokenTTL)
		}
		return longest, nil
	}
}
