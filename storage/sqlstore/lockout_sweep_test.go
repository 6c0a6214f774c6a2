package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// TestRecordLoginAttemptSweptUnder: RecordLoginAttempt creates a record
// before it locks it, so a sweep can run in between. A new record is
// stamped so that the sweep spares it; a cleared one can be deleted there,
// and the attempt then starts over and is counted. A record that counts is
// never deleted, and the retries are bounded.
func TestRecordLoginAttemptSweptUnder(t *testing.T) {
	p := storage.DefaultLockoutPolicy
	now := time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				earlier int  // failures recorded before the attempt
				cleared bool // and then cleared
				cutoff  time.Time
				want    int // the count after the attempt; 0: it fails
				deleted int64
			}{
				{"a new record is spared", 0, false, p.ForgottenBefore(now), 1, 0},
				{"a cleared record is swept, the attempt starts over", 1, true, p.ForgottenBefore(now), 1, 1},
				{"a counting record is spared", 2, false, p.ForgottenBefore(now), 3, 0},
				{"a sweeper far ahead: a bounded failure", 0, false, now.Add(time.Hour), 0, 3},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					s := b.Open(t)
					for range tc.earlier {
						_, _, err := s.RecordLoginAttempt(ctx, "shop1", "a@example.com", now.Add(-time.Minute), p)
						require.NoError(t, err)
					}
					if tc.cleared {
						require.NoError(t, s.ClearLoginFailures(ctx, "shop1", "a@example.com"))
					}
					var deleted int64
					require.NoError(t, s.AfterLoginFailureCreate(func() {
						n, err := s.SweepLoginFailures(ctx, tc.cutoff, 10)
						require.NoError(t, err)
						deleted += n
					}))
					rec, ok, err := s.RecordLoginAttempt(ctx, "shop1", "a@example.com", now, p)
					require.Equal(t, tc.deleted, deleted, "rows the sweeps deleted")
					if tc.want == 0 {
						require.ErrorIs(t, err, storage.ErrNotFound)
						return
					}
					require.NoError(t, err)
					require.True(t, ok)
					require.Equal(t, tc.want, rec.Count)
					got, err := s.GetLoginFailures(ctx, "shop1", "a@example.com")
					require.NoError(t, err)
					require.Equal(t, tc.want, got.Count, "stored")
				})
			}
		})
	}
}
