package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/storage"
)

// racers is how many goroutines race for one state change.
const racers = racer.N

// race runs fn(i) for i in [0, racers) at once and returns the errors.
func race(fn func(i int) error) []error { return racer.Run(racers, fn) }

// requireOneWinner checks that exactly one error is nil and the others are
// storage.ErrConflict, and returns the winner's index.
func requireOneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two winners: %d and %d", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, storage.ErrConflict, "racer %d", i)
	}
	require.NotEqual(t, -1, winner, "no winner")
	return winner
}

func testConcurrentRotation(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	old := newToken("contended", "fam", now)
	require.NoError(t, s.CreateRefreshToken(ctx, old, newAccess("a0", "fam", now.Add(time.Hour))))

	next := func(i int) storage.RefreshToken { return newToken(fmt.Sprintf("next-%d", i), "fam", now) }
	errs := race(func(i int) error {
		return s.RotateRefreshToken(ctx, old.TokenHash, now, next(i), newAccess(fmt.Sprintf("a-%d", i), "fam", now.Add(time.Hour)))
	})
	winner := requireOneWinner(t, errs)

	successors := 0
	for i := range racers {
		_, err := s.GetRefreshToken(ctx, next(i).TokenHash)
		if err == nil {
			successors++
			continue
		}
		require.ErrorIs(t, err, storage.ErrNotFound)
	}
	require.Equal(t, 1, successors, "exactly one successor row")
	got, err := s.GetRefreshToken(ctx, old.TokenHash)
	require.NoError(t, err)
	require.Equal(t, next(winner).TokenHash, got.SuccessorHash)
}

func testConcurrentSigningKeys(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	errs := race(func(i int) error {
		return s.CreateSigningKey(ctx, storage.SigningKey{
			KID:        fmt.Sprintf("replica-%d", i),
			Algorithm:  "RS256",
			Generation: 7,
			CreatedAt:  baseTime(),
		})
	})
	winner := requireOneWinner(t, errs)
	keys, err := s.ListSigningKeys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, fmt.Sprintf("replica-%d", winner), keys[0].KID)
}

func testConcurrentCustomers(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	errs := race(func(i int) error {
		return s.CreateCustomer(ctx, &storage.Customer{
			ShopKey:         "demo",
			EmailNormalized: "same@example.com",
			Name:            fmt.Sprint(i),
		})
	})
	winner := requireOneWinner(t, errs)
	got, err := s.GetCustomerByEmail(ctx, "demo", "same@example.com")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(winner), got.Name)
}

// testConcurrentRekey: two `keys rekey` runs at once must not both rewrite
// a key (the loser would encrypt what the winner already replaced).
func testConcurrentRekey(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	require.NoError(t, s.CreateSigningKey(ctx, storage.SigningKey{
		KID: "k", Algorithm: "RS256", Generation: 1, EncryptedPrivateKey: []byte("old"), CreatedAt: baseTime(),
	}))
	errs := race(func(i int) error {
		return s.RekeySigningKeys(ctx, []storage.SigningKeyCiphertext{
			{KID: "k", Old: []byte("old"), New: fmt.Appendf(nil, "new-%d", i)},
		})
	})
	winner := requireOneWinner(t, errs)
	keys, err := s.ListSigningKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("new-%d", winner), string(keys[0].EncryptedPrivateKey))
}

// testConcurrentAttachAndRevoke races attaching access tokens to a family
// (grace retries) against the family's revocation: whatever the
// interleaving, every token that was attached is revoked in the end, and
// none is attached after the revocation (issue 13 item 4).
func testConcurrentAttachAndRevoke(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	for round := range 4 {
		family := fmt.Sprintf("race-attach-%d", round)
		live := newToken(family+"/live", family, now)
		require.NoError(t, s.CreateRefreshToken(ctx, live, storage.IssuedAccessToken{}))
		revoker := racers / 2
		errs := race(func(i int) error {
			if i == revoker {
				_, err := s.RevokeRefreshFamily(ctx, family, now)
				return err
			}
			return s.AttachAccessToken(ctx, live.TokenHash, now, newAccess(fmt.Sprintf("%s/%d", family, i), family, now.Add(time.Hour)))
		})
		require.NoError(t, errs[revoker])
		for i, err := range errs {
			if i == revoker {
				continue
			}
			jti := fmt.Sprintf("%s/%d", family, i)
			revoked, rerr := s.IsAccessTokenRevoked(ctx, jti)
			require.NoError(t, rerr)
			if err == nil {
				require.True(t, revoked, "attached %s escaped the revocation", jti)
				continue
			}
			require.ErrorIs(t, err, storage.ErrConflict, jti)
			require.False(t, revoked)
			requireRecorded(t, s, jti, false)
		}
	}
}

// testConcurrentAttachToFamilyOfAndRevoke: an access token exchanged for
// another joins the old one's family, and a revocation of that family
// racing the exchanges either lists the new jti or made it refused.
func testConcurrentAttachToFamilyOfAndRevoke(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	for round := range 4 {
		family := fmt.Sprintf("race-exchange-%d", round)
		old := family + "/old"
		require.NoError(t, s.CreateRefreshToken(ctx, newToken(family+"/live", family, now), newAccess(old, family, now.Add(time.Hour))))
		revoker := racers / 2
		errs := race(func(i int) error {
			if i == revoker {
				_, err := s.RevokeRefreshFamily(ctx, family, now)
				return err
			}
			_, err := s.AttachToFamilyOf(ctx, old, newAccess(fmt.Sprintf("%s/%d", family, i), "", now.Add(time.Hour)))
			return err
		})
		require.NoError(t, errs[revoker])
		for i, err := range errs {
			if i == revoker {
				continue
			}
			jti := fmt.Sprintf("%s/%d", family, i)
			revoked, rerr := s.IsAccessTokenRevoked(ctx, jti)
			require.NoError(t, rerr)
			if err == nil {
				require.True(t, revoked, "exchanged %s escaped the revocation", jti)
				continue
			}
			require.ErrorIs(t, err, storage.ErrConflict, jti)
			require.False(t, revoked)
			requireRecorded(t, s, jti, false)
		}
	}
}
