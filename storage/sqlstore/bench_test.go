package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// BenchmarkRefreshRotation measures the storage side of one refresh grant
// on each backend, every goroutine following its own rotation chain:
// "rotate" is RotateRefreshToken alone (UPDATE + 2 INSERTs in one
// transaction); "refresh-path" adds the reads the grant makes first (client,
// refresh token, customer).
func BenchmarkRefreshRotation(b *testing.B) {
	for _, be := range sqlstoretest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := be.Open(b)
			customerID := seedBench(b, s)
			for _, withReads := range []bool{false, true} {
				name := "rotate"
				if withReads {
					name = "refresh-path"
				}
				b.Run(name, func(b *testing.B) { benchRotation(b, s, customerID, withReads) })
			}
		})
	}
}

func seedBench(b *testing.B, s *sqlstore.Store) uint64 {
	ctx := context.Background()
	now := time.Now().UTC()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(s.CreateShop(ctx, storage.Shop{Key: "bench", Name: "Bench", Active: true, CreatedAt: now}))
	must(s.CreateClient(ctx, storage.Client{ID: "web", ShopKey: "bench", GrantTypes: []string{"password", "refresh_token"},
		Scopes: []string{"offline_access"}, CreatedAt: now}))
	c := &storage.Customer{ShopKey: "bench", Email: "b@example.com", EmailNormalized: "b@example.com", Name: "B",
		PasswordHash: "x", EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
	must(s.CreateCustomer(ctx, c))
	return c.ID
}

func benchRotation(b *testing.B, s *sqlstore.Store, customerID uint64, withReads bool) {
	ctx := context.Background()
	var chains atomic.Int64
	hash := func(v string) string { h := sha256.Sum256([]byte(v)); return hex.EncodeToString(h[:]) }
	b.ReportAllocs()
	// 8 goroutines per GOMAXPROCS: concurrent requests, as a server has
	// (16 on two cores), not one per core.
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		chain := strconv.FormatInt(chains.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
		now := time.Now().UTC().Truncate(time.Second)
		tok := storage.RefreshToken{
			TokenHash: hash(chain + "/0"), FamilyID: chain, ClientID: "web", CustomerID: customerID, ShopKey: "bench",
			Scope: "offline_access", AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour), FamilyExpiresAt: now.Add(time.Hour),
		}
		if err := s.CreateRefreshToken(ctx, tok, storage.IssuedAccessToken{}); err != nil {
			b.Fatal(err)
		}
		for i := 1; pb.Next(); i++ {
			if withReads {
				if _, err := s.GetClient(ctx, "web"); err != nil {
					b.Fatal(err)
				}
				if _, err := s.GetRefreshToken(ctx, tok.TokenHash); err != nil {
					b.Fatal(err)
				}
				if _, err := s.GetCustomer(ctx, "bench", customerID); err != nil {
					b.Fatal(err)
				}
			}
			next := tok
			next.TokenHash = hash(chain + "/" + strconv.Itoa(i))
			access := storage.IssuedAccessToken{JTI: next.TokenHash[:22], FamilyID: chain, ExpiresAt: now.Add(time.Hour)}
			if err := s.RotateRefreshToken(ctx, tok.TokenHash, now, next, access); err != nil {
				b.Fatal(err)
			}
			tok = next
		}
	})
}
