package keys

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopauth/shopauth/storage"
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

// BenchmarkVerifyUnknownKey is a flood of tokens naming one unknown kid:
// the first reload finds no such key and the kid is remembered as absent,
// so each further token costs a parse, not a query.
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

// BenchmarkVerifyGarbageKIDFlood is a flood of tokens naming distinct
// unknown kids from 16 connections per CPU, against a store that takes
// 1 ms to answer: the reloads they cause are coalesced (one in flight at
// a time), so reloads/op stays far below one. (A single connection
// sending garbage kids one after another gets a reload each, paced by its
// own round trips.)
func BenchmarkVerifyGarbageKIDFlood(b *testing.B) {
	store := &slowStore{fakeStore: &fakeStore{}, latency: time.Millisecond}
	m := newManager(b, store, testKEK(b), newClock())
	kids := make([]string, 4*absentKIDsSize) // more than are remembered
	for i := range kids {
		kids[i] = fmt.Sprintf("garbage-%d", i)
	}
	toks := garbageKIDs(b, kids...)
	lists := store.count()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tok := toks[int(next.Add(1))%len(toks)]
			if _, err := m.Verify(tok); !errors.Is(err, ErrUnknownKey) {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(store.count()-lists)/float64(b.N), "reloads/op")
}

// slowStore answers ListSigningKeys after a delay, like a database.
type slowStore struct {
	*fakeStore
	latency time.Duration
}

func (s *slowStore) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	time.Sleep(s.latency)
	return s.fakeStore.ListSigningKeys(ctx)
}

func (s *slowStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
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
