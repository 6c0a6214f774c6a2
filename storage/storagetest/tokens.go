package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// newToken builds a live refresh token of family for client "web".
func newToken(name, family string, now time.Time) storage.RefreshToken {
	return storage.RefreshToken{
		TokenHash:       hashOf(name),
		FamilyID:        family,
		ClientID:        "web",
		CustomerID:      21,
		ShopKey:         "demo",
		Scope:           "openid offline_access",
		AuthTime:        now.Add(-time.Minute),
		IssuedAt:        now,
		ExpiresAt:       now.Add(time.Hour),
		FamilyExpiresAt: now.Add(30 * 24 * time.Hour),
	}
}

func newAccess(jti, family string, expires time.Time) storage.IssuedAccessToken {
	return storage.IssuedAccessToken{JTI: jti, FamilyID: family, ExpiresAt: expires}
}

// requireRecorded reports whether jti is already recorded as issued, by
// trying to record it again (which records it when it was not).
func requireRecorded(t *testing.T, s Store, jti string, recorded bool) {
	t.Helper()
	err := s.RecordIssuedAccessToken(context.Background(), newAccess(jti, "probe", baseTime()))
	if recorded {
		require.ErrorIs(t, err, storage.ErrConflict, "jti %s should be recorded", jti)
	} else {
		require.NoError(t, err, "jti %s should not be recorded", jti)
	}
}

func testRefreshTokens(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	rt := newToken("first", "fam-1", now)
	require.NoError(t, s.CreateRefreshToken(ctx, rt, newAccess("jti-1", "fam-1", now.Add(15*time.Minute))))

	t.Run("round trip in UTC seconds, nil pointers", func(t *testing.T) {
		got, err := s.GetRefreshToken(ctx, rt.TokenHash)
		require.NoError(t, err)
		want := rt
		want.AuthTime = stored(rt.AuthTime)
		want.IssuedAt = stored(rt.IssuedAt)
		want.ExpiresAt = stored(rt.ExpiresAt)
		want.FamilyExpiresAt = stored(rt.FamilyExpiresAt)
		require.Equal(t, want, got)
		require.Nil(t, got.SpentAt)
		require.Nil(t, got.RevokedAt)
		requireRecorded(t, s, "jti-1", true)
	})

	t.Run("unknown hash", func(t *testing.T) {
		_, err := s.GetRefreshToken(ctx, hashOf("nope"))
		require.ErrorIs(t, err, storage.ErrNotFound)
	})

	t.Run("duplicate hash conflicts and writes nothing", func(t *testing.T) {
		dup := newToken("first", "fam-2", now)
		err := s.CreateRefreshToken(ctx, dup, newAccess("jti-dup", "fam-2", now.Add(time.Minute)))
		require.ErrorIs(t, err, storage.ErrConflict)
		requireRecorded(t, s, "jti-dup", false)
	})

	t.Run("duplicate access jti rolls the refresh token back", func(t *testing.T) {
		rt := newToken("second", "fam-3", now)
		err := s.CreateRefreshToken(ctx, rt, newAccess("jti-1", "fam-3", now.Add(time.Minute)))
		require.ErrorIs(t, err, storage.ErrConflict)
		_, err = s.GetRefreshToken(ctx, rt.TokenHash)
		require.ErrorIs(t, err, storage.ErrNotFound)
	})

	t.Run("empty access jti records nothing", func(t *testing.T) {
		rt := newToken("third", "fam-4", now)
		require.NoError(t, s.CreateRefreshToken(ctx, rt, storage.IssuedAccessToken{}))
		_, err := s.GetRefreshToken(ctx, rt.TokenHash)
		require.NoError(t, err)
	})

	t.Run("RecordIssuedAccessToken", func(t *testing.T) {
		require.NoError(t, s.RecordIssuedAccessToken(ctx, newAccess("jti-rec", "fam-1", now)))
		require.ErrorIs(t, s.RecordIssuedAccessToken(ctx, newAccess("jti-rec", "fam-1", now)), storage.ErrConflict)
	})
}

func testRotateRefreshToken(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	tests := []struct {
		name      string
		expiresIn time.Duration // old token's expiry relative to now; 0: an hour, -1: the rotation's now
		spend     bool          // rotate the old token once beforehand
		revoke    bool          // revoke the family beforehand
		oldHash   string        // overrides the presented hash
		client    string        // overrides next.ClientID
		family    string        // overrides next.FamilyID
		takenNext bool          // next's hash already belongs to a stored token
		wantErr   error
	}{
		{name: "live token rotates"},
		{name: "spent token", spend: true, wantErr: storage.ErrConflict},
		{name: "revoked family", revoke: true, wantErr: storage.ErrConflict},
		{name: "expires exactly at rotation", expiresIn: -1, wantErr: storage.ErrConflict},
		{name: "expired", expiresIn: -time.Hour, wantErr: storage.ErrConflict},
		{name: "unknown hash", oldHash: hashOf("unknown"), wantErr: storage.ErrConflict},
		{name: "other client", client: "evil", wantErr: storage.ErrConflict},
		{name: "other family", family: "other-family", wantErr: storage.ErrConflict},
		{name: "successor hash taken", takenNext: true, wantErr: storage.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			family := "fam-" + tt.name
			old := newToken(tt.name+"/old", family, now)
			switch {
			case tt.expiresIn == -1:
				old.ExpiresAt = now.Add(time.Second) // the rotation's now
			case tt.expiresIn != 0:
				old.ExpiresAt = now.Add(tt.expiresIn)
			}
			require.NoError(t, s.CreateRefreshToken(ctx, old, newAccess(tt.name+"/a0", family, now.Add(time.Hour))))
			if tt.spend {
				first := newToken(tt.name+"/first", family, now)
				require.NoError(t, s.RotateRefreshToken(ctx, old.TokenHash, now, first, newAccess(tt.name+"/a-first", family, now.Add(time.Hour))))
			}
			if tt.revoke {
				_, err := s.RevokeRefreshFamily(ctx, family, now)
				require.NoError(t, err)
			}
			next := newToken(tt.name+"/next", family, now)
			if tt.takenNext {
				next = newToken("taken/"+tt.name, family, now)
				require.NoError(t, s.CreateRefreshToken(ctx, next, storage.IssuedAccessToken{}))
			}
			if tt.client != "" {
				next.ClientID = tt.client
			}
			if tt.family != "" {
				next.FamilyID = tt.family
			}
			presented := old.TokenHash
			if tt.oldHash != "" {
				presented = tt.oldHash
			}
			before, err := s.GetRefreshToken(ctx, old.TokenHash)
			require.NoError(t, err)

			err = s.RotateRefreshToken(ctx, presented, now.Add(time.Second), next, newAccess(tt.name+"/a1", next.FamilyID, now.Add(time.Hour)))

			after, getErr := s.GetRefreshToken(ctx, old.TokenHash)
			require.NoError(t, getErr)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Equal(t, before, after, "old token unchanged")
				if !tt.takenNext {
					_, err := s.GetRefreshToken(ctx, next.TokenHash)
					require.ErrorIs(t, err, storage.ErrNotFound, "no successor written")
				}
				requireRecorded(t, s, tt.name+"/a1", false)
				return
			}
			require.NoError(t, err)
			// Microseconds kept: the reuse grace is measured from the spend
			// (issue 13 item 10; whole seconds before).
			require.Equal(t, ptr(now.Add(time.Second).UTC().Truncate(time.Microsecond)), after.SpentAt)
			require.Equal(t, next.TokenHash, after.SuccessorHash)
			require.Nil(t, after.RevokedAt)
			got, err := s.GetRefreshToken(ctx, next.TokenHash)
			require.NoError(t, err)
			require.Equal(t, next.FamilyID, got.FamilyID)
			require.Equal(t, stored(next.ExpiresAt), got.ExpiresAt)
			require.Nil(t, got.SpentAt)
			requireRecorded(t, s, tt.name+"/a1", true)
		})
	}
}

func testRevokeRefreshFamily(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	// Family f: t1 rotated to t2, a live and an expired access token.
	// Family g: untouched bystander.
	t1 := newToken("t1", "f", now)
	t2 := newToken("t2", "f", now)
	g1 := newToken("g1", "g", now)
	require.NoError(t, s.CreateRefreshToken(ctx, t1, newAccess("f-a1", "f", now.Add(time.Hour))))
	require.NoError(t, s.RotateRefreshToken(ctx, t1.TokenHash, now, t2, newAccess("f-a2", "f", now.Add(time.Hour))))
	require.NoError(t, s.RecordIssuedAccessToken(ctx, newAccess("f-expired", "f", now.Add(-time.Minute))))
	require.NoError(t, s.CreateRefreshToken(ctx, g1, newAccess("g-a1", "g", now.Add(time.Hour))))
	revokedAt := now.Add(time.Minute)
	// Expired by the revoking replica's clock, but a verifier accepts it
	// until exp plus its leeway by its own clock.
	require.NoError(t, s.RecordIssuedAccessToken(ctx, newAccess("f-tail", "f", revokedAt.Add(-10*time.Second))))

	steps := []struct {
		name        string
		family      string
		wantRevoked int64
	}{
		{name: "revokes every token of the family", family: "f", wantRevoked: 2},
		{name: "second run is harmless", family: "f", wantRevoked: 0},
		{name: "unknown family", family: "nope", wantRevoked: 0},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.RevokeRefreshFamily(ctx, tt.family, revokedAt)
			require.NoError(t, err)
			require.Equal(t, tt.wantRevoked, n)

			for _, hash := range []string{t1.TokenHash, t2.TokenHash} {
				got, err := s.GetRefreshToken(ctx, hash)
				require.NoError(t, err)
				require.Equal(t, ptr(stored(revokedAt)), got.RevokedAt, "first revocation time is kept")
			}
			got, err := s.GetRefreshToken(ctx, g1.TokenHash)
			require.NoError(t, err)
			require.Nil(t, got.RevokedAt)

			jtis := []struct {
				jti     string
				revoked bool
			}{
				{"f-a1", true},
				{"f-a2", true},
				// Every jti still recorded, expired or not: the sweeper
				// keeps a record only while some verifier may accept it.
				{"f-tail", true},
				{"f-expired", true},
				{"g-a1", false},
			}
			for _, j := range jtis {
				revoked, err := s.IsAccessTokenRevoked(ctx, j.jti)
				require.NoError(t, err)
				require.Equal(t, j.revoked, revoked, j.jti)
			}
		})
	}

	t.Run("rotation fails afterwards", func(t *testing.T) {
		err := s.RotateRefreshToken(ctx, t2.TokenHash, revokedAt, newToken("t3", "f", now), newAccess("f-a3", "f", now.Add(time.Hour)))
		require.ErrorIs(t, err, storage.ErrConflict)
	})
	t.Run("bystander family still rotates", func(t *testing.T) {
		err := s.RotateRefreshToken(ctx, g1.TokenHash, revokedAt, newToken("g2", "g", now), newAccess("g-a2", "g", now.Add(time.Hour)))
		require.NoError(t, err)
	})
}

func testAccessTokenRevocation(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	steps := []struct {
		name   string
		revoke *storage.RevokedAccessToken
		jti    string
		want   bool
	}{
		{name: "unknown jti", jti: "a", want: false},
		{name: "revoked", revoke: &storage.RevokedAccessToken{JTI: "a", ExpiresAt: now}, jti: "a", want: true},
		{name: "revoked again", revoke: &storage.RevokedAccessToken{JTI: "a", ExpiresAt: now.Add(time.Hour)}, jti: "a", want: true},
		{name: "other jti unaffected", jti: "b", want: false},
		{name: "jti compared exactly", jti: "A", want: false},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			if tt.revoke != nil {
				require.NoError(t, s.RevokeAccessToken(ctx, *tt.revoke))
			}
			got, err := s.IsAccessTokenRevoked(ctx, tt.jti)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// testConcurrentAccessTokenSpend: racers spending one jti, exactly one
// wins; a revoked jti cannot be spent; a spent one is revoked.
// testConcurrentAccessTokenSpend: of racers spending one access token at
// once, exactly one succeeds and the others get ErrConflict. The race is
// run for several tokens: one round catches a check-then-insert about half
// the time, so rounds make a miss unlikely.
//
// Mutant (storage/sqlstore/tokens.go, SpendAccessToken): check
// IsAccessTokenRevoked first and return ErrConflict when revoked, then
// insert with ON CONFLICT DO NOTHING — two racers both see "not spent" and
// both win ("two winners").
func testConcurrentAccessTokenSpend(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	const rounds = 8
	for round := range rounds {
		jti := fmt.Sprintf("raced-%d", round)
		requireOneWinner(t, race(func(int) error {
			return s.SpendAccessToken(ctx, storage.RevokedAccessToken{JTI: jti, ExpiresAt: now})
		}))
		revoked, err := s.IsAccessTokenRevoked(ctx, jti)
		require.NoError(t, err)
		require.True(t, revoked, "a spent token is revoked")
	}

	require.NoError(t, s.RevokeAccessToken(ctx, storage.RevokedAccessToken{JTI: "logged-out", ExpiresAt: now}))
	require.ErrorIs(t, s.SpendAccessToken(ctx, storage.RevokedAccessToken{JTI: "logged-out", ExpiresAt: now}), storage.ErrConflict)
	require.NoError(t, s.RevokeAccessToken(ctx, storage.RevokedAccessToken{JTI: "raced-0", ExpiresAt: now}),
		"revoking a spent token again is harmless")
}

// testPredecessorSeal: a successor's seal round-trips through the rotation
// byte for byte; a first token has none.
func testPredecessorSeal(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	first := newToken("seal/first", "sf", now)
	require.NoError(t, s.CreateRefreshToken(ctx, first, newAccess("seal/a0", "sf", now.Add(time.Hour))))
	next := newToken("seal/next", "sf", now)
	next.PredecessorSeal = []byte{0, 1, 2, 0xfe, 0xff, 'x'}
	require.NoError(t, s.RotateRefreshToken(ctx, first.TokenHash, now, next, newAccess("seal/a1", "sf", now.Add(time.Hour))))

	got, err := s.GetRefreshToken(ctx, next.TokenHash)
	require.NoError(t, err)
	require.Equal(t, next.PredecessorSeal, got.PredecessorSeal)
	got, err = s.GetRefreshToken(ctx, first.TokenHash)
	require.NoError(t, err)
	require.Empty(t, got.PredecessorSeal)
}

// testAttachAccessToken: an access token is attached to a family only
// while the named refresh token is live, and a family revocation that
// comes after it revokes it (issue 13 item 4: a retry's access token
// recorded with a plain insert after the revocation outlived it).
func testAttachAccessToken(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	tests := []struct {
		name    string
		prepare func(t *testing.T, family string, live storage.RefreshToken)
		hash    func(live storage.RefreshToken) string
		wantErr bool
	}{
		{name: "live token"},
		{name: "family revoked before", wantErr: true, prepare: func(t *testing.T, family string, _ storage.RefreshToken) {
			_, err := s.RevokeRefreshFamily(ctx, family, now)
			require.NoError(t, err)
		}},
		{name: "token spent", wantErr: true, prepare: func(t *testing.T, family string, live storage.RefreshToken) {
			require.NoError(t, s.RotateRefreshToken(ctx, live.TokenHash, now, newToken(family+"/after", family, now), storage.IssuedAccessToken{}))
		}},
		{name: "token expired", wantErr: true, hash: func(storage.RefreshToken) string { return "" }},
		{name: "unknown token", wantErr: true, hash: func(storage.RefreshToken) string { return hashOf("unknown") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			family := "attach/" + tt.name
			live := newToken(family+"/live", family, now)
			if tt.name == "token expired" {
				live.ExpiresAt = now
			}
			require.NoError(t, s.CreateRefreshToken(ctx, live, newAccess(family+"/a0", family, now.Add(time.Hour))))
			if tt.prepare != nil {
				tt.prepare(t, family, live)
			}
			hash := live.TokenHash
			if tt.hash != nil && tt.hash(live) != "" {
				hash = tt.hash(live)
			}
			err := s.AttachAccessToken(ctx, hash, now, newAccess(family+"/retry", family, now.Add(time.Hour)))
			if tt.wantErr {
				require.ErrorIs(t, err, storage.ErrConflict)
				requireRecorded(t, s, family+"/retry", false)
				return
			}
			require.NoError(t, err)
			_, err = s.RevokeRefreshFamily(ctx, family, now.Add(time.Minute))
			require.NoError(t, err)
			revoked, err := s.IsAccessTokenRevoked(ctx, family+"/retry")
			require.NoError(t, err)
			require.True(t, revoked, "the family's revocation takes the attached token")
		})
	}
	t.Run("another family's token", func(t *testing.T) {
		live := newToken("attach/mine", "attach-mine", now)
		require.NoError(t, s.CreateRefreshToken(ctx, live, storage.IssuedAccessToken{}))
		err := s.AttachAccessToken(ctx, live.TokenHash, now, newAccess("attach/theirs", "attach-theirs", now.Add(time.Hour)))
		require.ErrorIs(t, err, storage.ErrConflict)
	})
}
