package refusal

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func TestOf(t *testing.T) {
	cause := errors.New("wrong password")
	tests := []struct {
		name  string
		err   error
		kind  Kind
		retry int
	}{
		{"nil", nil, Fault, 0},
		{"a refusal", ErrBadCredentials.WithCause(cause), BadCredentials, 0},
		{"a wrapped refusal", fmt.Errorf("login: %w", ErrThrottled.WithRetryAfter(2500*time.Millisecond)), Throttled, 3},
		{"the database is away", fmt.Errorf("load client: %w", storage.ErrUnavailable), Unavailable, 1},
		// The request's deadline (SHOPAUTH_REQUEST_TIMEOUT) fired while it
		// waited: a driver or a queue hands back the context's own error.
		{"the deadline passed in the store", fmt.Errorf("record login attempt: %w", context.DeadlineExceeded), Unavailable, 1},
		{"the deadline passed, bare", context.DeadlineExceeded, Unavailable, 1},
		{"the request was cancelled", fmt.Errorf("look up customer: %w", context.Canceled), Unavailable, 1},
		{"a fault", errors.New("disk on fire"), Fault, 0},
		{"not found is a fault where nobody classified it", storage.ErrNotFound, Fault, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.kind, KindOf(tt.err))
			if tt.err == nil {
				require.Nil(t, Of(tt.err))
				return
			}
			r := Of(tt.err)
			require.Equal(t, tt.retry, r.RetryAfterSeconds())
			// A refusal is itself; anything else is kept as the cause, for
			// errors.Is and the log.
			require.True(t, errors.Is(r, tt.err) || errors.Is(tt.err, r))
		})
	}
}

func TestIsComparesKind(t *testing.T) {
	err := fmt.Errorf("grant: %w", New(InvalidGrant, "expired"))
	require.ErrorIs(t, err, ErrInvalidGrant)
	require.NotErrorIs(t, err, ErrInvalidToken)
	require.Empty(t, ErrInvalidGrant.Description, "WithDescription and New never modify the shared values")
	require.Equal(t, "refused: invalid grant: expired", New(InvalidGrant, "expired").Error())
}

func TestRetryAfterSecondsRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 0, -time.Second: 0, time.Nanosecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 90 * time.Second: 90} {
		require.Equal(t, want, ErrThrottled.WithRetryAfter(d).RetryAfterSeconds(), "%v", d)
	}
}
