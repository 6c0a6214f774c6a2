package grants

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// TestJudge is the refresh policy's decision table, with a fake clock:
// every verdict, the reuse grace inside, at and past its edge, the
// absolute and the idle TTL.
func TestJudge(t *testing.T) {
	t0 := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	live := storage.RefreshToken{ClientID: "storefront", IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), FamilyExpiresAt: t0.Add(time.Hour)}
	spent := live
	spent.SpentAt = at(0)
	revoked := live
	revoked.RevokedAt = at(0)
	spentRevoked := spent
	spentRevoked.RevokedAt = at(time.Second)
	grace := RefreshPolicy{TTL: time.Hour, ReuseGrace: 2 * time.Second}
	idle := RefreshPolicy{TTL: time.Hour, IdleTTL: 10 * time.Minute}
	tests := []struct {
		name   string
		policy RefreshPolicy
		row    storage.RefreshToken
		client string
		now    time.Time
		want   Verdict
	}{
		{"live", grace, live, "storefront", t0.Add(time.Minute), Rotate},
		{"another client's", grace, live, "printer", t0.Add(time.Minute), Refuse},
		{"revoked", grace, revoked, "storefront", t0.Add(time.Minute), Refuse},
		{"spent and revoked is refused, never retried", grace, spentRevoked, "storefront", t0.Add(time.Second), Refuse},
		{"another client's spent token is refused, not judged as reuse", grace, spent, "printer", t0.Add(time.Second), Refuse},
		{"retry inside the grace", grace, spent, "storefront", t0.Add(time.Second), Retry},
		{"retry exactly at the grace's edge", grace, spent, "storefront", t0.Add(2 * time.Second), Retry},
		{"a nanosecond past the grace is reuse", grace, spent, "storefront", t0.Add(2*time.Second + time.Nanosecond), Reuse},
		{"reuse long after", grace, spent, "storefront", t0.Add(time.Hour), Reuse},
		{"no grace: any reuse is theft", RefreshPolicy{TTL: time.Hour}, spent, "storefront", t0, Reuse},
		{"absolute expiry: at the instant", grace, live, "storefront", t0.Add(time.Hour), Expired},
		{"absolute expiry: a second before", grace, live, "storefront", t0.Add(time.Hour - time.Second), Rotate},
		{"idle TTL on a row stored before it was set", idle, live, "storefront", t0.Add(10*time.Minute + time.Second), Expired},
		{"idle TTL not yet reached", idle, live, "storefront", t0.Add(10 * time.Minute), Rotate},
		{"a spent token past its expiry is still reuse", grace, spent, "storefront", t0.Add(2 * time.Hour), Reuse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.policy.Judge(tt.row, tt.client, tt.now))
		})
	}
}

// TestNarrowScope: a refresh may keep or narrow the granted scope, never
// widen it (RFC 6749 §6).
func TestNarrowScope(t *testing.T) {
	tests := []struct {
		requested, granted string
		want               string
		ok                 bool
	}{
		{"", "openid email offline_access", "openid email offline_access", true},
		{"   ", "openid email", "openid email", true},
		{"email", "openid email offline_access", "email", true},
		{"offline_access openid", "openid email offline_access", "offline_access openid", true},
		{"email email", "openid email", "email", true},
		{"profile", "openid email", "", false},
		{"email profile", "openid email", "", false},
	}
	for _, tt := range tests {
		got, ok := RefreshPolicy{}.NarrowScope(tt.requested, tt.granted)
		require.Equal(t, tt.ok, ok, "%q of %q", tt.requested, tt.granted)
		require.Equal(t, tt.want, got, "%q of %q", tt.requested, tt.granted)
	}
}

// TestRow: a row expires at the family's end, or sooner at the idle
// deadline; a successor never outlives the family; a client's own
// refresh TTL replaces the default.
func TestRow(t *testing.T) {
	t0 := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	client := &clients.Info{Client: storage.Client{ID: "storefront"}}
	own := &clients.Info{Client: storage.Client{ID: "app", RefreshTokenTTL: 2 * time.Hour}}
	customer := storage.Customer{ID: 21, ShopKey: "acme12aa"}
	tests := []struct {
		name       string
		policy     RefreshPolicy
		client     *clients.Info
		issued     time.Duration // after the login
		wantExpiry time.Duration // after the login
		wantEnd    time.Duration
	}{
		{"no idle TTL: the family's end", RefreshPolicy{TTL: 24 * time.Hour}, client, 0, 24 * time.Hour, 24 * time.Hour},
		{"idle deadline first", RefreshPolicy{TTL: 24 * time.Hour, IdleTTL: time.Hour}, client, 0, time.Hour, 24 * time.Hour},
		{"a late successor stops at the family's end", RefreshPolicy{TTL: 24 * time.Hour, IdleTTL: time.Hour}, client, 23*time.Hour + 30*time.Minute, 24 * time.Hour, 24 * time.Hour},
		{"the client's own TTL", RefreshPolicy{TTL: 24 * time.Hour}, own, 0, 2 * time.Hour, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.policy.NewFamily("fam", tt.client, customer, "openid offline_access", t0, t0)
			f.SessionHash = "session"
			row := tt.policy.Row(f, "hash", t0.Add(tt.issued))
			require.Equal(t, t0.Add(tt.wantExpiry), row.ExpiresAt)
			require.Equal(t, t0.Add(tt.wantEnd), row.FamilyExpiresAt)
			require.Equal(t, t0.Add(tt.issued), row.IssuedAt)
			require.Equal(t, storage.RefreshToken{
				TokenHash: "hash", FamilyID: "fam", ClientID: tt.client.ID, CustomerID: 21, ShopKey: "acme12aa",
				Scope: "openid offline_access", AuthTime: t0, IssuedAt: row.IssuedAt, ExpiresAt: row.ExpiresAt,
				FamilyExpiresAt: row.FamilyExpiresAt, SessionHash: "session",
			}, row)
			// A successor built from the row keeps the family, and the
			// browser session it came from.
			next := tt.policy.Row(FamilyOf(row), "next", row.IssuedAt.Add(time.Minute))
			require.Equal(t, row.FamilyExpiresAt, next.FamilyExpiresAt)
			require.Equal(t, "session", next.SessionHash)
			require.False(t, next.ExpiresAt.After(next.FamilyExpiresAt))
		})
	}
}
