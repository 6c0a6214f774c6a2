package login

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

type answer struct{ err error }

func (a answer) Authenticate(context.Context, string, string, string) (storage.Customer, error) {
	return storage.Customer{ID: 21}, a.err
}

type limiter struct{ refuse bool }

func (l limiter) Allow(string) error {
	if l.refuse {
		return refusal.ErrThrottled
	}
	return nil
}

// TestAuthenticate: the customers package's answers become the refusals
// every dialect maps (a locked account reads as bad credentials).
func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind refusal.Kind
	}{
		{"wrong password", customers.ErrInvalidCredentials, refusal.BadCredentials},
		{"locked", customers.ErrLocked, refusal.BadCredentials},
		{"not verified", customers.ErrNotVerified, refusal.NotVerified},
		{"hashing busy", refusal.ErrUnavailable, refusal.Unavailable},
		{"database away", fmt.Errorf("load: %w", storage.ErrUnavailable), refusal.Unavailable},
		{"fault", errors.New("boom"), refusal.Fault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{Authenticator: answer{tt.err}})
			require.NoError(t, err)
			_, err = c.Authenticate(context.Background(), "acme12aa", "a@b.c", "pw")
			require.Equal(t, tt.kind, refusal.KindOf(err))
			require.ErrorIs(t, err, tt.err, "the cause is kept for the log")
		})
	}
	c, err := New(Config{Authenticator: answer{}})
	require.NoError(t, err)
	got, err := c.Authenticate(context.Background(), "acme12aa", "a@b.c", "pw")
	require.NoError(t, err)
	require.Equal(t, uint64(21), got.ID)
}

func TestAllow(t *testing.T) {
	c, err := New(Config{Authenticator: answer{}})
	require.NoError(t, err)
	require.NoError(t, c.Allow("192.0.2.1"), "no limiter: no limit")
	c, err = New(Config{Authenticator: answer{}, Limiter: limiter{refuse: true}})
	require.NoError(t, err)
	require.Equal(t, refusal.Throttled, refusal.KindOf(c.Allow("192.0.2.1")))
	_, err = New(Config{})
	require.Error(t, err)
}
