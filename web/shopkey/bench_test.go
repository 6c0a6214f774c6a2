package shopkey

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shopauth/shopauth/server/carts"
	"github.com/shopauth/shopauth/storage"
)

// BenchmarkLogin measures the dialect's own share of a login: resolving
// the shop, decoding the body, translating it into a grant and writing
// the envelope with a cart. The core answers at once, so password
// hashing and signing, which dominate a real login, are not in it.
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b, &carts.Cart{Stored: &storage.Cart{ID: 7, Total: 1250, TotalIVA: 263, TotalTotal: 1513}})
	bodies := []struct{ name, contentType, body string }{
		{"json", "application/json", `{"_method":"POST","email":"sonia@spryker.com","password":"change123"}`},
		{"form", "application/x-www-form-urlencoded",
			url.Values{"_method": {"POST"}, "email": {"sonia@spryker.com"}, "password": {"change123"}}.Encode()},
	}
	for _, tt := range bodies {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/api/v1/acme12aa/customers/login", strings.NewReader(tt.body))
				r.Header.Set("Content-Type", tt.contentType)
				w := httptest.NewRecorder()
				f.engine.ServeHTTP(w, r)
				if w.Code != http.StatusAccepted {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
