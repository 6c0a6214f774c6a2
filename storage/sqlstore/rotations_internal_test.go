package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// TestRotationBatchRefusalsLeaveNothing: in one group commit, a rotation
// that is refused (its token already spent; its access token's jti taken)
// leaves no row behind and its token as it was, and the rotations beside
// it commit.
func TestRotationBatchRefusalsLeaveNothing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "batch.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	require.NotNil(t, s.rotations, "SQLite rotations are group-committed")

	h := func(v string) string { sum := sha256.Sum256([]byte(v)); return hex.EncodeToString(sum[:]) }
	now := time.Now().UTC().Truncate(time.Second)
	token := func(name string) storage.RefreshToken {
		return storage.RefreshToken{TokenHash: h(name), FamilyID: "fam-" + name[:1], ClientID: "web", CustomerID: 1,
			ShopKey: "s", Scope: "offline_access", AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour), FamilyExpiresAt: now.Add(time.Hour)}
	}
	access := func(jti, family string) storage.IssuedAccessToken {
		return storage.IssuedAccessToken{JTI: jti, FamilyID: family, ExpiresAt: now.Add(time.Hour)}
	}
	for _, name := range []string{"a0", "b0", "c0", "d0"} {
		require.NoError(t, s.CreateRefreshToken(ctx, token(name), storage.IssuedAccessToken{}))
	}
	require.NoError(t, s.RecordIssuedAccessToken(ctx, access("taken-jti", "fam-x")))
	// c0 is spent before the batch.
	require.NoError(t, s.RotateRefreshToken(ctx, h("c0"), now, token("c1"), access("jti-c1", "fam-c")))

	rot := func(from, to, jti string) *rotation {
		next := token(to)
		return &rotation{ctx: ctx, oldHash: h(from), now: now, next: next, access: access(jti, next.FamilyID), done: make(chan struct{})}
	}
	batch := []*rotation{
		rot("a0", "a1", "jti-a1"),
		rot("b0", "b1", "taken-jti"), // duplicate jti
		rot("c0", "c2", "jti-c2"),    // spent token
		rot("d0", "d1", "jti-d1"),
		rot("a0", "a9", "jti-a9"), // a0 again, after its spend in this batch
	}
	s.commitRotations(batch)

	require.NoError(t, batch[0].err)
	require.NoError(t, batch[3].err)
	for _, i := range []int{1, 2, 4} {
		require.ErrorIs(t, batch[i].err, storage.ErrConflict, "rotation %d", i)
	}
	for _, live := range []string{"a1", "b0", "d1"} {
		got, err := s.GetRefreshToken(ctx, h(live))
		require.NoError(t, err, live)
		require.Nil(t, got.SpentAt, "%s is live", live)
	}
	for _, absent := range []string{"b1", "c2", "a9"} {
		_, err := s.GetRefreshToken(ctx, h(absent))
		require.True(t, errors.Is(err, storage.ErrNotFound), "%s must not exist: %v", absent, err)
	}
	a0, err := s.GetRefreshToken(ctx, h("a0"))
	require.NoError(t, err)
	require.Equal(t, h("a1"), a0.SuccessorHash, "a0's one successor is a1")
	c0, err := s.GetRefreshToken(ctx, h("c0"))
	require.NoError(t, err)
	require.Equal(t, h("c1"), c0.SuccessorHash)
	var jtis []string
	require.NoError(t, s.db.Model(&issuedAccessTokenModel{}).Order("jti").Pluck("jti", &jtis).Error)
	require.Equal(t, []string{"jti-a1", "jti-c1", "jti-d1", "taken-jti"}, jtis)
}

// TestRotationPastDeadlineIsUnavailable: a rotation whose caller's
// deadline has passed before its batch runs is left out, and its caller
// hears storage.ErrUnavailable (503), as from a transaction.
func TestRotationPastDeadlineIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "deadline.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Second)
	tok := storage.RefreshToken{TokenHash: "old", FamilyID: "f", ClientID: "web", CustomerID: 1, ShopKey: "s",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour), FamilyExpiresAt: now.Add(time.Hour)}
	require.NoError(t, s.CreateRefreshToken(ctx, tok, storage.IssuedAccessToken{}))
	next := tok
	next.TokenHash = "new"

	late, cancel := context.WithDeadline(ctx, now.Add(-time.Second))
	defer cancel()
	err = s.RotateRefreshToken(late, "old", now, next, storage.IssuedAccessToken{})
	require.ErrorIs(t, err, storage.ErrUnavailable)
	got, err := s.GetRefreshToken(ctx, "old")
	require.NoError(t, err)
	require.Nil(t, got.SpentAt, "nothing was spent")
	_, err = s.GetRefreshToken(ctx, "new")
	require.ErrorIs(t, err, storage.ErrNotFound)
}

// TestHotReadHonoursAnEndedContext: on SQLite the hot reads run without
// the driver's per-statement cancellation watcher (a goroutine for each
// query), so they check their caller's context first: a request that has
// ended reads nothing, and a passed deadline is storage.ErrUnavailable.
func TestHotReadHonoursAnEndedContext(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hot.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Second)
	tok := storage.RefreshToken{TokenHash: "live", FamilyID: "f", ClientID: "web", CustomerID: 1, ShopKey: "s",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour), FamilyExpiresAt: now.Add(time.Hour)}
	require.NoError(t, s.CreateRefreshToken(ctx, tok, storage.IssuedAccessToken{}))

	_, err = s.GetRefreshToken(ctx, "live")
	require.NoError(t, err, "a live context reads")
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.GetRefreshToken(gone, "live")
	require.ErrorIs(t, err, context.Canceled)
	late, cancelLate := context.WithDeadline(ctx, now.Add(-time.Second))
	defer cancelLate()
	_, err = s.GetRefreshToken(late, "live")
	require.ErrorIs(t, err, storage.ErrUnavailable)
}
