package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func newCode(name, family string, now time.Time) storage.AuthorizationCode {
	return storage.AuthorizationCode{
		CodeHash: hashOf(name), ClientID: "web", CustomerID: 21, ShopKey: "demo",
		RedirectURI: "https://app.example/cb?x=1", Scope: "openid offline_access", Nonce: "n-0S6",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		AuthTime:      now.Add(-time.Minute), FamilyID: family, IssuedAt: now, ExpiresAt: now.Add(time.Minute),
	}
}

func testAuthorizationCodes(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	code := newCode("code-1", "cfam-1", now)
	require.NoError(t, s.CreateAuthorizationCode(ctx, code))
	require.ErrorIs(t, s.CreateAuthorizationCode(ctx, code), storage.ErrConflict, "a duplicate hash conflicts")

	t.Run("unknown code", func(t *testing.T) {
		_, err := s.RedeemAuthorizationCode(ctx, hashOf("nope"), now)
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.RevokeAuthorizationCode(ctx, hashOf("nope"), now)
		require.ErrorIs(t, err, storage.ErrNotFound)
	})

	t.Run("tokens cannot be recorded before redemption", func(t *testing.T) {
		err := s.IssueCodeTokens(ctx, code.CodeHash, now, nil, newAccess("early", "cfam-1", now.Add(time.Hour)))
		require.ErrorIs(t, err, storage.ErrConflict)
		requireRecorded(t, s, "early", false)
	})

	t.Run("first redemption returns the code in UTC seconds", func(t *testing.T) {
		got, err := s.RedeemAuthorizationCode(ctx, code.CodeHash, now)
		require.NoError(t, err)
		want := code
		want.AuthTime, want.IssuedAt, want.ExpiresAt = stored(code.AuthTime), stored(code.IssuedAt), stored(code.ExpiresAt)
		want.RedeemedAt = ptr(stored(now))
		require.Equal(t, want, got)
	})

	rt := newToken("code-refresh", "cfam-1", now)
	t.Run("tokens are recorded once", func(t *testing.T) {
		require.NoError(t, s.IssueCodeTokens(ctx, code.CodeHash, now, &rt, newAccess("code-at-1", "cfam-1", now.Add(time.Hour))))
		_, err := s.GetRefreshToken(ctx, rt.TokenHash)
		require.NoError(t, err)
		requireRecorded(t, s, "code-at-1", true)

		other := newToken("code-refresh-2", "cfam-1", now)
		err = s.IssueCodeTokens(ctx, code.CodeHash, now, &other, newAccess("code-at-2", "cfam-1", now.Add(time.Hour)))
		require.ErrorIs(t, err, storage.ErrConflict)
		_, err = s.GetRefreshToken(ctx, other.TokenHash)
		require.ErrorIs(t, err, storage.ErrNotFound, "a refused record writes nothing")
		requireRecorded(t, s, "code-at-2", false)
	})

	t.Run("second redemption conflicts and returns the code", func(t *testing.T) {
		got, err := s.RedeemAuthorizationCode(ctx, code.CodeHash, now.Add(time.Second))
		require.ErrorIs(t, err, storage.ErrConflict)
		require.Equal(t, "cfam-1", got.FamilyID)
		require.Equal(t, ptr(stored(now)), got.RedeemedAt, "the first redemption time stays")
	})

	t.Run("revocation revokes the family and its access tokens", func(t *testing.T) {
		n, err := s.RevokeAuthorizationCode(ctx, code.CodeHash, now)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		got, err := s.GetRefreshToken(ctx, rt.TokenHash)
		require.NoError(t, err)
		require.NotNil(t, got.RevokedAt)
		revoked, err := s.IsAccessTokenRevoked(ctx, "code-at-1")
		require.NoError(t, err)
		require.True(t, revoked)

		n, err = s.RevokeAuthorizationCode(ctx, code.CodeHash, now)
		require.NoError(t, err, "revoking again is harmless")
		require.Zero(t, n)
	})

	t.Run("a revoked code records no tokens", func(t *testing.T) {
		c := newCode("code-2", "cfam-2", now)
		require.NoError(t, s.CreateAuthorizationCode(ctx, c))
		_, err := s.RedeemAuthorizationCode(ctx, c.CodeHash, now)
		require.NoError(t, err)
		_, err = s.RevokeAuthorizationCode(ctx, c.CodeHash, now)
		require.NoError(t, err)
		err = s.IssueCodeTokens(ctx, c.CodeHash, now, nil, newAccess("late", "cfam-2", now.Add(time.Hour)))
		require.ErrorIs(t, err, storage.ErrConflict)
		requireRecorded(t, s, "late", false)
	})

	t.Run("access token without refresh token", func(t *testing.T) {
		c := newCode("code-3", "cfam-3", now)
		require.NoError(t, s.CreateAuthorizationCode(ctx, c))
		_, err := s.RedeemAuthorizationCode(ctx, c.CodeHash, now)
		require.NoError(t, err)
		require.NoError(t, s.IssueCodeTokens(ctx, c.CodeHash, now, nil, newAccess("only-at", "cfam-3", now.Add(time.Hour))))
		_, err = s.RevokeAuthorizationCode(ctx, c.CodeHash, now)
		require.NoError(t, err)
		revoked, err := s.IsAccessTokenRevoked(ctx, "only-at")
		require.NoError(t, err)
		require.True(t, revoked)
	})
}

func testConcurrentCodeRedemption(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	code := newCode("contended-code", "cfam", now)
	require.NoError(t, s.CreateAuthorizationCode(ctx, code))

	errs := race(func(int) error {
		_, err := s.RedeemAuthorizationCode(ctx, code.CodeHash, now)
		return err
	})
	requireOneWinner(t, errs)

	// The winner records its tokens while a replay revokes the code: either
	// the record is refused, or the revocation catches what it wrote.
	var recordErr, revokeErr error
	race(func(i int) error {
		switch i {
		case 0:
			recordErr = s.IssueCodeTokens(ctx, code.CodeHash, now, nil, newAccess("raced-at", "cfam", now.Add(time.Hour)))
		case 1:
			_, revokeErr = s.RevokeAuthorizationCode(ctx, code.CodeHash, now)
		}
		return nil
	})
	require.NoError(t, revokeErr)
	revoked, err := s.IsAccessTokenRevoked(ctx, "raced-at")
	require.NoError(t, err)
	if recordErr == nil {
		require.True(t, revoked, "tokens recorded before the revocation are revoked by it")
	} else {
		require.ErrorIs(t, recordErr, storage.ErrConflict)
		requireRecorded(t, s, "raced-at", false)
	}
}

func testConsents(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	_, err := s.GetConsent(ctx, 21, "app")
	require.ErrorIs(t, err, storage.ErrNotFound)

	first := storage.Consent{CustomerID: 21, ClientID: "app", Scopes: []string{"openid", "email"}, GrantedAt: now}
	require.NoError(t, s.SaveConsent(ctx, first))
	got, err := s.GetConsent(ctx, 21, "app")
	require.NoError(t, err)
	first.GrantedAt = stored(now)
	require.Equal(t, first, got)

	wider := storage.Consent{CustomerID: 21, ClientID: "app", Scopes: []string{"openid", "email", "profile"}, GrantedAt: now.Add(time.Hour)}
	require.NoError(t, s.SaveConsent(ctx, wider), "saving again replaces")
	got, err = s.GetConsent(ctx, 21, "app")
	require.NoError(t, err)
	require.Equal(t, wider.Scopes, got.Scopes)
	require.Equal(t, stored(wider.GrantedAt), got.GrantedAt)

	other := storage.Consent{CustomerID: 22, ClientID: "app", Scopes: []string{"openid"}, GrantedAt: now}
	require.NoError(t, s.SaveConsent(ctx, other))

	require.NoError(t, s.RevokeConsent(ctx, 21, "app"))
	_, err = s.GetConsent(ctx, 21, "app")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.ErrorIs(t, s.RevokeConsent(ctx, 21, "app"), storage.ErrNotFound)
	_, err = s.GetConsent(ctx, 22, "app")
	require.NoError(t, err, "another customer's consent stays")
}

func testBrowserSessions(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()

	bs := storage.BrowserSession{IDHash: hashOf("sess"), ShopKey: "demo", CustomerID: 21, AuthTime: now, ExpiresAt: now.Add(24 * time.Hour)}
	require.NoError(t, s.CreateBrowserSession(ctx, bs))
	require.ErrorIs(t, s.CreateBrowserSession(ctx, bs), storage.ErrConflict)

	got, err := s.GetBrowserSession(ctx, bs.IDHash)
	require.NoError(t, err)
	bs.AuthTime, bs.ExpiresAt = stored(bs.AuthTime), stored(bs.ExpiresAt)
	require.Equal(t, bs, got)

	_, err = s.GetBrowserSession(ctx, hashOf("nope"))
	require.ErrorIs(t, err, storage.ErrNotFound)

	require.NoError(t, s.DeleteBrowserSession(ctx, bs.IDHash))
	_, err = s.GetBrowserSession(ctx, bs.IDHash)
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.NoError(t, s.DeleteBrowserSession(ctx, bs.IDHash), "ending an ended session is not an error")
}

// testRevokeSessionRefreshTokens: RP-initiated logout ends what one
// browser session produced — its codes (an unredeemed one, and one
// redeemed but not yet answered, issue nothing afterwards) and the
// families started from them, also after rotation, also once the codes
// were swept — with their access tokens; other sessions' families and
// families of other grants live on.
func testRevokeSessionRefreshTokens(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()
	mine, other := hashOf("session-mine"), hashOf("session-other")
	s := open(t)

	// issue stores a code of session and, unless pending, redeems it and
	// issues its family's first token and an access token.
	issue := func(name, session string, pending bool) storage.RefreshToken {
		c := newCode(name, "fam-"+name, now)
		c.SessionHash = session
		require.NoError(t, s.CreateAuthorizationCode(ctx, c))
		rt := newToken(name+"-rt", c.FamilyID, now)
		rt.SessionHash = session
		if pending {
			return rt
		}
		_, err := s.RedeemAuthorizationCode(ctx, c.CodeHash, now)
		require.NoError(t, err)
		require.NoError(t, s.IssueCodeTokens(ctx, c.CodeHash, now, &rt, newAccess(name+"-at", c.FamilyID, now.Add(time.Hour))))
		return rt
	}
	a := issue("sa", mine, false)
	// b rotated once: the successor carries the session too.
	b := issue("sb", mine, false)
	b2 := newToken("sb-rt2", b.FamilyID, now)
	b2.SessionHash = mine
	require.NoError(t, s.RotateRefreshToken(ctx, b.TokenHash, now, b2, newAccess("sb-at2", b.FamilyID, now.Add(time.Hour))))
	got, err := s.GetRefreshToken(ctx, b2.TokenHash)
	require.NoError(t, err)
	require.Equal(t, mine, got.SessionHash, "the session hash is stored")
	// The codes of a, b and c are swept already: the families are found
	// by their own session hash.
	c := issue("sc", mine, false)
	_, err = s.SweepAuthorizationCodes(ctx, now.Add(time.Hour), now.Add(time.Hour), 100)
	require.NoError(t, err)
	pending := newCode("sp", "fam-sp", now)
	pending.SessionHash = mine
	require.NoError(t, s.CreateAuthorizationCode(ctx, pending))
	redeemed := newCode("sr", "fam-sr", now)
	redeemed.SessionHash = mine
	require.NoError(t, s.CreateAuthorizationCode(ctx, redeemed))
	_, err = s.RedeemAuthorizationCode(ctx, redeemed.CodeHash, now)
	require.NoError(t, err)
	bystander := issue("so", other, false)
	password := newToken("pw-rt", "fam-pw", now)
	require.NoError(t, s.CreateRefreshToken(ctx, password, newAccess("pw-at", "fam-pw", now.Add(time.Hour))))

	at := now.Add(time.Minute)
	n, err := s.RevokeSessionRefreshTokens(ctx, mine, at)
	require.NoError(t, err)
	require.EqualValues(t, 4, n, "a, b and its successor, c")
	for _, rt := range []storage.RefreshToken{a, b, b2, c} {
		got, err := s.GetRefreshToken(ctx, rt.TokenHash)
		require.NoError(t, err)
		require.Equal(t, ptr(stored(at)), got.RevokedAt, rt.TokenHash)
	}
	for _, jti := range []string{"sa-at", "sb-at", "sb-at2", "sc-at"} {
		revoked, err := s.IsAccessTokenRevoked(ctx, jti)
		require.NoError(t, err)
		require.True(t, revoked, jti)
	}
	_, err = s.RedeemAuthorizationCode(ctx, pending.CodeHash, at)
	require.NoError(t, err, "redeeming is the caller's to refuse")
	for _, code := range []storage.AuthorizationCode{pending, redeemed} {
		err := s.IssueCodeTokens(ctx, code.CodeHash, at, nil, newAccess(code.CodeHash[:8]+"-late", code.FamilyID, at.Add(time.Hour)))
		require.ErrorIs(t, err, storage.ErrConflict, "a code of the ended session issues nothing")
	}
	for _, rt := range []storage.RefreshToken{bystander, password} {
		got, err := s.GetRefreshToken(ctx, rt.TokenHash)
		require.NoError(t, err)
		require.Nil(t, got.RevokedAt, "%s lives on", rt.TokenHash)
	}
	for _, jti := range []string{"so-at", "pw-at"} {
		revoked, err := s.IsAccessTokenRevoked(ctx, jti)
		require.NoError(t, err)
		require.False(t, revoked, jti)
	}

	n, err = s.RevokeSessionRefreshTokens(ctx, mine, at.Add(time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "again: nothing more")
	n, err = s.RevokeSessionRefreshTokens(ctx, "", at)
	require.NoError(t, err)
	require.Zero(t, n, "no session, nothing")
}
