package storagetest

import (
	"context"
	"fmt"
	"sync/atomic"
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

	t.Run("refresh tokens: expired unspent, long-revoked, and spent once their family ended long ago", func(t *testing.T) {
		retention := 7 * 24 * time.Hour
		settled := now.Add(-retention)
		// spent builds a family whose first token was spent at spentAt,
		// with the given idle expiry and family end.
		spent := func(name string, spentAt, expires, familyEnds time.Time) storage.RefreshToken {
			rt := newToken(name, "fam-"+name, spentAt.Add(-time.Minute))
			rt.ExpiresAt, rt.FamilyExpiresAt = expires, familyEnds
			require.NoError(t, s.CreateRefreshToken(ctx, rt, storage.IssuedAccessToken{}))
			next := newToken(name+"-next", "fam-"+name, spentAt)
			next.ExpiresAt, next.FamilyExpiresAt = familyEnds, familyEnds
			require.NoError(t, s.RotateRefreshToken(ctx, rt.TokenHash, spentAt, next, storage.IssuedAccessToken{}))
			return rt
		}
		live := newToken("sweep-live", "fam-live", now)
		expired := newToken("sweep-expired", "fam-exp", now.Add(-2*time.Hour)) // expired an hour ago
		revokedLong := newToken("sweep-revoked-long", "fam-r", now)
		for _, rt := range []storage.RefreshToken{live, expired, revokedLong} {
			require.NoError(t, s.CreateRefreshToken(ctx, rt, storage.IssuedAccessToken{}))
		}
		_, err := s.RevokeRefreshFamily(ctx, "fam-r", settled.Add(-time.Second))
		require.NoError(t, err)
		// SHOPAUTH_REFRESH_IDLE_TTL: a spent token's own expiry (its idle
		// deadline) passed long ago while the family lives on; its reuse
		// must still be detected, so the row stays.
		idleSpent := spent("sweep-idle-spent", now.Add(-9*24*time.Hour), now.Add(-8*24*time.Hour), now.Add(20*24*time.Hour))
		endedRecently := spent("sweep-ended-recently", now.Add(-20*24*time.Hour), now.Add(-19*24*time.Hour), settled.Add(time.Second))
		endedLong := spent("sweep-ended-long", now.Add(-20*24*time.Hour), now.Add(-19*24*time.Hour), settled.Add(-time.Second))

		require.EqualValues(t, 5, drain(t, 1, func(l int) (int64, error) {
			return s.SweepRefreshTokens(ctx, now, settled, l)
		}), "expired, revoked long ago, the long-ended family's two tokens, the recently ended family's unspent one")
		for _, rt := range []storage.RefreshToken{expired, revokedLong, endedLong} {
			_, err := s.GetRefreshToken(ctx, rt.TokenHash)
			require.ErrorIs(t, err, storage.ErrNotFound, rt.TokenHash)
		}
		for _, rt := range []storage.RefreshToken{live, idleSpent, endedRecently} {
			_, err := s.GetRefreshToken(ctx, rt.TokenHash)
			require.NoError(t, err, "a spent token is kept until its family ended the retention ago, whatever its idle expiry")
		}
	})

	t.Run("an expired refresh token stays while its family has access tokens recorded", func(t *testing.T) {
		// The idle TTL ended the refresh token, not the access token minted
		// with it: revoking the customer's families must still find it.
		rt := newToken("sweep-expired-with-access", "fam-exp-access", now.Add(-2*time.Hour))
		require.NoError(t, s.CreateRefreshToken(ctx, rt, newAccess("exp-access-at", "fam-exp-access", now.Add(10*time.Minute))))
		_, err := s.SweepRefreshTokens(ctx, now, now.Add(-7*24*time.Hour), 100)
		require.NoError(t, err)
		_, err = s.GetRefreshToken(ctx, rt.TokenHash)
		require.NoError(t, err, "kept while its access token is recorded")

		// Once the access token's record is swept, the refresh token goes.
		_, err = s.SweepIssuedAccessTokens(ctx, now.Add(11*time.Minute), 100)
		require.NoError(t, err)
		_, err = s.SweepRefreshTokens(ctx, now, now.Add(-7*24*time.Hour), 100)
		require.NoError(t, err)
		_, err = s.GetRefreshToken(ctx, rt.TokenHash)
		require.ErrorIs(t, err, storage.ErrNotFound)
	})

	t.Run("a non-positive limit is an error", func(t *testing.T) {
		_, err := s.SweepRefreshTokens(ctx, now, now, 0)
		require.Error(t, err)
	})
}

// testSweepLoginFailures: a failed-login record goes only once its policy
// has forgotten it — last failure and lock end both before the cutoff.
// Records that still lock, still count, or sit at the boundary stay.
func testSweepLoginFailures(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	// Locks longer than the window, so a lock can outlive the failures that
	// set it: two failures lock for an hour.
	p := storage.LockoutPolicy{Threshold: 2, Window: 15 * time.Minute, FirstLock: time.Hour, MaxLock: 4 * time.Hour}
	cutoff := p.ForgottenBefore(now)
	fail := func(email string, at time.Time, times int) {
		t.Helper()
		for range times {
			_, ok, err := s.RecordLoginAttempt(ctx, "shop1", email, at, p)
			require.NoError(t, err)
			require.True(t, ok)
		}
	}
	cases := []struct {
		name  string
		setup func(email string)
		gone  bool
	}{
		{"failures long before the window", func(e string) { fail(e, cutoff.Add(-time.Hour), 1) }, true},
		{"a failure a second before the cutoff", func(e string) { fail(e, cutoff.Add(-time.Second), 1) }, true},
		{"a failure at the cutoff", func(e string) { fail(e, cutoff, 1) }, false},
		{"a failure within the window", func(e string) { fail(e, now.Add(-time.Minute), 1) }, false},
		{"a lock still running", func(e string) { fail(e, now.Add(-30*time.Minute), 2) }, false},
		{"a lock ended within the window", func(e string) { fail(e, cutoff.Add(-p.FirstLock+time.Minute), 2) }, false},
		{"a lock ended at the cutoff", func(e string) { fail(e, cutoff.Add(-p.FirstLock), 2) }, false},
		{"a lock ended before the window", func(e string) { fail(e, cutoff.Add(-p.FirstLock-time.Second), 2) }, true},
		{"cleared after a success", func(e string) {
			fail(e, now, 1)
			require.NoError(t, s.ClearLoginFailures(ctx, "shop1", e))
		}, true},
	}
	before := make(map[string]storage.LoginFailures)
	wantGone := 0
	for i, tc := range cases {
		email := fmt.Sprintf("case-%d@example.com", i)
		tc.setup(email)
		rec, err := s.GetLoginFailures(ctx, "shop1", email)
		require.NoError(t, err)
		before[email] = rec
		if tc.gone {
			wantGone++
		}
	}
	// The same address in another shop is its own record: a live one there
	// does not keep this shop's dead one, and is not taken with it.
	_, _, err := s.RecordLoginAttempt(ctx, "shop2", "case-0@example.com", now, p)
	require.NoError(t, err)
	shop2, err := s.GetLoginFailures(ctx, "shop2", "case-0@example.com")
	require.NoError(t, err)

	require.EqualValues(t, wantGone, drain(t, 2, func(l int) (int64, error) { return s.SweepLoginFailures(ctx, cutoff, l) }))
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := fmt.Sprintf("case-%d@example.com", i)
			got, err := s.GetLoginFailures(ctx, "shop1", email)
			require.NoError(t, err)
			if tc.gone {
				require.Equal(t, storage.LoginFailures{ShopKey: "shop1", EmailNormalized: email}, got)
				return
			}
			require.Equal(t, before[email], got, "kept as it was")
		})
	}
	got, err := s.GetLoginFailures(ctx, "shop2", "case-0@example.com")
	require.NoError(t, err)
	require.Equal(t, shop2, got)

	t.Run("the live lock still refuses", func(t *testing.T) {
		_, ok, err := s.RecordLoginAttempt(ctx, "shop1", "case-4@example.com", now, p)
		require.NoError(t, err)
		require.False(t, ok)
	})
	t.Run("a swept address counts afresh", func(t *testing.T) {
		rec, ok, err := s.RecordLoginAttempt(ctx, "shop1", "case-0@example.com", now, p)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 1, rec.Count)
		require.Zero(t, rec.Lockouts)
	})
	t.Run("a non-positive limit is an error", func(t *testing.T) {
		_, err := s.SweepLoginFailures(ctx, cutoff, 0)
		require.Error(t, err)
	})
}

// testSweepAuthorizationCodes: a code never redeemed goes once expired; a
// redeemed one is kept a retention longer, and while it is kept, a replay
// is still detected.
func testSweepAuthorizationCodes(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	expired, settled := now, now.Add(-24*time.Hour)
	cases := []struct {
		name     string
		expires  time.Time
		redeemed bool
		gone     bool
	}{
		{"unredeemed, live", now.Add(time.Minute), false, false},
		{"unredeemed, expiring at the cutoff", expired, false, false},
		{"unredeemed, expired a second before", expired.Add(-time.Second), false, true},
		{"unredeemed, long expired", settled.Add(-time.Hour), false, true},
		{"redeemed, live", now.Add(time.Minute), true, false},
		{"redeemed, expired a second before", expired.Add(-time.Second), true, false},
		{"redeemed, expired at the retention's end", settled, true, false},
		{"redeemed, expired before the retention's end", settled.Add(-time.Second), true, true},
	}
	wantGone := 0
	for i, tc := range cases {
		c := newCode(fmt.Sprint("sweep-code-", i), fmt.Sprint("sweep-cfam-", i), tc.expires.Add(-time.Minute))
		c.ExpiresAt = tc.expires
		require.NoError(t, s.CreateAuthorizationCode(ctx, c))
		if tc.redeemed {
			_, err := s.RedeemAuthorizationCode(ctx, c.CodeHash, c.IssuedAt)
			require.NoError(t, err)
		}
		if tc.gone {
			wantGone++
		}
	}
	require.EqualValues(t, wantGone, drain(t, 3, func(l int) (int64, error) {
		return s.SweepAuthorizationCodes(ctx, expired, settled, l)
	}))
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.RedeemAuthorizationCode(ctx, hashOf(fmt.Sprint("sweep-code-", i)), now)
			switch {
			case tc.gone:
				require.ErrorIs(t, err, storage.ErrNotFound)
			case tc.redeemed:
				require.ErrorIs(t, err, storage.ErrConflict, "a replay is still detected")
			default:
				require.NoError(t, err)
			}
		})
	}
	t.Run("settledBefore after expiredBefore is an error", func(t *testing.T) {
		_, err := s.SweepAuthorizationCodes(ctx, settled, expired, 10)
		require.Error(t, err)
	})
	t.Run("a non-positive limit is an error", func(t *testing.T) {
		_, err := s.SweepAuthorizationCodes(ctx, expired, settled, 0)
		require.Error(t, err)
	})
}

// testSweepBrowserSessions: a session goes once expired before the cutoff.
func testSweepBrowserSessions(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	cases := []struct {
		name    string
		expires time.Time
		gone    bool
	}{
		{"live", now.Add(time.Hour), false},
		{"expiring at the cutoff", now, false},
		{"expired a second before", now.Add(-time.Second), true},
		{"long expired", now.Add(-30 * 24 * time.Hour), true},
		{"also long expired", now.Add(-31 * 24 * time.Hour), true},
	}
	wantGone := 0
	for i, tc := range cases {
		require.NoError(t, s.CreateBrowserSession(ctx, storage.BrowserSession{
			IDHash: hashOf(fmt.Sprint("sweep-session-", i)), ShopKey: "demo", CustomerID: 21,
			AuthTime: tc.expires.Add(-time.Hour), ExpiresAt: tc.expires,
		}))
		if tc.gone {
			wantGone++
		}
	}
	require.EqualValues(t, wantGone, drain(t, 2, func(l int) (int64, error) { return s.SweepBrowserSessions(ctx, now, l) }))
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetBrowserSession(ctx, hashOf(fmt.Sprint("sweep-session-", i)))
			if tc.gone {
				require.ErrorIs(t, err, storage.ErrNotFound)
				return
			}
			require.NoError(t, err)
		})
	}
	t.Run("a non-positive limit is an error", func(t *testing.T) {
		_, err := s.SweepBrowserSessions(ctx, now, 0)
		require.Error(t, err)
	})
}

// testConcurrentLoginSweep: logins (a failure counted, then cleared by
// the success) racing a sweeper that deletes every cleared record all
// succeed, and the attempt after them is counted from an empty record: the
// sweeper's DELETE and RecordLoginAttempt's locked read do not deadlock or
// lose an attempt. (The exact interleaving where a record vanishes between
// its creation and its locked read is pinned by sqlstore's
// TestRecordLoginAttemptSweptUnder.)
func testConcurrentLoginSweep(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	p := storage.DefaultLockoutPolicy
	const logins = 5
	stop := make(chan struct{})
	var swept atomic.Int64
	sweepErr := make(chan error, 1)
	go func() {
		defer close(sweepErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, err := s.SweepLoginFailures(ctx, p.ForgottenBefore(now), 4)
			if err != nil {
				sweepErr <- err
				return
			}
			swept.Add(n)
		}
	}()
	email := func(i int) string { return fmt.Sprintf("racer-%d@example.com", i) }
	errs := race(func(i int) error {
		for range logins {
			if _, _, err := s.RecordLoginAttempt(ctx, "shop1", email(i), now, p); err != nil {
				return err
			}
			if err := s.ClearLoginFailures(ctx, "shop1", email(i)); err != nil {
				return err
			}
		}
		rec, ok, err := s.RecordLoginAttempt(ctx, "shop1", email(i), now, p)
		if err == nil && (!ok || rec.Count != 1) {
			err = fmt.Errorf("last attempt: allowed %v, count %d, want 1", ok, rec.Count)
		}
		return err
	})
	close(stop)
	require.NoError(t, <-sweepErr)
	for i, err := range errs {
		require.NoError(t, err, "racer %d", i)
		got, err := s.GetLoginFailures(ctx, "shop1", email(i))
		require.NoError(t, err)
		require.Equal(t, 1, got.Count, "racer %d: the last failure is kept", i)
	}
	t.Logf("the sweeper deleted %d cleared records under the racers", swept.Load())
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

// testSweepSigningKeys: keys removed from the JWKS before the cutoff go,
// in batches; a key removed at or after it, one still published and one
// never scheduled for removal stay.
func testSweepSigningKeys(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	cutoff := baseTime()
	at := func(d time.Duration) *time.Time { v := cutoff.Add(d); return &v }
	keys := []struct {
		kid            string
		retire, remove *time.Time
		kept           bool
	}{
		{kid: "gone-long-ago", retire: at(-48 * time.Hour), remove: at(-24 * time.Hour)},
		{kid: "gone-just-before", retire: at(-2 * time.Hour), remove: at(-time.Second)},
		{kid: "emergency-retired", retire: at(-time.Hour), remove: at(-time.Hour)},
		{kid: "removed-at-cutoff", retire: at(-time.Hour), remove: at(0), kept: true},
		{kid: "still-published", retire: at(-time.Hour), remove: at(time.Hour), kept: true},
		{kid: "current", kept: true},
	}
	for i, k := range keys {
		key := signingKey(k.kid, int64(i+1))
		key.RetireAfter, key.RemoveAfter = k.retire, k.remove
		require.NoError(t, s.CreateSigningKey(ctx, key))
	}
	n, err := s.SweepSigningKeys(ctx, cutoff, 2)
	require.NoError(t, err)
	require.Equal(t, int64(2), n, "one batch")
	n, err = s.SweepSigningKeys(ctx, cutoff, 2)
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the rest")

	left, err := s.ListSigningKeys(ctx)
	require.NoError(t, err)
	var kids []string
	for _, k := range left {
		kids = append(kids, k.KID)
	}
	var want []string
	for _, k := range keys {
		if k.kept {
			want = append(want, k.kid)
		}
	}
	require.ElementsMatch(t, want, kids)
}
