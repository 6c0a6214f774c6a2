package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// testRevokeCustomerRefreshTokens covers the customer-scoped revocations
// behind Spryker's DELETE /refresh-tokens/{token} and /refresh-tokens/mine:
// they touch only the named customer's families, in the named shop, and
// take the families' access tokens with them.
func testRevokeCustomerRefreshTokens(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()

	// fixture stores, on a new store, for customer 21 of shop "demo":
	// family a (a1 rotated to a2, two live access tokens), family b (b1, a
	// second client), family x whose refresh token expired (idle TTL) while
	// its access token lives on; and bystanders: family o of customer 22,
	// family s of customer 21 in shop "other".
	type fixture struct {
		s                      Store
		a1, a2, b1, x1, o1, s1 storage.RefreshToken
		families               map[string][]string // family -> access jtis
	}
	setup := func(t *testing.T) fixture {
		s := open(t)
		f := fixture{s: s, families: map[string][]string{}}
		token := func(name, family, client string, customer uint64, shop string) storage.RefreshToken {
			rt := newToken(name, family, now)
			rt.ClientID, rt.CustomerID, rt.ShopKey = client, customer, shop
			return rt
		}
		f.a1 = token("a1", "a", "web", 21, "demo")
		f.a2 = token("a2", "a", "web", 21, "demo")
		f.b1 = token("b1", "b", "glue", 21, "demo")
		f.x1 = token("x1", "x", "web", 21, "demo")
		f.x1.ExpiresAt = now.Add(-time.Minute)
		f.o1 = token("o1", "o", "web", 22, "demo")
		f.s1 = token("s1", "s", "web", 21, "other")
		for _, rt := range []storage.RefreshToken{f.a1, f.b1, f.x1, f.o1, f.s1} {
			jti := rt.FamilyID + "-at1"
			require.NoError(t, s.CreateRefreshToken(ctx, rt, newAccess(jti, rt.FamilyID, now.Add(time.Hour))))
			f.families[rt.FamilyID] = append(f.families[rt.FamilyID], jti)
		}
		require.NoError(t, s.RotateRefreshToken(ctx, f.a1.TokenHash, now, f.a2, newAccess("a-at2", "a", now.Add(time.Hour))))
		f.families["a"] = append(f.families["a"], "a-at2")
		return f
	}
	// requireFamilies checks which families are revoked (refresh tokens and
	// access tokens alike) and which are untouched.
	requireFamilies := func(t *testing.T, f fixture, revokedAt time.Time, revoked ...string) {
		t.Helper()
		byFamily := map[string][]storage.RefreshToken{
			"a": {f.a1, f.a2}, "b": {f.b1}, "x": {f.x1}, "o": {f.o1}, "s": {f.s1},
		}
		for family, rts := range byFamily {
			want := false
			for _, r := range revoked {
				want = want || r == family
			}
			for _, rt := range rts {
				got, err := f.s.GetRefreshToken(ctx, rt.TokenHash)
				require.NoError(t, err)
				if want {
					require.Equal(t, ptr(stored(revokedAt)), got.RevokedAt, "family %s revoked", family)
				} else {
					require.Nil(t, got.RevokedAt, "family %s untouched", family)
				}
			}
			for _, jti := range f.families[family] {
				isRevoked, err := f.s.IsAccessTokenRevoked(ctx, jti)
				require.NoError(t, err)
				require.Equal(t, want, isRevoked, "access token %s", jti)
			}
		}
	}
	revokedAt := now.Add(time.Minute)

	t.Run("RevokeCustomerRefreshFamily", func(t *testing.T) {
		tests := []struct {
			name        string
			customer    uint64
			shop        string
			token       func(f fixture) string
			wantRevoked int64
			families    []string
		}{
			{name: "current token revokes its family", customer: 21, shop: "demo",
				token: func(f fixture) string { return f.a2.TokenHash }, wantRevoked: 2, families: []string{"a"}},
			{name: "spent token revokes its family too", customer: 21, shop: "demo",
				token: func(f fixture) string { return f.a1.TokenHash }, wantRevoked: 2, families: []string{"a"}},
			{name: "another client's token of the customer", customer: 21, shop: "demo",
				token: func(f fixture) string { return f.b1.TokenHash }, wantRevoked: 1, families: []string{"b"}},
			{name: "another customer's token is left alone", customer: 21, shop: "demo",
				token: func(f fixture) string { return f.o1.TokenHash }},
			{name: "the customer's token in another shop is left alone", customer: 21, shop: "demo",
				token: func(f fixture) string { return f.s1.TokenHash }},
			{name: "wrong customer for the token", customer: 22, shop: "demo",
				token: func(f fixture) string { return f.a2.TokenHash }},
			{name: "unknown token", customer: 21, shop: "demo",
				token: func(fixture) string { return hashOf("unknown") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := setup(t)
				n, err := f.s.RevokeCustomerRefreshFamily(ctx, tt.customer, tt.shop, tt.token(f), revokedAt)
				require.NoError(t, err)
				require.Equal(t, tt.wantRevoked, n)
				requireFamilies(t, f, revokedAt, tt.families...)

				// Again: harmless, nothing more revoked, first time kept.
				n, err = f.s.RevokeCustomerRefreshFamily(ctx, tt.customer, tt.shop, tt.token(f), revokedAt.Add(time.Minute))
				require.NoError(t, err)
				require.Zero(t, n)
				requireFamilies(t, f, revokedAt, tt.families...)
			})
		}
	})

	t.Run("RevokeCustomerRefreshTokens", func(t *testing.T) {
		tests := []struct {
			name        string
			customer    uint64
			shop        string
			wantRevoked int64
			families    []string
		}{
			// x's refresh token expired, its access token did not: a family
			// missed here would leave that token alive.
			{name: "every family of the customer in the shop, expired ones too", customer: 21, shop: "demo", wantRevoked: 4, families: []string{"a", "b", "x"}},
			{name: "another customer", customer: 22, shop: "demo", wantRevoked: 1, families: []string{"o"}},
			{name: "another shop", customer: 21, shop: "other", wantRevoked: 1, families: []string{"s"}},
			{name: "a customer without tokens", customer: 99, shop: "demo"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := setup(t)
				n, err := f.s.RevokeCustomerRefreshTokens(ctx, tt.customer, tt.shop, revokedAt)
				require.NoError(t, err)
				require.Equal(t, tt.wantRevoked, n)
				requireFamilies(t, f, revokedAt, tt.families...)

				n, err = f.s.RevokeCustomerRefreshTokens(ctx, tt.customer, tt.shop, revokedAt.Add(time.Minute))
				require.NoError(t, err)
				require.Zero(t, n)
				requireFamilies(t, f, revokedAt, tt.families...)
			})
		}
	})

	t.Run("RevokeCustomerClientRefreshTokens", func(t *testing.T) {
		tests := []struct {
			name        string
			customer    uint64
			shop        string
			client      string
			wantRevoked int64
			families    []string
		}{
			{name: "the customer's families of the client, expired ones too", customer: 21, shop: "demo", client: "web", wantRevoked: 3, families: []string{"a", "x"}},
			{name: "another client", customer: 21, shop: "demo", client: "glue", wantRevoked: 1, families: []string{"b"}},
			{name: "another customer", customer: 22, shop: "demo", client: "web", wantRevoked: 1, families: []string{"o"}},
			{name: "another shop", customer: 21, shop: "other", client: "web", wantRevoked: 1, families: []string{"s"}},
			{name: "a client without tokens", customer: 21, shop: "demo", client: "nobody"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := setup(t)
				n, err := f.s.RevokeCustomerClientRefreshTokens(ctx, tt.customer, tt.shop, tt.client, revokedAt)
				require.NoError(t, err)
				require.Equal(t, tt.wantRevoked, n)
				requireFamilies(t, f, revokedAt, tt.families...)

				n, err = f.s.RevokeCustomerClientRefreshTokens(ctx, tt.customer, tt.shop, tt.client, revokedAt.Add(time.Minute))
				require.NoError(t, err)
				require.Zero(t, n)
				requireFamilies(t, f, revokedAt, tt.families...)
			})
		}
	})

	t.Run("many families in one call", func(t *testing.T) {
		s := open(t)
		const families = 450 // more than one batch
		for i := range families {
			family := fmt.Sprintf("many-%03d", i)
			rt := newToken(family, family, now)
			require.NoError(t, s.CreateRefreshToken(ctx, rt, newAccess(family+"-at", family, now.Add(time.Hour))))
		}
		n, err := s.RevokeCustomerRefreshTokens(ctx, 21, "demo", revokedAt)
		require.NoError(t, err)
		require.EqualValues(t, families, n)
		revoked, err := s.IsAccessTokenRevoked(ctx, "many-449-at")
		require.NoError(t, err)
		require.True(t, revoked)
	})
}

// testAccessTokenFamilies: the family of an access token is revoked
// through its jti (shopKey logout), and an exchanged access token joins
// the old one's family so the family's revocation takes it too.
func testAccessTokenFamilies(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()
	s := open(t)
	a := newToken("atf-a", "atf-a", now)
	require.NoError(t, s.CreateRefreshToken(ctx, a, newAccess("atf-a-at", "atf-a", now.Add(time.Hour))))
	b := newToken("atf-b", "atf-b", now)
	require.NoError(t, s.CreateRefreshToken(ctx, b, newAccess("atf-b-at", "atf-b", now.Add(time.Hour))))

	family, err := s.AttachToFamilyOf(ctx, "atf-a-at", newAccess("atf-a-exchanged", "", now.Add(time.Hour)))
	require.NoError(t, err)
	require.Equal(t, "atf-a", family)
	family, err = s.AttachToFamilyOf(ctx, "no-family", newAccess("atf-none", "", now.Add(time.Hour)))
	require.NoError(t, err)
	require.Empty(t, family, "a jti of no family joins none")
	requireRecorded(t, s, "atf-none", false)

	n, err := s.RevokeAccessTokenFamily(ctx, "atf-a-exchanged", now)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	got, err := s.GetRefreshToken(ctx, a.TokenHash)
	require.NoError(t, err)
	require.NotNil(t, got.RevokedAt)
	for jti, want := range map[string]bool{"atf-a-at": true, "atf-a-exchanged": true, "atf-b-at": false} {
		revoked, err := s.IsAccessTokenRevoked(ctx, jti)
		require.NoError(t, err)
		require.Equal(t, want, revoked, jti)
	}
	got, err = s.GetRefreshToken(ctx, b.TokenHash)
	require.NoError(t, err)
	require.Nil(t, got.RevokedAt, "another family lives on")

	_, err = s.AttachToFamilyOf(ctx, "atf-a-at", newAccess("atf-a-late", "", now.Add(time.Hour)))
	require.ErrorIs(t, err, storage.ErrConflict, "a revoked family takes no new token")
	requireRecorded(t, s, "atf-a-late", false)
	n, err = s.RevokeAccessTokenFamily(ctx, "unknown", now)
	require.NoError(t, err)
	require.Zero(t, n)
}
