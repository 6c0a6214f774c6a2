package server

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeSweepStore holds rows per table and a lease that is lost after
// leaseBatches acquisitions (0: never).
type fakeSweepStore struct {
	revoked, issued, refresh int64
	acquired, leaseBatches   int
	limits                   []int
}

func (f *fakeSweepStore) AcquireLease(context.Context, string, string, time.Time, time.Duration) (bool, error) {
	f.acquired++
	return f.leaseBatches == 0 || f.acquired <= f.leaseBatches, nil
}

func (f *fakeSweepStore) take(rows *int64, limit int) (int64, error) {
	f.limits = append(f.limits, limit)
	n := min(*rows, int64(limit))
	*rows -= n
	return n, nil
}

func (f *fakeSweepStore) SweepRevokedAccessTokens(_ context.Context, _ time.Time, limit int) (int64, error) {
	return f.take(&f.revoked, limit)
}

func (f *fakeSweepStore) SweepIssuedAccessTokens(_ context.Context, _ time.Time, limit int) (int64, error) {
	return f.take(&f.issued, limit)
}

func (f *fakeSweepStore) SweepRefreshTokens(_ context.Context, _, _ time.Time, limit int) (int64, error) {
	return f.take(&f.refresh, limit)
}

var _ SweepStore = (*fakeSweepStore)(nil)

func TestSweeperBatches(t *testing.T) {
	for _, tc := range []struct {
		name         string
		leaseBatches int
		want         SweepResult
		left         [3]int64
	}{
		{"drains every table in batches", 0, SweepResult{Ran: true, RevokedAccessTokens: 5, IssuedAccessTokens: 4, RefreshTokens: 1}, [3]int64{}},
		{"stops when the lease is lost", 2, SweepResult{Ran: true, RevokedAccessTokens: 4}, [3]int64{1, 4, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &fakeSweepStore{revoked: 5, issued: 4, refresh: 1, leaseBatches: tc.leaseBatches}
			s, err := NewSweeper(SweeperConfig{Store: store, Interval: time.Minute, BatchSize: 2, SettledRetention: time.Hour})
			require.NoError(t, err)
			got, err := s.Sweep(context.Background())
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.left, [3]int64{store.revoked, store.issued, store.refresh})
			for _, l := range store.limits {
				require.Equal(t, 2, l, "every DELETE is bounded by the batch size")
			}
			require.GreaterOrEqual(t, store.acquired, len(store.limits), "the lease is checked before every batch")
		})
	}
}

func TestNewSweeperChecksConfig(t *testing.T) {
	_, err := NewSweeper(SweeperConfig{Store: &fakeSweepStore{}, Interval: time.Minute, BatchSize: 0, SettledRetention: time.Hour})
	require.Error(t, err)
	_, err = NewSweeper(SweeperConfig{Interval: time.Minute, BatchSize: 1, SettledRetention: time.Hour})
	require.Error(t, err)
}
