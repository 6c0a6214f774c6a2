package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.50, 500 * time.Millisecond},
		{0.90, 900 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{1.00, 1000 * time.Millisecond},
	}
	for _, tt := range tests {
		got := h.quantile(tt.q)
		// Buckets are about 3 % wide; the answer is a bucket's upper bound.
		require.InDelta(t, float64(tt.want), float64(got), 0.035*float64(tt.want), "q=%v", tt.q)
		require.GreaterOrEqual(t, got, tt.want, "q=%v: an upper bound", tt.q)
	}
	require.Equal(t, time.Second, h.max)
}

func TestBucketBoundsAreContiguous(t *testing.T) {
	for us := uint64(0); us < 1<<20; us += 7 {
		i := bucketOf(us)
		require.LessOrEqual(t, us, upperBound(i), "us=%d", us)
		if i > 0 {
			require.Greater(t, us, upperBound(i-1), "us=%d", us)
		}
	}
}

func TestRunCountsStatusesAndErrors(t *testing.T) {
	var n atomic.Int64
	w := Workload{Name: "fake", Kind: KindScenario, Worker: func(context.Context, int) (Op, error) {
		return func(context.Context) (int, error) {
			time.Sleep(time.Millisecond)
			switch n.Add(1) % 4 {
			case 0:
				return 0, errors.New("connection reset")
			case 1:
				return 429, nil
			case 2:
				return 200, errors.New("inactive token")
			default:
				return 200, nil
			}
		}, nil
	}}
	var progressCalls atomic.Int64
	res, err := Run(t.Context(), w, Options{Duration: 1200 * time.Millisecond, Concurrency: 3,
		Progress: func(Progress) { progressCalls.Add(1) }})
	require.NoError(t, err)
	require.Positive(t, res.Requests)
	require.Equal(t, res.Requests, res.ErrorCount()+int64(res.PerSecond*res.Seconds+0.5))
	require.Positive(t, res.Errors["429"])
	require.Positive(t, res.Errors["transport"])
	require.Positive(t, res.Errors["200"], "an unexpected answer is counted by its status")
	require.Positive(t, progressCalls.Load())
	require.LessOrEqual(t, res.Seconds, 1.2)
}

func TestRunFailsWhenAWorkerCannotStart(t *testing.T) {
	w := Workload{Name: "broken", Worker: func(_ context.Context, i int) (Op, error) {
		if i == 1 {
			return nil, errors.New("sign-in refused")
		}
		return func(context.Context) (int, error) { return 200, nil }, nil
	}}
	_, err := Run(t.Context(), w, Options{Duration: time.Second, Concurrency: 2})
	require.ErrorContains(t, err, "sign-in refused")
}

func TestWithCeilings(t *testing.T) {
	got := WithCeilings([]Result{
		{Name: CeilingHash, Kind: KindCeiling, PerSecond: 90},
		{Name: ScenarioPassword, Kind: KindScenario, Ceiling: CeilingHash, PerSecond: 81},
		{Name: ScenarioJWKS, Kind: KindScenario, Ceiling: CeilingHTTP, PerSecond: 9000},
	})
	require.Equal(t, 90.0, got[1].CeilingPerSecond)
	require.Equal(t, 0.9, got[1].OfCeiling)
	require.Zero(t, got[2].OfCeiling, "a ceiling that was not measured gives no fraction")
}

// TestRunWarmup: ops started during the warm-up run but are not counted.
func TestRunWarmup(t *testing.T) {
	warmup := 300 * time.Millisecond
	var started time.Time
	w := Workload{Name: "warming", Kind: KindScenario, Worker: func(context.Context, int) (Op, error) {
		return func(context.Context) (int, error) {
			time.Sleep(5 * time.Millisecond)
			if time.Since(started) < warmup-20*time.Millisecond {
				return 503, nil // cold: would count as an error
			}
			return 200, nil
		}, nil
	}}
	started = time.Now()
	res, err := Run(t.Context(), w, Options{Duration: 300 * time.Millisecond, Warmup: warmup, Concurrency: 2})
	require.NoError(t, err)
	require.Positive(t, res.Requests)
	require.Empty(t, res.Errors, "the warm-up's answers are not in the result")
	require.LessOrEqual(t, res.Seconds, 0.3)
}

// TestRunMinOpsOutlastsDuration: an op slower than the whole Duration (a
// login on a loaded machine) is still measured when MinOps asks for it;
// the rate is over the time actually run. Without MinOps nothing
// completes within the Duration.
func TestRunMinOpsOutlastsDuration(t *testing.T) {
	// slow builds a workload whose every op takes d (or ends with its run).
	slow := func(d time.Duration) Workload {
		return Workload{Name: "slow", Kind: KindScenario, Worker: func(context.Context, int) (Op, error) {
			return func(ctx context.Context) (int, error) {
				select {
				case <-time.After(d):
					return 200, nil
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}, nil
		}}
	}
	// An op longer than any scheduling delay: without MinOps the run ends
	// at its Duration having completed nothing, however loaded the machine.
	res, err := Run(t.Context(), slow(time.Hour), Options{Duration: 20 * time.Millisecond, Concurrency: 2})
	require.NoError(t, err)
	require.Zero(t, res.Requests, "nothing completes within 20 ms")

	res, err = Run(t.Context(), slow(60*time.Millisecond), Options{Duration: 20 * time.Millisecond, Concurrency: 2, MinOps: 5})
	require.NoError(t, err)
	require.GreaterOrEqual(t, res.Requests, int64(5))
	require.Empty(t, res.Errors)
	require.Greater(t, res.Seconds, 0.1, "the run lasted until the fifth op")
	require.Less(t, res.Seconds, 30.0)
	require.InDelta(t, float64(res.Requests)/res.Seconds, res.PerSecond, 0.01*res.PerSecond)
}
