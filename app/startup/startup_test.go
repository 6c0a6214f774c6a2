package startup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

var errAway = fmt.Errorf("open store: %w: dial tcp 127.0.0.1:3306: connection refused", storage.ErrUnavailable)

// steps returns a step that fails with the given errors in order, then
// succeeds, counting its runs.
func steps(errs ...error) (func(context.Context) error, *int) {
	runs := 0
	return func(context.Context) error {
		runs++
		if runs <= len(errs) {
			return errs[runs-1]
		}
		return nil
	}, &runs
}

func TestWait(t *testing.T) {
	bad := errors.New("migrate: table customers has no column x")
	tests := []struct {
		name     string
		timeout  time.Duration
		errs     []error
		wantRuns int
		wantErr  error
	}{
		{name: "there at once", timeout: time.Second, wantRuns: 1},
		{name: "comes after three tries", timeout: 5 * time.Second, errs: []error{errAway, errAway, errAway}, wantRuns: 4},
		{name: "a lasting fault ends the wait", timeout: 5 * time.Second, errs: []error{errAway, bad}, wantRuns: 2, wantErr: bad},
		{name: "no wait allowed", timeout: 0, errs: []error{errAway}, wantRuns: 1, wantErr: storage.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, runs := steps(tt.errs...)
			err := Wait(t.Context(), Config{Timeout: tt.timeout, FirstPause: time.Millisecond, MaxPause: 5 * time.Millisecond}, step)
			require.Equal(t, tt.wantRuns, *runs)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.NotContains(t, fmt.Sprintf("%T", err), "Permanent")
		})
	}
}

// TestWaitIsBounded: a database that never comes is given up on once the
// timeout has passed, with an error naming the setting, after several
// tries paced apart; every try that failed was logged.
func TestWaitIsBounded(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	step, runs := steps(slices.Repeat([]error{errAway}, 1000)...)
	const timeout = 300 * time.Millisecond
	start := time.Now()
	err := Wait(t.Context(), Config{Timeout: timeout, FirstPause: 20 * time.Millisecond, MaxPause: 80 * time.Millisecond, Logger: logger}, step)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, storage.ErrUnavailable)
	require.Contains(t, err.Error(), "SHOPAUTH_DATABASE_STARTUP_TIMEOUT")
	require.LessOrEqual(t, elapsed, timeout+200*time.Millisecond, "no try starts after the timeout")
	require.GreaterOrEqual(t, *runs, 3)
	require.Less(t, *runs, 30, "tries are paced, not spun")
	require.Equal(t, *runs-1, strings.Count(logs.String(), "database not available; retrying"))
}

// TestWaitEndsWithTheContext: a SIGTERM while waiting stops the wait.
func TestWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	step := func(context.Context) error { cancel(); return errAway }
	err := Wait(ctx, Config{Timeout: time.Hour, FirstPause: time.Hour}, step)
	require.ErrorIs(t, err, context.Canceled)
}
