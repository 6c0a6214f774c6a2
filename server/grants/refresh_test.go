package grants

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

func newRefresh(t *testing.T, f *fixture) *Refresh {
	t.Helper()
	g, err := NewRefresh(RefreshConfig{Issuance: f.issuance, Store: f.store, Customers: f.store})
	require.NoError(t, err)
	return g
}

func refreshReq(token, scope string) server.TokenRequest {
	return server.TokenRequest{GrantType: server.GrantRefreshToken, RefreshToken: token, Scope: scope}
}

// TestRefreshRotates: a refresh spends the token, issues a successor in
// the same family with the login's auth_time, and records the new access
// token's jti under the family.
func TestRefreshRotates(t *testing.T) {
	f := newFixture(t, RefreshPolicy{})
	client := storefront()
	first := f.startFamily(t, client, "openid email offline_access")
	login := f.clock.Now()
	f.clock.Advance(time.Hour)

	resp, err := newRefresh(t, f).Run(context.Background(), client, refreshReq(first, ""))
	require.NoError(t, err)
	require.NotEqual(t, first, resp.RefreshToken)
	require.Equal(t, "openid email offline_access", resp.Scope)
	require.NotEmpty(t, resp.IDToken, "openid: an ID token")
	require.Equal(t, int64(accessTTL/time.Second), resp.ExpiresIn)
	require.Equal(t, f.sonia.ID, resp.Customer.ID)

	old, next := f.store.row(t, first), f.store.row(t, resp.RefreshToken)
	require.NotNil(t, old.SpentAt)
	require.Equal(t, tokens.HashToken(resp.RefreshToken), old.SuccessorHash)
	require.Nil(t, next.SpentAt)
	require.Equal(t, old.FamilyID, next.FamilyID)
	require.Equal(t, old.FamilyExpiresAt, next.FamilyExpiresAt)

	claims := accessClaims(t, resp.AccessToken)
	require.Equal(t, login.Unix(), claims.AuthTime, "auth_time stays the login's (OIDC Core §12.2)")
	require.Equal(t, "21", claims.Subject)
	require.Equal(t, old.FamilyID, f.store.issued[claims.JTI].FamilyID, "the access token is recorded under the family")
	require.Equal(t, time.Unix(claims.ExpiresAt, 0).UTC(), f.store.issued[claims.JTI].ExpiresAt)
}

// TestRefreshReuseGrace: a spent token presented again within the grace
// (up to and including its edge) gets the same successor and a new access
// token recorded under the family; later, the family is revoked with every
// access token issued from it.
func TestRefreshReuseGrace(t *testing.T) {
	const grace = 2 * time.Second
	tests := []struct {
		name   string
		after  time.Duration
		answer bool
	}{
		{"immediately", 0, true},
		{"inside", time.Second, true},
		{"exactly at the edge", grace, true},
		{"just past the edge", grace + time.Second, false},
		{"long after", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, RefreshPolicy{ReuseGrace: grace})
			client, g := storefront(), newRefresh(t, f)
			first := f.startFamily(t, client, "openid offline_access")
			resp, err := g.Run(context.Background(), client, refreshReq(first, ""))
			require.NoError(t, err)
			f.clock.Advance(tt.after)

			retry, err := g.Run(context.Background(), client, refreshReq(first, ""))
			if tt.answer {
				require.NoError(t, err)
				require.Equal(t, resp.RefreshToken, retry.RefreshToken, "the same successor")
				require.NotEqual(t, resp.AccessToken, retry.AccessToken)
				jti := accessClaims(t, retry.AccessToken).JTI
				require.Equal(t, f.store.row(t, first).FamilyID, f.store.issued[jti].FamilyID, "the retry's access token is recorded under the family")
				require.Nil(t, f.store.row(t, resp.RefreshToken).RevokedAt)
				return
			}
			requireRefusal(t, err, refusal.InvalidGrant)
			require.NotNil(t, f.store.row(t, resp.RefreshToken).RevokedAt, "reuse revokes the successor too")
			require.True(t, f.store.isRevoked(accessClaims(t, resp.AccessToken).JTI), "and the access tokens issued from the family")
			_, err = g.Run(context.Background(), client, refreshReq(resp.RefreshToken, ""))
			requireRefusal(t, err, refusal.InvalidGrant)
		})
	}
}

// TestRefreshRetryNeedsALiveSuccessor: within the grace, a retry whose
// successor was already used is reuse: the family is revoked.
func TestRefreshRetryNeedsALiveSuccessor(t *testing.T) {
	f := newFixture(t, RefreshPolicy{ReuseGrace: time.Minute})
	client, g := storefront(), newRefresh(t, f)
	first := f.startFamily(t, client, "offline_access")
	second, err := g.Run(context.Background(), client, refreshReq(first, ""))
	require.NoError(t, err)
	third, err := g.Run(context.Background(), client, refreshReq(second.RefreshToken, ""))
	require.NoError(t, err)

	_, err = g.Run(context.Background(), client, refreshReq(first, ""))
	requireRefusal(t, err, refusal.InvalidGrant)
	require.NotNil(t, f.store.row(t, third.RefreshToken).RevokedAt)
}

// TestRefreshScope: narrower is answered with the narrower scope and the
// family keeps its grant; wider is invalid_scope and spends nothing.
func TestRefreshScope(t *testing.T) {
	f := newFixture(t, RefreshPolicy{})
	client, g := storefront(), newRefresh(t, f)
	first := f.startFamily(t, client, "openid email offline_access")

	_, err := g.Run(context.Background(), client, refreshReq(first, "openid profile"))
	requireRefusal(t, err, refusal.InvalidScope)
	require.Nil(t, f.store.row(t, first).SpentAt, "a refused scope spends nothing")

	resp, err := g.Run(context.Background(), client, refreshReq(first, "email"))
	require.NoError(t, err)
	require.Equal(t, "email", resp.Scope)
	require.Equal(t, "email", accessClaims(t, resp.AccessToken).Scope)
	require.Empty(t, resp.IDToken, "no openid in the narrowed scope")
	require.Equal(t, "openid email offline_access", f.store.row(t, resp.RefreshToken).Scope, "the family keeps its grant")

	again, err := g.Run(context.Background(), client, refreshReq(resp.RefreshToken, ""))
	require.NoError(t, err)
	require.Equal(t, "openid email offline_access", again.Scope)
}

// TestRefreshExpiry: the idle TTL and the family's absolute end.
func TestRefreshExpiry(t *testing.T) {
	tests := []struct {
		name   string
		policy RefreshPolicy
		steps  []time.Duration // refreshes after these waits, each must work
		last   time.Duration   // then this wait, after which it must not
	}{
		{"idle", RefreshPolicy{TTL: 24 * time.Hour, IdleTTL: time.Hour}, []time.Duration{59 * time.Minute, 59 * time.Minute}, time.Hour},
		{"absolute", RefreshPolicy{TTL: 3 * time.Hour, IdleTTL: 2 * time.Hour}, []time.Duration{90 * time.Minute, 80 * time.Minute}, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.policy)
			client, g := storefront(), newRefresh(t, f)
			token := f.startFamily(t, client, "offline_access")
			for _, wait := range tt.steps {
				f.clock.Advance(wait)
				resp, err := g.Run(context.Background(), client, refreshReq(token, ""))
				require.NoError(t, err)
				token = resp.RefreshToken
			}
			f.clock.Advance(tt.last)
			_, err := g.Run(context.Background(), client, refreshReq(token, ""))
			requireRefusal(t, err, refusal.InvalidGrant)
			require.Nil(t, f.store.row(t, token).SpentAt)
		})
	}
}

// TestRefreshRefusals: every way a refresh is refused, and that none of
// them spends or revokes anything.
func TestRefreshRefusals(t *testing.T) {
	printer := &clients.Info{Client: storage.Client{ID: "printer", GrantTypes: []string{server.GrantRefreshToken}}}
	tests := []struct {
		name   string
		client *clients.Info
		token  func(f *fixture, token string) string
		before func(f *fixture)
		kind   refusal.Kind
	}{
		{"no token", storefront(), func(*fixture, string) string { return "" }, nil, refusal.InvalidRequest},
		{"unknown token", storefront(), func(*fixture, string) string { return "nope" }, nil, refusal.InvalidGrant},
		{"another client's token", printer, nil, nil, refusal.InvalidGrant},
		{"customer disabled", storefront(), nil, func(f *fixture) {
			c := f.store.customers[21]
			now := f.clock.Now()
			c.DisabledAt = &now
			f.store.customers[21] = c
		}, refusal.InvalidGrant},
		{"customer gone", storefront(), nil, func(f *fixture) { delete(f.store.customers, 21) }, refusal.InvalidGrant},
		{"database away", storefront(), nil, func(f *fixture) {
			for h := range f.store.refresh {
				f.store.failGet[h] = fmt.Errorf("select: %w", storage.ErrUnavailable)
			}
		}, refusal.Unavailable},
		{"fault", storefront(), nil, func(f *fixture) {
			for h := range f.store.refresh {
				f.store.failGet[h] = errors.New("disk on fire")
			}
		}, refusal.Fault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, RefreshPolicy{ReuseGrace: time.Minute})
			token := f.startFamily(t, storefront(), "offline_access")
			if tt.before != nil {
				tt.before(f)
			}
			presented := token
			if tt.token != nil {
				presented = tt.token(f, token)
			}
			_, err := newRefresh(t, f).Run(context.Background(), tt.client, refreshReq(presented, ""))
			requireRefusal(t, err, tt.kind)
			delete(f.store.failGet, tokens.HashToken(token))
			row := f.store.row(t, token)
			require.Nil(t, row.SpentAt)
			require.Nil(t, row.RevokedAt)
		})
	}
}

// TestConcurrentRefreshWithinGrace: 16 concurrent refreshes of one token
// (a client retrying in parallel) get one successor between them, and the
// family stays live.
func TestConcurrentRefreshWithinGrace(t *testing.T) {
	f := newFixture(t, RefreshPolicy{ReuseGrace: time.Minute})
	client, g := storefront(), newRefresh(t, f)
	first := f.startFamily(t, client, "offline_access")
	const racers = 16
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		results = make([]string, racers)
		errs    = make([]error, racers)
	)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := g.Run(context.Background(), client, refreshReq(first, ""))
			errs[i] = err
			if err == nil {
				results[i] = resp.RefreshToken
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := range racers {
		require.NoError(t, errs[i])
		require.Equal(t, results[0], results[i])
	}
	require.Nil(t, f.store.row(t, results[0]).RevokedAt)
}
