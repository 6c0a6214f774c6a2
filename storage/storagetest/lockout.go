package storagetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/storage"
)

func testLoginFailures(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	p := storage.DefaultLockoutPolicy
	now := baseTime()

	rec, err := s.GetLoginFailures(ctx, "shop1", "nobody@example.com")
	require.NoError(t, err)
	require.Zero(t, rec.Count)
	require.False(t, rec.Locked(now))

	for i := 1; i <= p.Threshold; i++ {
		rec, ok, err := s.RecordLoginAttempt(ctx, "shop1", "a@example.com", now, p)
		require.NoError(t, err)
		require.True(t, ok, "attempt %d", i)
		require.Equal(t, i, rec.Count)
	}
	rec, ok, err := s.RecordLoginAttempt(ctx, "shop1", "a@example.com", now.Add(time.Second), p)
	require.NoError(t, err)
	require.False(t, ok, "locked after the threshold")
	require.Equal(t, stored(now).Add(p.FirstLock), *rec.LockedUntil)

	got, err := s.GetLoginFailures(ctx, "shop1", "a@example.com")
	require.NoError(t, err)
	require.Equal(t, p.Threshold, got.Count)
	require.Equal(t, 1, got.Lockouts)
	require.Equal(t, stored(now), *got.LastFailedAt)
	require.Equal(t, stored(now).Add(p.FirstLock), *got.LockedUntil)

	// Counted per shop and address: the same address elsewhere is free.
	_, ok, err = s.RecordLoginAttempt(ctx, "shop2", "a@example.com", now, p)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.RecordLoginAttempt(ctx, "shop1", "b@example.com", now, p)
	require.NoError(t, err)
	require.True(t, ok)

	// After the lock the next attempt is allowed and locks twice as long.
	after := stored(now).Add(p.FirstLock)
	rec, ok, err = s.RecordLoginAttempt(ctx, "shop1", "a@example.com", after, p)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, after.Add(2*p.FirstLock), *rec.LockedUntil)

	// Clearing unlocks and resets; clearing twice or an unknown address is fine.
	require.NoError(t, s.ClearLoginFailures(ctx, "shop1", "a@example.com"))
	require.NoError(t, s.ClearLoginFailures(ctx, "shop1", "a@example.com"))
	require.NoError(t, s.ClearLoginFailures(ctx, "shop9", "never@example.com"))
	got, err = s.GetLoginFailures(ctx, "shop1", "a@example.com")
	require.NoError(t, err)
	require.Zero(t, got.Count)
	require.Zero(t, got.Lockouts)
	require.Nil(t, got.LockedUntil)
	rec, ok, err = s.RecordLoginAttempt(ctx, "shop1", "a@example.com", after.Add(time.Second), p)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 1, rec.Count)

	// The other shop's record was not touched by the clear.
	got, err = s.GetLoginFailures(ctx, "shop2", "a@example.com")
	require.NoError(t, err)
	require.Equal(t, 1, got.Count)
}

// lockoutRacers is the number of parallel wrong guesses of
// GHSA-7h8m-vrxx-vr4m's proof of concept.
const lockoutRacers = 50

// testConcurrentLoginAttempts: 50 attempts at once on one address — of an
// existing record and of a fresh one — admit exactly Threshold, never more.
func testConcurrentLoginAttempts(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	p := storage.DefaultLockoutPolicy
	now := baseTime()
	// One earlier failure: the race starts from an existing row too.
	_, _, err := s.RecordLoginAttempt(ctx, "shop1", "warm@example.com", now, p)
	require.NoError(t, err)

	for _, tc := range []struct {
		email string
		want  int
	}{{"cold@example.com", p.Threshold}, {"warm@example.com", p.Threshold - 1}} {
		t.Run(tc.email, func(t *testing.T) {
			var allowed atomic.Int32
			errs := racer.Run(lockoutRacers, func(int) error {
				_, ok, err := s.RecordLoginAttempt(ctx, "shop1", tc.email, now, p)
				if ok {
					allowed.Add(1)
				}
				return err
			})
			for i, err := range errs {
				require.NoError(t, err, "racer %d", i)
			}
			require.Equal(t, int32(tc.want), allowed.Load())
			got, err := s.GetLoginFailures(ctx, "shop1", tc.email)
			require.NoError(t, err)
			require.Equal(t, p.Threshold, got.Count)
			require.True(t, got.Locked(now))
		})
	}
}
