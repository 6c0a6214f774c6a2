package grants

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// Regression tests for issue 13, items 4, 5 and 10: holes in the refresh
// grant's reuse grace. Each failed on the code before its fix.

// revokingReads revokes the family right after the retry path has read the
// successor and found it live: the forced interleaving of item 4.
type revokingReads struct {
	*fakeStore
	successor string
	now       time.Time
	done      bool
}

func (r *revokingReads) GetRefreshToken(ctx context.Context, hash string) (storage.RefreshToken, error) {
	row, err := r.fakeStore.GetRefreshToken(ctx, hash)
	if hash == r.successor && !r.done {
		r.done = true
		if _, rerr := r.RevokeRefreshFamily(ctx, row.FamilyID, r.now); rerr != nil {
			return storage.RefreshToken{}, rerr
		}
	}
	return row, err
}

// TestRetryCannotEscapeFamilyRevocation (item 4): a family revoked between
// the retry's read of the successor and the recording of the new access
// token's jti must not leave that token alive. Before the fix the jti was
// recorded with a plain insert after the revocation had listed the
// family's tokens: the retry answered 200 with an access token that was
// never revoked.
func TestRetryCannotEscapeFamilyRevocation(t *testing.T) {
	f := newFixture(t, RefreshPolicy{ReuseGrace: time.Minute})
	client := storefront()
	first := f.startFamily(t, client, "offline_access")
	resp, err := newRefresh(t, f).Run(context.Background(), client, refreshReq(first, ""))
	require.NoError(t, err)

	racing := &revokingReads{fakeStore: f.store, successor: tokens.HashToken(resp.RefreshToken), now: f.clock.Now()}
	g, err := NewRefresh(RefreshConfig{Issuance: f.issuance, Store: racing, Customers: f.store})
	require.NoError(t, err)
	retry, err := g.Run(context.Background(), client, refreshReq(first, ""))
	require.True(t, racing.done, "the interleaving happened")
	if err == nil {
		require.True(t, f.store.isRevoked(accessClaims(t, retry.AccessToken).JTI),
			"an access token answered to a retry must not outlive the family's revocation")
		return
	}
	requireRefusal(t, err, refusal.InvalidGrant)
}

// TestRetryOnAReplicaWithAnotherKEK (item 5a): during the documented
// key-encryption-key change replicas derive successors with different
// keys. A retry within the grace on the other replica must get the same
// successor, not be judged as theft. Before the fix replica B derived
// another successor, found it was not the stored one and revoked the
// family.
func TestRetryOnAReplicaWithAnotherKEK(t *testing.T) {
	f := newFixture(t, RefreshPolicy{ReuseGrace: time.Minute})
	client := storefront()
	first := f.startFamily(t, client, "offline_access")
	replicaA := newRefresh(t, f)
	other, err := tokens.NewRefreshSecrets([]byte("fedcba9876543210fedcba9876543210"))
	require.NoError(t, err)
	onB := f.issuance
	onB.Secrets = other
	replicaB, err := NewRefresh(RefreshConfig{Issuance: onB, Store: f.store, Customers: f.store})
	require.NoError(t, err)

	resp, err := replicaA.Run(context.Background(), client, refreshReq(first, ""))
	require.NoError(t, err)
	f.clock.Advance(time.Second)
	retry, err := replicaB.Run(context.Background(), client, refreshReq(first, ""))
	require.NoError(t, err, "a retry within the grace on another replica")
	require.Equal(t, resp.RefreshToken, retry.RefreshToken, "the same successor")
	require.Nil(t, f.store.row(t, resp.RefreshToken).RevokedAt, "the family lives")

	// And the other way round, for the next rotation.
	next, err := replicaB.Run(context.Background(), client, refreshReq(resp.RefreshToken, ""))
	require.NoError(t, err)
	again, err := replicaA.Run(context.Background(), client, refreshReq(resp.RefreshToken, ""))
	require.NoError(t, err)
	require.Equal(t, next.RefreshToken, again.RefreshToken)
}

// TestRetryStorageErrorIsNotRevocation (item 5b): a storage error while
// the retry reads the successor is the server's fault (503 for a database
// that is away, 500 otherwise), never theft. Before the fix any read error
// fell through to revoking the family.
func TestRetryStorageErrorIsNotRevocation(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind refusal.Kind
	}{
		{"database away", fmt.Errorf("select: %w", storage.ErrUnavailable), refusal.Unavailable},
		{"fault", errors.New("disk on fire"), refusal.Fault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, RefreshPolicy{ReuseGrace: time.Minute})
			client, g := storefront(), newRefresh(t, f)
			first := f.startFamily(t, client, "offline_access")
			resp, err := g.Run(context.Background(), client, refreshReq(first, ""))
			require.NoError(t, err)
			f.store.failGet[tokens.HashToken(resp.RefreshToken)] = tt.err

			_, err = g.Run(context.Background(), client, refreshReq(first, ""))
			requireRefusal(t, err, tt.kind)
			delete(f.store.failGet, tokens.HashToken(resp.RefreshToken))
			require.Nil(t, f.store.row(t, resp.RefreshToken).RevokedAt, "no revocation on a fault")
			require.Nil(t, f.store.row(t, first).RevokedAt)
		})
	}
}

// TestGraceIsExact (item 10): the reuse grace is measured to the
// nanosecond the clock gives, not in whole seconds. Before the fix both
// times were truncated to seconds, so a retry up to a second past the
// grace was answered and, with a grace of a fraction of a second more than
// whole seconds, an earlier one refused.
func TestGraceIsExact(t *testing.T) {
	tests := []struct {
		name   string
		grace  time.Duration
		spend  time.Duration // into the second
		after  time.Duration // from the spend to the retry
		answer bool
	}{
		{"2 s grace, retry 2.5 s later", 2 * time.Second, 300 * time.Millisecond, 2500 * time.Millisecond, false},
		{"2 s grace, retry 2.001 s later", 2 * time.Second, 999 * time.Millisecond, 2001 * time.Millisecond, false},
		{"2 s grace, retry 1.999 s later", 2 * time.Second, 999 * time.Millisecond, 1999 * time.Millisecond, true},
		{"2 s grace, retry exactly 2 s later", 2 * time.Second, 500 * time.Millisecond, 2 * time.Second, true},
		{"1.5 s grace, retry 1.2 s later", 1500 * time.Millisecond, 900 * time.Millisecond, 1200 * time.Millisecond, true},
		{"1.5 s grace, retry 1.6 s later", 1500 * time.Millisecond, 100 * time.Millisecond, 1600 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, RefreshPolicy{ReuseGrace: tt.grace})
			client, g := storefront(), newRefresh(t, f)
			first := f.startFamily(t, client, "offline_access")
			f.clock.Advance(tt.spend)
			resp, err := g.Run(context.Background(), client, refreshReq(first, ""))
			require.NoError(t, err)
			f.clock.Advance(tt.after)

			retry, err := g.Run(context.Background(), client, refreshReq(first, ""))
			if tt.answer {
				require.NoError(t, err)
				require.Equal(t, resp.RefreshToken, retry.RefreshToken)
				return
			}
			requireRefusal(t, err, refusal.InvalidGrant)
			require.NotNil(t, f.store.row(t, resp.RefreshToken).RevokedAt)
		})
	}
}

// TestRetryOfARowSpentBeforeTheSeal: a family rotated by a release without
// the seal keeps working: a retry within the grace derives the successor
// again with the HMAC.
func TestRetryOfARowSpentBeforeTheSeal(t *testing.T) {
	f := newFixture(t, RefreshPolicy{ReuseGrace: time.Minute})
	client, g := storefront(), newRefresh(t, f)
	first := f.startFamily(t, client, "offline_access")
	resp, err := g.Run(context.Background(), client, refreshReq(first, ""))
	require.NoError(t, err)
	next := f.store.row(t, resp.RefreshToken)
	require.NotEmpty(t, next.PredecessorSeal, "new rotations seal the successor")
	next.PredecessorSeal = nil
	f.store.refresh[next.TokenHash] = next

	retry, err := g.Run(context.Background(), client, refreshReq(first, ""))
	require.NoError(t, err)
	require.Equal(t, resp.RefreshToken, retry.RefreshToken)
}
