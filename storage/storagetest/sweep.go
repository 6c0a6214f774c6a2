package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// drain sweeps in batches of limit until a batch comes back short, and
// returns the total; every batch must respect the limit.
func drain(t *testing.T, limit int, batch func(limit int) (int64, error)) int64 {
	t.Helper()
	var total int64
	for range 100 {
		n, err := batch(limit)
		require.NoError(t, err)
		require.LessOrEqual(t, n, int64(limit))
		total += n
		if n < int64(limit) {
			return total
		}
	}
	t.Fatal("sweep does not finish")
	return 0
}

func testSweep(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	t.Run("revoked and issued jtis: expired rows only, in batches", func(t *testing.T) {
		for i := range 5 {
			require.NoError(t, s.RevokeAccessToken(ctx, storage.RevokedAccessToken{JTI: fmt.Sprint("old-", i), ExpiresAt: now.Add(-time.Minute)}))
			require.NoError(t, s.RecordIssuedAccessToken(ctx, newAccess(fmt.Sprint("issued-old-", i), "fam", now.Add(-time.Minute))))
		}
		require.NoError(t, s.RevokeAccessToken(ctx, storage.RevokedAccessToken{JTI: "live", ExpiresAt: now.Add(time.Minute)}))
		require.NoError(t, s.RecordIssuedAccessToken(ctx, newAccess("issued-live", "fam", now.Add(time.Minute))))

		require.EqualValues(t, 5, drain(t, 2, func(l int) (int64, error) { return s.SweepRevokedAccessTokens(ctx, now, l) }))
		require.EqualValues(t, 5, drain(t, 2, func(l int) (int64, error) { return s.SweepIssuedAccessTokens(ctx, now, l) }))
		for i := range 5 {
			revoked, err := s.IsAccessTokenRevoked(ctx, fmt.Sprint("old-", i))
			require.NoError(t, err)
			require.False(t, revoked)
			requireRecorded(t, s, fmt.Sprint("issued-old-", i), false)
		}
		revoked, err := s.IsAccessTokenRevoked(ctx, "live")
		require.NoError(t, err)
		require.True(t, revoked, "a revoked jti stays listed until it expires")
		requireRecorded(t, s, "issued-live", true)
	})

	t.Run("refresh tokens: expired, long-spent and long-revoked rows", func(t *testing.T) {
		live := newToken("sweep-live", "fam-live", now)
		expired := newToken("sweep-expired", "fam-exp", now.Add(-2*time.Hour)) // expired an hour ago
		spentLong := newToken("sweep-spent-long", "fam-s", now)
		spentNow := newToken("sweep-spent-now", "fam-s2", now)
		revokedLong := newToken("sweep-revoked-long", "fam-r", now)
		for _, rt := range []storage.RefreshToken{live, expired, spentLong, spentNow, revokedLong} {
			require.NoError(t, s.CreateRefreshToken(ctx, rt, storage.IssuedAccessToken{}))
		}
		long := now.Add(-48 * time.Hour)
		require.NoError(t, s.RotateRefreshToken(ctx, spentLong.TokenHash, long, newToken("sweep-spent-long-next", "fam-s", now), storage.IssuedAccessToken{}))
		require.NoError(t, s.RotateRefreshToken(ctx, spentNow.TokenHash, now, newToken("sweep-spent-now-next", "fam-s2", now), storage.IssuedAccessToken{}))
		_, err := s.RevokeRefreshFamily(ctx, "fam-r", long)
		require.NoError(t, err)

		require.EqualValues(t, 3, drain(t, 1, func(l int) (int64, error) {
			return s.SweepRefreshTokens(ctx, now, now.Add(-24*time.Hour), l)
		}))
		for _, rt := range []storage.RefreshToken{expired, spentLong, revokedLong} {
			_, err := s.GetRefreshToken(ctx, rt.TokenHash)
			require.ErrorIs(t, err, storage.ErrNotFound)
		}
		for _, name := range []string{"sweep-live", "sweep-spent-now", "sweep-spent-long-next", "sweep-spent-now-next"} {
			_, err := s.GetRefreshToken(ctx, hashOf(name))
			require.NoError(t, err, name)
		}
	})

	t.Run("a non-positive limit is an error", func(t *testing.T) {
		_, err := s.SweepRefreshTokens(ctx, now, now, 0)
		require.Error(t, err)
	})
}

func testLeases(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	acquire := func(holder string, at time.Time) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "sweeper", holder, at, time.Minute)
		require.NoError(t, err)
		return ok
	}
	require.True(t, acquire("a", now), "a free lease")
	require.False(t, acquire("b", now.Add(30*time.Second)), "held by a")
	require.True(t, acquire("a", now.Add(30*time.Second)), "a renews, also within the same second")
	require.True(t, acquire("a", now.Add(30*time.Second)))
	require.False(t, acquire("b", now.Add(89*time.Second)), "the renewal extended it")
	require.True(t, acquire("b", now.Add(90*time.Second)), "expired: b takes over")
	require.False(t, acquire("a", now.Add(100*time.Second)))
	ok, err := s.AcquireLease(ctx, "other-job", "a", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "leases are per name")
}

func testConcurrentLease(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	errs := race(func(i int) error {
		ok, err := s.AcquireLease(ctx, "sweeper", fmt.Sprint("replica-", i), baseTime(), time.Minute)
		if err != nil {
			return err
		}
		if !ok {
			return storage.ErrConflict
		}
		return nil
	})
	requireOneWinner(t, errs)
}
