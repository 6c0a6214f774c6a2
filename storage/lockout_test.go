package storage

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLockoutPolicyAttempt(t *testing.T) {
	p := DefaultLockoutPolicy
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var f LoginFailures

	// Five attempts are allowed; the fifth locks for a minute.
	for i := 1; i <= 5; i++ {
		var ok bool
		f, ok = p.Attempt(f, t0.Add(time.Duration(i)*time.Second))
		require.True(t, ok, "attempt %d", i)
		require.Equal(t, i, f.Count)
	}
	require.True(t, f.Locked(t0.Add(6*time.Second)))
	require.Equal(t, t0.Add(5*time.Second+time.Minute), *f.LockedUntil)

	// While locked nothing changes and nothing is allowed.
	locked, ok := p.Attempt(f, t0.Add(30*time.Second))
	require.False(t, ok)
	require.Equal(t, f, locked)

	// Each attempt after a lock ends locks again, doubling to one hour.
	now := *f.LockedUntil
	for _, want := range []time.Duration{2, 4, 8, 16, 32, 60, 60} {
		f, ok = p.Attempt(f, now)
		require.True(t, ok)
		require.Equal(t, now.Add(want*time.Minute), *f.LockedUntil, "lock %d", f.Lockouts)
		now = *f.LockedUntil
	}

	// A quiet window after the last lock starts afresh.
	f, ok = p.Attempt(f, now.Add(p.Window+time.Second))
	require.True(t, ok)
	require.Equal(t, 1, f.Count)
	require.Equal(t, 0, f.Lockouts)
	require.Nil(t, f.LockedUntil)

	// Failures older than the window do not add up.
	f = LoginFailures{}
	for i := range 4 {
		f, _ = p.Attempt(f, t0.Add(time.Duration(i)*time.Minute))
	}
	f, _ = p.Attempt(f, t0.Add(3*time.Minute+p.Window))
	require.Equal(t, 1, f.Count)
	require.False(t, f.Locked(t0.Add(3*time.Minute+p.Window)))
}

func TestLockoutThresholdOne(t *testing.T) {
	p := LockoutPolicy{Threshold: 1, Window: time.Minute, FirstLock: time.Second, MaxLock: 4 * time.Second}
	t0 := time.Unix(0, 0)
	f, ok := p.Attempt(LoginFailures{}, t0)
	require.True(t, ok)
	require.True(t, f.Locked(t0))
	_, ok = p.Attempt(f, t0.Add(500*time.Millisecond))
	require.False(t, ok)
}

// TestLockoutForgottenBefore: a record whose last failure and lock end lie
// before ForgottenBefore(now) behaves, now and later, exactly like no
// record at all, so the sweeper may delete it. The boundary is kept though
// it no longer counts: the rule errs on keeping.
func TestLockoutForgottenBefore(t *testing.T) {
	p := DefaultLockoutPolicy
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cut := p.ForgottenBefore(now)
	at := func(d time.Duration) *time.Time { v := cut.Add(d); return &v }
	for _, tc := range []struct {
		name      string
		rec       LoginFailures
		forgotten bool // the sweeper's rule deletes it
		counts    bool // the next attempt at now differs from a fresh one's
	}{
		{"cleared", LoginFailures{}, true, false},
		{"old failures", LoginFailures{Count: 4, LastFailedAt: at(-time.Second)}, true, false},
		{"old failures and an old lock", LoginFailures{Count: 5, Lockouts: 3, LastFailedAt: at(-time.Hour), LockedUntil: at(-time.Second)}, true, false},
		{"failure at the boundary", LoginFailures{Count: 4, LastFailedAt: at(0)}, false, false},
		{"recent failure", LoginFailures{Count: 4, LastFailedAt: at(time.Second)}, false, true},
		{"lock ended within the window", LoginFailures{Count: 5, Lockouts: 3, LastFailedAt: at(-time.Hour), LockedUntil: at(time.Second)}, false, true},
		{"lock still running", LoginFailures{Count: 5, Lockouts: 1, LastFailedAt: at(-time.Hour), LockedUntil: at(p.Window + time.Minute)}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := func(v *time.Time) bool { return v == nil || v.Before(cut) }
			require.Equal(t, tc.forgotten, before(tc.rec.LastFailedAt) && before(tc.rec.LockedUntil), "the sweeper's rule")
			got, ok := p.Attempt(tc.rec, now)
			fresh, freshOK := p.Attempt(LoginFailures{}, now)
			require.Equal(t, tc.counts, !reflect.DeepEqual(got, fresh) || ok != freshOK, "got %+v", got)
			if !tc.forgotten {
				return
			}
			for _, later := range []time.Duration{time.Second, p.Window, 2 * p.MaxLock} {
				got, ok := p.Attempt(tc.rec, now.Add(later))
				fresh, freshOK := p.Attempt(LoginFailures{}, now.Add(later))
				require.Equal(t, freshOK, ok)
				require.Equal(t, fresh, got, "after %v", later)
				require.False(t, tc.rec.Locked(now.Add(later)))
			}
		})
	}
}
