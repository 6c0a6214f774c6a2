package grants

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

// fakeLogin answers the password check: err for every attempt, or the
// customer; throttled refuses the address first.
type fakeLogin struct {
	customer  storage.Customer
	err       error
	throttled bool
	asked     []string // "allow:<ip>", "auth:<shop>:<email>"
}

func (l *fakeLogin) Allow(ip string) error {
	l.asked = append(l.asked, "allow:"+ip)
	if l.throttled {
		return refusal.ErrThrottled.WithRetryAfter(3 * time.Second)
	}
	return nil
}

func (l *fakeLogin) Authenticate(_ context.Context, shop, email, _ string) (storage.Customer, error) {
	l.asked = append(l.asked, "auth:"+shop+":"+email)
	return l.customer, l.err
}

var _ LoginChecker = (*fakeLogin)(nil)

func passwordReq(scope, shop string) server.TokenRequest {
	return server.TokenRequest{GrantType: server.GrantPassword, Username: "sonia@spryker.com", Password: "pw", Scope: scope, ShopKey: shop, ClientIP: "192.0.2.1", Nonce: "n-1"}
}

// TestPasswordGrant: the tokens of a login, and every rule in the order
// it is checked: first-party only, the per-address limit before anything
// else, the parameters, the scope, the shop, then the password.
func TestPasswordGrant(t *testing.T) {
	thirdParty := storefront()
	thirdParty.FirstParty = false
	multiShop := storefront()
	multiShop.ShopKey = ""
	noRefresh := storefront()
	noRefresh.GrantTypes = []string{server.GrantPassword}
	tests := []struct {
		name      string
		client    *clients.Info
		req       server.TokenRequest
		login     fakeLogin
		kind      refusal.Kind // Fault: success
		refresh   bool
		wantAsked []string
	}{
		{"tokens with a refresh token", storefront(), passwordReq("openid offline_access", ""), fakeLogin{}, refusal.Fault, true,
			[]string{"allow:192.0.2.1", "auth:acme12aa:sonia@spryker.com"}},
		{"no offline_access: no refresh token", storefront(), passwordReq("openid", ""), fakeLogin{}, refusal.Fault, false, nil},
		{"a client that may not refresh gets none", noRefresh, passwordReq("offline_access", ""), fakeLogin{}, refusal.Fault, false, nil},
		{"third-party client", thirdParty, passwordReq("", ""), fakeLogin{}, refusal.UnauthorizedClient, false, []string{}},
		{"throttled before the password is looked at", storefront(), passwordReq("", ""), fakeLogin{throttled: true}, refusal.Throttled, false,
			[]string{"allow:192.0.2.1"}},
		{"no password", storefront(), server.TokenRequest{Username: "sonia@spryker.com", ClientIP: "192.0.2.1"}, fakeLogin{}, refusal.InvalidRequest, false,
			[]string{"allow:192.0.2.1"}},
		{"scope outside the client's", storefront(), passwordReq("admin", ""), fakeLogin{}, refusal.InvalidScope, false, []string{"allow:192.0.2.1"}},
		{"another shop than the client's", storefront(), passwordReq("", "london01"), fakeLogin{}, refusal.BadCredentials, false, []string{"allow:192.0.2.1"}},
		{"a multi-shop client must name the shop", multiShop, passwordReq("", ""), fakeLogin{}, refusal.InvalidRequest, false, []string{"allow:192.0.2.1"}},
		{"a multi-shop client names an unknown shop", multiShop, passwordReq("", "nowhere1"), fakeLogin{}, refusal.BadCredentials, false, []string{"allow:192.0.2.1"}},
		{"a multi-shop client names its shop", multiShop, passwordReq("", shopKey), fakeLogin{}, refusal.Fault, true,
			[]string{"allow:192.0.2.1", "auth:acme12aa:sonia@spryker.com"}},
		{"wrong password", storefront(), passwordReq("", ""), fakeLogin{err: refusal.ErrBadCredentials}, refusal.BadCredentials, false, nil},
		{"not verified", storefront(), passwordReq("", ""), fakeLogin{err: refusal.ErrNotVerified}, refusal.NotVerified, false, nil},
		{"hashing busy", storefront(), passwordReq("", ""), fakeLogin{err: refusal.ErrUnavailable}, refusal.Unavailable, false, nil},
		{"fault", storefront(), passwordReq("", ""), fakeLogin{err: errors.New("boom")}, refusal.Fault, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, RefreshPolicy{})
			login := tt.login
			login.customer = f.sonia
			g, err := NewPassword(PasswordConfig{Issuance: f.issuance, Login: &login, Shops: f.store, Families: f.store})
			require.NoError(t, err)
			resp, err := g.Run(context.Background(), tt.client, tt.req)
			if tt.wantAsked != nil {
				require.Equal(t, tt.wantAsked, append([]string{}, login.asked...))
			}
			if tt.kind != refusal.Fault || tt.login.err != nil {
				requireRefusal(t, err, tt.kind)
				require.Empty(t, f.store.refresh, "a refused login starts no family")
				return
			}
			require.NoError(t, err)
			claims := accessClaims(t, resp.AccessToken)
			require.Equal(t, "21", claims.Subject)
			require.Equal(t, f.clock.Now().Unix(), claims.AuthTime, "auth_time is the login")
			require.Equal(t, resp.Scope, claims.Scope)
			if !tt.refresh {
				require.Empty(t, resp.RefreshToken)
				require.Empty(t, f.store.refresh)
				return
			}
			row := f.store.row(t, resp.RefreshToken)
			require.Equal(t, f.store.issued[claims.JTI].FamilyID, row.FamilyID, "the access token is recorded under the new family")
			require.Equal(t, f.clock.Now().Add(refreshTTL), row.FamilyExpiresAt)
			require.NotEmpty(t, resp.IDToken)
		})
	}
}
