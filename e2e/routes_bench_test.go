package e2e

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// newBenchApp wires the real app over SQLite with production logging
// (JSON at info, one line per request) written to nowhere: the test
// server's in-memory log buffer would be measured instead of the server.
func newBenchApp(b *testing.B) (http.Handler, *keys.Manager) {
	store := sqlstoretest.OpenSQLite(b)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	km, err := keys.New(b.Context(), keys.Config{Store: store, KEK: harness.TestKEK, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Defaults()
	a, err := app.New(app.Deps{Config: cfg, Store: store, Keys: km, KEK: harness.TestKEK, Logger: logger, HashParams: harness.TestHashParams})
	if err != nil {
		b.Fatal(err)
	}
	return a.Handler, km
}

// BenchmarkStaticRoutes serves the JWKS and discovery documents through
// the real engine (every middleware included, no network), next to a bare
// net/http handler writing the same JWKS bytes: the difference is what the
// engine adds per request.
func BenchmarkStaticRoutes(b *testing.B) {
	handler, km := newBenchApp(b)
	jwks := km.JWKS()
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(jwks)
	})
	for _, bc := range []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{"bare-net-http", bare, "/.well-known/jwks.json"},
		{"jwks", handler, "/.well-known/jwks.json"},
		{"discovery", handler, "/.well-known/openid-configuration"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					bc.handler.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		})
	}
}
