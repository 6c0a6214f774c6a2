package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

func TestSmoke(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			ctx := context.Background()
			now := time.Now()
			require.NoError(t, s.CreateShop(ctx, storage.Shop{Key: "demo", Name: "Demo", CORSOrigins: []string{"https://a"}}))
			c := &storage.Customer{ShopKey: "demo", Email: "A@x", EmailNormalized: "a@x", PasswordHash: "h"}
			require.NoError(t, s.CreateCustomer(ctx, c))
			require.NotZero(t, c.ID)
			require.NoError(t, s.CreateRefreshToken(ctx, storage.RefreshToken{TokenHash: "a", FamilyID: "f", ClientID: "c", ExpiresAt: now.Add(time.Hour)}, storage.IssuedAccessToken{JTI: "j1", FamilyID: "f", ExpiresAt: now.Add(time.Hour)}))
			require.NoError(t, s.RotateRefreshToken(ctx, "a", now, storage.RefreshToken{TokenHash: "b", FamilyID: "f", ClientID: "c", ExpiresAt: now.Add(time.Hour)}, storage.IssuedAccessToken{JTI: "j2", FamilyID: "f", ExpiresAt: now.Add(time.Hour)}))
			require.ErrorIs(t, s.RotateRefreshToken(ctx, "a", now, storage.RefreshToken{TokenHash: "c", FamilyID: "f", ClientID: "c", ExpiresAt: now.Add(time.Hour)}, storage.IssuedAccessToken{}), storage.ErrConflict)
			n, err := s.RevokeRefreshFamily(ctx, "f", now)
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			n, err = s.RevokeRefreshFamily(ctx, "f", now)
			require.NoError(t, err)
			require.EqualValues(t, 0, n)
			r, err := s.IsAccessTokenRevoked(ctx, "j2")
			require.NoError(t, err)
			require.True(t, r)
			rt, err := s.GetRefreshToken(ctx, "a")
			require.NoError(t, err)
			t.Logf("%+v", rt)
			e, err := s.IsEmpty(ctx)
			require.NoError(t, err)
			require.False(t, e)
			require.ErrorIs(t, s.CreateShop(ctx, storage.Shop{Key: "demo"}), storage.ErrConflict)
			t.Log(s.CreateShop(ctx, storage.Shop{Key: "demo"}))
			require.NoError(t, s.RevokeAccessToken(ctx, storage.RevokedAccessToken{JTI: "j2", ExpiresAt: now}))
		})
	}
}
