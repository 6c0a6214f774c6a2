package main

import (
	"bufio"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// cli holds what every command shares: its streams, environment and the
// --config flag.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	configFile     string
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "shopauth",
		Short:         "OAuth 2.0 / OpenID Connect authorization server for online shops",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().StringVar(&c.configFile, "config", "", "YAML configuration file (SHOPAUTH_* variables override it)")
	root.AddCommand(
		c.serveCommand(),
		c.migrateCommand(),
		c.shopCommand(),
		c.customerCommand(),
		c.clientCommand(),
		c.keysCommand(),
		c.benchCommand(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(c.stdout, "shopauth "+version)
				return err
			},
		},
	)
	return root
}

// loadConfig reads the configuration and stops on any invalid setting,
// naming all of them.
func (c *cli) loadConfig() (config.Config, error) {
	cfg, err := config.Load(c.configFile, c.environ)
	if err != nil {
		return config.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

func (c *cli) logger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(c.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(c.stderr, opts))
}

// openStore connects and brings the schema up to date. Migrations are
// versioned, idempotent and serialised across processes, so every command
// may run them; a fresh SQLite file just works.
func (c *cli) openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.Database.URL, sqlstore.Options{Logger: logger, MaxOpenConns: cfg.Database.MaxConnections})
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx); err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return store, nil
}

// keyEncryptionKey returns the configured KEK or, with SQLite and none set,
// the one kept (or created) next to the database file.
func keyEncryptionKey(cfg config.Config, logger *slog.Logger) ([]byte, error) {
	if cfg.Keys.EncryptionKey != "" {
		return keys.ParseKEK(cfg.Keys.EncryptionKey)
	}
	if !cfg.DatabaseIsSQLite() {
		return nil, errors.New("SHOPAUTH_KEY_ENCRYPTION_KEY is required with MySQL")
	}
	path := cfg.SQLitePath() + ".kek"
	if cfg.SQLitePath() == ":memory:" {
		return keys.GenerateKEK()
	}
	kek, created, err := keys.LoadOrCreateKEKFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		logger.Warn("generated a key encryption key next to the database; set SHOPAUTH_KEY_ENCRYPTION_KEY in production", "path", path)
	}
	return kek, nil
}

// refreshKey derives the key that links a refresh token to its successor.
// It comes from the KEK so that every replica derives the same one.
func refreshKey(kek []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, kek, nil, "shopauth refresh-token successor v1", 32)
}

func (c *cli) openKeys(ctx context.Context, cfg config.Config, store *sqlstore.Store, logger *slog.Logger) (*keys.Manager, []byte, error) {
	kek, err := keyEncryptionKey(cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	kc, err := keysConfig(cfg, store, kek, logger, time.Now)
	if err != nil {
		return nil, nil, err
	}
	km, err := keys.New(ctx, kc)
	if errors.Is(err, keys.ErrWrongKEK) {
		return nil, nil, fmt.Errorf("SHOPAUTH_KEY_ENCRYPTION_KEY does not open the stored signing keys "+
			"(changing it? run with the previous one in SHOPAUTH_KEY_ENCRYPTION_KEY_OLD, then `shopauth keys rekey`): %w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	return km, kek, nil
}

// readSecret reads one line from stdin: passwords and secrets never travel
// as flags, which end up in shell history and process lists.
func (c *cli) readSecret(what string) (string, error) {
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s from stdin: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no %s on stdin", what)
	}
	return line, nil
}
