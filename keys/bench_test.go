package keys

import (
	"errors"
	"testing"
	"time"
)

const benchClaims = `{"iss":"https://auth.example.com","sub":"21","aud":["https://api.example.com"],"exp":1772370000,"iat":1772366400,"nbf":1772366400,"jti":"f3b2c1d0-8a7e-4c4b-9d2e-6a5f4e3d2c1b","client_id":"storefront","scope":"openid profile email offline_access customer","shop":"acme12aa","customer_reference":"DE--21","id_company_user":"ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac"}`

func BenchmarkSign(b *testing.B) {
	m := newManager(b, &fakeStore{}, testKEK(b), newClock())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Sign([]byte(benchClaims), TypAccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJWKS(b *testing.B) {
	m := newManager(b, &fakeStore{}, testKEK(b), newClock())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if len(m.JWKS()) == 0 {
				b.Fatal("empty JWKS")
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	m := newManager(b, &fakeStore{}, testKEK(b), newClock())
	tok, err := m.Sign([]byte(benchClaims), TypAccessToken)
	if err != nil {
		b.Fatal(err)
	}
	// "first" is a token met for the first time (parse and signature
	// check); "again" one the cache remembers.
	for _, tt := range []struct {
		name   string
		verify func(string) (Verified, error)
	}{{"first", m.verifyJWS}, {"again", m.Verify}} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := tt.verify(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchManager has a current key for every algorithm.
func benchManager(b *testing.B) *Manager {
	clk := newClock()
	m, err := New(b.Context(), rotationConfig(&fakeStore{}, testKEK(b), clk, time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for _, alg := range []string{ES256, EdDSA} {
		if _, err := m.Rotate(b.Context(), alg, true); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

// BenchmarkSignWith and BenchmarkVerifyAlg compare the algorithms.
func BenchmarkSignWith(b *testing.B) {
	m := benchManager(b)
	for _, alg := range Algorithms() {
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.SignWith(alg, []byte(benchClaims), TypAccessToken); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkVerifyAlg(b *testing.B) {
	m := benchManager(b)
	for _, alg := range Algorithms() {
		tok, err := m.SignWith(alg, []byte(benchClaims), TypAccessToken)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					// Past the cache: the algorithm's own cost.
					if _, err := m.verifyJWS(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkVerifyUnknownKey is a flood of tokens naming unknown kids: the
// reload they cause is rate limited, so each costs a parse, not a query.
func BenchmarkVerifyUnknownKey(b *testing.B) {
	store := &fakeStore{}
	m := newManager(b, store, testKEK(b), newClock())
	stranger := newManager(b, &fakeStore{}, testKEK(b), newClock())
	tok, err := stranger.Sign([]byte(benchClaims), TypAccessToken)
	if err != nil {
		b.Fatal(err)
	}
	lists := store.lists
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Verify(tok); !errors.Is(err, ErrUnknownKey) {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(store.lists-lists), "reloads")
}

// BenchmarkJWKSMaxAge is the per-request cost of the JWKS Cache-Control.
func BenchmarkJWKSMaxAge(b *testing.B) {
	m := benchManager(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if m.JWKSMaxAge() <= 0 {
				b.Fatal("no max-age")
			}
		}
	})
}
