package server

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// sweepTables are the tables the sweeper sweeps, in its order.
const (
	tRevoked = iota
	tIssued
	tRefresh
	tLoginFailures
	tCodes
	tSessions
	tSigningKeys
	nTables
)

// fakeSweepStore holds rows per table and a lease that is lost after
// leaseBatches acquisitions (0: never). It records each batch's limit and
// the cutoffs each table was swept with.
type fakeSweepStore struct {
	rows                   [nTables]int64
	acquired, leaseBatches int
	limits                 []int
	cutoffs                [nTables][]time.Time
}

func (f *fakeSweepStore) AcquireLease(context.Context, string, string, time.Time, time.Duration) (bool, error) {
	f.acquired++
	return f.leaseBatches == 0 || f.acquired <= f.leaseBatches, nil
}

func (f *fakeSweepStore) take(table int, limit int, cutoffs ...time.Time) (int64, error) {
	f.limits = append(f.limits, limit)
	f.cutoffs[table] = cutoffs
	n := min(f.rows[table], int64(limit))
	f.rows[table] -= n
	return n, nil
}

func (f *fakeSweepStore) SweepRevokedAccessTokens(_ context.Context, before time.Time, limit int) (int64, error) {
	return f.take(tRevoked, limit, before)
}

func (f *fakeSweepStore) SweepIssuedAccessTokens(_ context.Context, before time.Time, limit int) (int64, error) {
	return f.take(tIssued, limit, before)
}

func (f *fakeSweepStore) SweepRefreshTokens(_ context.Context, expired, settled time.Time, limit int) (int64, error) {
	return f.take(tRefresh, limit, expired, settled)
}

func (f *fakeSweepStore) SweepLoginFailures(_ context.Context, before time.Time, limit int) (int64, error) {
	return f.take(tLoginFailures, limit, before)
}

func (f *fakeSweepStore) SweepAuthorizationCodes(_ context.Context, expired, settled time.Time, limit int) (int64, error) {
	return f.take(tCodes, limit, expired, settled)
}

func (f *fakeSweepStore) SweepBrowserSessions(_ context.Context, before time.Time, limit int) (int64, error) {
	return f.take(tSessions, limit, before)
}

func (f *fakeSweepStore) SweepSigningKeys(_ context.Context, before time.Time, limit int) (int64, error) {
	return f.take(tSigningKeys, limit, before)
}

var _ SweepStore = (*fakeSweepStore)(nil)

// testSweeperConfig is a valid config over store.
func testSweeperConfig(store SweepStore) SweeperConfig {
	return SweeperConfig{
		Store: store, Interval: time.Minute, BatchSize: 2, SettledRetention: time.Hour,
		Lockout: storage.DefaultLockoutPolicy,
	}
}

func TestSweeperBatches(t *testing.T) {
	for _, tc := range []struct {
		name         string
		leaseBatches int
		want         SweepResult
		left         [nTables]int64
	}{
		{"drains every table in batches", 0, SweepResult{
			Ran: true, RevokedAccessTokens: 5, IssuedAccessTokens: 4, RefreshTokens: 1,
			LoginFailures: 3, AuthorizationCodes: 2, BrowserSessions: 7, SigningKeys: 3,
		}, [nTables]int64{}},
		{"stops when the lease is lost", 2, SweepResult{Ran: true, RevokedAccessTokens: 4}, [nTables]int64{1, 4, 1, 3, 2, 7, 3}},
		// 3+3+1+2 batches drain the first four tables, the tenth takes both
		// codes, and the eleventh, which would confirm that, is refused.
		{"stops in a later table too", 10, SweepResult{
			Ran: true, RevokedAccessTokens: 5, IssuedAccessTokens: 4, RefreshTokens: 1, LoginFailures: 3, AuthorizationCodes: 2,
		}, [nTables]int64{0, 0, 0, 0, 0, 7, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &fakeSweepStore{rows: [nTables]int64{5, 4, 1, 3, 2, 7, 3}, leaseBatches: tc.leaseBatches}
			s, err := NewSweeper(testSweeperConfig(store))
			require.NoError(t, err)
			got, err := s.Sweep(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.left, store.rows)
			for _, l := range store.limits {
				require.Equal(t, 2, l, "every DELETE is bounded by the batch size")
			}
			require.GreaterOrEqual(t, store.acquired, len(store.limits), "the lease is checked before every batch")
		})
	}
}

// TestSweeperCutoffs: each table is swept with the cutoff that keeps what
// still protects something — a revoked or issued jti until no verifier
// accepts its token (exp plus the verifier's leeway, by a clock up to the
// skew behind the sweeper's), a failed-login record while its policy
// remembers it, a redeemed code a retention after it expired — each behind
// the skew. With the issued jtis swept at exp and the revoked ones at exp
// plus the leeway by the sweeper's own clock, a verifier 10 s behind
// accepted a revoked token again (issue 20 item 4, issue 13 item 6).
func TestSweeperCutoffs(t *testing.T) {
	now := time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)
	const leeway, skew, retention = 30 * time.Second, 20 * time.Second, 7 * 24 * time.Hour
	lockout := storage.LockoutPolicy{Threshold: 3, Window: 20 * time.Minute, FirstLock: time.Minute, MaxLock: time.Hour}
	store := &fakeSweepStore{}
	cfg := testSweeperConfig(store)
	cfg.Leeway, cfg.ClockSkew, cfg.SettledRetention, cfg.Lockout = leeway, skew, retention, lockout
	cfg.Now = func() time.Time { return now.In(time.FixedZone("CET", 3600)) }
	s, err := NewSweeper(cfg)
	require.NoError(t, err)
	_, err = s.Sweep(context.Background())
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		table int
		want  []time.Time
	}{
		{"revoked jtis: exp plus leeway plus skew", tRevoked, []time.Time{now.Add(-leeway - skew)}},
		{"issued jtis: exp plus leeway plus skew", tIssued, []time.Time{now.Add(-leeway - skew)}},
		{"refresh tokens: expired, or settled a retention ago", tRefresh, []time.Time{now, now.Add(-retention)}},
		{"login failures: last failure and lock a window plus skew ago", tLoginFailures, []time.Time{now.Add(-lockout.Window - skew)}},
		{"codes: expired plus skew, redeemed ones a retention later", tCodes, []time.Time{now.Add(-skew), now.Add(-skew - retention)}},
		{"browser sessions: expired plus skew", tSessions, []time.Time{now.Add(-skew)}},
		{"signing keys: out of the JWKS a retention ago", tSigningKeys, []time.Time{now.Add(-retention)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Len(t, store.cutoffs[tc.table], len(tc.want))
			for i, want := range tc.want {
				require.True(t, want.Equal(store.cutoffs[tc.table][i]), "cutoff %d: got %v, want %v", i, store.cutoffs[tc.table][i], want)
			}
		})
	}
}

func TestNewSweeperChecksConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*SweeperConfig)
		ok     bool
	}{
		{"valid", func(*SweeperConfig) {}, true},
		{"no store", func(c *SweeperConfig) { c.Store = nil }, false},
		{"no batch size", func(c *SweeperConfig) { c.BatchSize = 0 }, false},
		{"no interval", func(c *SweeperConfig) { c.Interval = 0 }, false},
		{"no retention", func(c *SweeperConfig) { c.SettledRetention = 0 }, false},
		{"negative leeway", func(c *SweeperConfig) { c.Leeway = -time.Second }, false},
		{"negative skew", func(c *SweeperConfig) { c.ClockSkew = -time.Second }, false},
		{"no lockout policy", func(c *SweeperConfig) { c.Lockout = storage.LockoutPolicy{} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testSweeperConfig(&fakeSweepStore{})
			tc.change(&cfg)
			_, err := NewSweeper(cfg)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
		})
	}
}
