package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/app/startup"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/web"
	"github.com/shopauth/shopauth/web/tlsreload"
)

// shutdownGrace is how long in-flight requests may finish after SIGTERM.
const shutdownGrace = 25 * time.Second

func (c *cli) serveCommand() *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.serve(cmd.Context(), demo)
		},
	}
	cmd.Flags().BoolVar(&demo, "demo", false, "on an empty database, create a demo shop, customers and clients")
	return cmd
}

func (c *cli) serve(ctx context.Context, demo bool) error {
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	logger := c.logger(cfg)
	for _, w := range cfg.Warnings() {
		logger.Warn(w)
	}
	setMemoryLimit(cfg, logger)
	for _, name := range cfg.IgnoredVariables {
		logger.Debug("ignored a Kubernetes service-link variable", "name", name)
	}

	// Listen first: while the database is awaited, /healthz answers and
	// /readyz says not yet (web.Starting).
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return err
	}
	handler := web.NewSwitch(web.Starting())
	srv := web.NewHTTPServer(cfg.HTTP.Addr, handler, logger)
	syncCtx, stopSync := context.WithCancel(context.Background())
	defer stopSync()
	if cfg.HTTP.TLSEnabled() {
		// Any change of the files' content is served once it has stayed
		// the same for a check interval (docs/operations.md).
		certs, err := tlsreload.New(tlsreload.Config{CertFile: cfg.HTTP.TLSCertFile, KeyFile: cfg.HTTP.TLSKeyFile, Logger: logger})
		if err != nil {
			_ = ln.Close()
			return err
		}
		go certs.Run(syncCtx)
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	logger.Info("shopauth listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer, "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	a, store, err := c.start(ctx, cfg, logger, demo)
	if err != nil {
		_ = shutdown(srv, errc)
		return err
	}
	defer store.Close()
	handler.Set(a.Handler)
	if a.AdminHandler != nil {
		// The admin API's own listener (docs/admin.md): opened once the
		// app is wired, with the same TLS as the main one.
		adminLn, err := net.Listen("tcp", cfg.HTTP.AdminAddr)
		if err != nil {
			_ = shutdown(srv, errc)
			return err
		}
		adminSrv := web.NewHTTPServer(cfg.HTTP.AdminAddr, a.AdminHandler, logger)
		if srv.TLSConfig != nil {
			adminSrv.TLSConfig = srv.TLSConfig
			adminLn = tls.NewListener(adminLn, srv.TLSConfig)
		}
		adminErrc := make(chan error, 1)
		go func() { adminErrc <- adminSrv.Serve(adminLn) }()
		defer func() { _ = shutdown(adminSrv, adminErrc) }()
		logger.Info("admin API listening", "addr", adminLn.Addr().String())
	}
	logger.Info("shopauth ready")

	go func() { _ = a.Keys.Sync(syncCtx, cfg.Keys.SyncInterval) }()
	// Every replica runs the rotator; the database lets exactly one of
	// them create each key.
	go func() { _ = a.Keys.RunRotator(syncCtx, cfg.Keys.SyncInterval) }()
	// Every replica runs the sweeper; a lease lets one of them sweep.
	go a.Sweeper.Run(syncCtx)
	// Every replica runs the mail sender; a lease lets one of them send.
	go a.Mail.Run(syncCtx)
	go a.MemoryTrim.Run(syncCtx)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining in-flight requests")
	if err := shutdown(srv, errc); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// start opens the database (migrating it), the signing keys and, with
// --demo, the demo data, and wires the app. A database that cannot answer
// yet is waited for (app/startup), as long as
// SHOPAUTH_DATABASE_STARTUP_TIMEOUT allows.
func (c *cli) start(ctx context.Context, cfg config.Config, logger *slog.Logger, demo bool) (*app.App, *sqlstore.Store, error) {
	var (
		store *sqlstore.Store
		km    *keys.Manager
		kek   []byte
	)
	err := startup.Wait(ctx, startup.Config{Timeout: cfg.Database.StartupTimeout, Logger: logger}, func(ctx context.Context) error {
		s, err := app.OpenStore(ctx, cfg, logger)
		if err != nil {
			return err
		}
		k, kk, err := app.OpenKeys(ctx, cfg, s, logger)
		if err == nil && demo {
			if err = app.SeedDemo(ctx, s, c.stdout, cfg, app.Argon2Params(cfg.Login)); err != nil {
				err = fmt.Errorf("demo data: %w", err)
			}
		}
		if err != nil {
			_ = s.Close()
			return err
		}
		store, km, kek = s, k, kk
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	a, err := app.New(app.Deps{Config: cfg, Store: store, Keys: km, KEK: kek, Logger: logger, Now: time.Now, HashParams: app.Argon2Params(cfg.Login), Demo: demo})
	if err != nil {
		_ = store.Close()
		return nil, nil, err
	}
	return a, store, nil
}

// shutdown stops srv, letting in-flight requests finish for shutdownGrace,
// and waits for its Serve (errc) to return.
func shutdown(srv *http.Server, errc <-chan error) error {
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// setMemoryLimit gives the Go runtime its soft memory limit
// (app.MemoryLimit) unless GOMEMLIMIT has set one already.
func setMemoryLimit(cfg config.Config, logger *slog.Logger) {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		logger.Info("memory limit from GOMEMLIMIT", "bytes", debug.SetMemoryLimit(-1))
		return
	}
	limit := app.MemoryLimit(cfg, runtime.GOMAXPROCS(0))
	debug.SetMemoryLimit(limit)
	logger.Info("memory limit", "mib", limit>>20)
}
