package shopsession

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// fake is every store the sessions read, in memory.
type fake struct {
	mu       sync.Mutex
	revoked  map[string]bool
	customer storage.Customer
	claims   map[string]tokens.AccessClaims
	minted   []tokens.Grant
	// families maps a jti to its refresh family; ended lists revoked
	// families.
	families map[string]string
	ended    map[string]bool
}

func (f *fake) RevokeAccessTokenFamily(_ context.Context, jti string, _ time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	family, ok := f.families[jti]
	if !ok || f.ended[family] {
		return 0, nil
	}
	f.ended[family] = true
	for j, fam := range f.families {
		if fam == family {
			f.revoked[j] = true
		}
	}
	return 1, nil
}

func (f *fake) AttachToFamilyOf(_ context.Context, oldJTI string, access storage.IssuedAccessToken) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	family, ok := f.families[oldJTI]
	if !ok {
		return "", nil
	}
	if f.ended[family] {
		return "", storage.ErrConflict
	}
	f.families[access.JTI] = family
	return family, nil
}

func (f *fake) GetShop(_ context.Context, key string) (storage.Shop, error) {
	switch key {
	case "acme12aa":
		return storage.Shop{Key: key, Active: true}, nil
	case "closed01":
		return storage.Shop{Key: key}, nil
	}
	return storage.Shop{}, storage.ErrNotFound
}

func (f *fake) VerifyAccessToken(_ context.Context, raw string) (tokens.AccessClaims, error) {
	c, ok := f.claims[raw]
	if !ok {
		return tokens.AccessClaims{}, tokens.ErrInvalidToken
	}
	return c, nil
}

func (f *fake) GetCustomer(_ context.Context, shop string, id uint64) (storage.Customer, error) {
	if id != f.customer.ID || shop != f.customer.ShopKey {
		return storage.Customer{}, storage.ErrNotFound
	}
	return f.customer, nil
}

func (f *fake) GetClient(_ context.Context, id string) (storage.Client, error) {
	if id == "gone" {
		return storage.Client{}, storage.ErrNotFound
	}
	return storage.Client{ID: id}, nil
}

func (f *fake) RevokeAccessToken(_ context.Context, t storage.RevokedAccessToken) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[t.JTI] = true
	return nil
}

func (f *fake) SpendAccessToken(_ context.Context, t storage.RevokedAccessToken) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revoked[t.JTI] {
		return storage.ErrConflict
	}
	f.revoked[t.JTI] = true
	return nil
}

func (f *fake) Mint(_ context.Context, g tokens.Grant) (tokens.Minted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.minted = append(f.minted, g)
	return tokens.Minted{AccessToken: "new", JTI: fmt.Sprint("new-", len(f.minted)), IssuedAt: g.IssuedAt, ExpiresAt: g.IssuedAt.Add(time.Hour)}, nil
}

func newSessions(t *testing.T) (*Sessions, *fake) {
	t.Helper()
	verified := time.Unix(1_900_000_000, 0)
	f := &fake{
		revoked:  map[string]bool{},
		families: map[string]string{"j4": "partner-family", "j7": "partner-family"},
		ended:    map[string]bool{},
		customer: storage.Customer{ID: 21, ShopKey: "acme12aa", EmailVerifiedAt: &verified},
		claims: map[string]tokens.AccessClaims{
			"sonia":   {JTI: "j1", ClientID: "shopkey-storefront", Subject: "21", Shop: "acme12aa", Scope: "customer", AuthTime: 1_900_000_100},
			"machine": {JTI: "j2", ClientID: "erp", Subject: "erp", Shop: "acme12aa"},
			"london":  {JTI: "j3", ClientID: "shopkey-storefront", Subject: "21", Shop: "london01"},
			"partner": {JTI: "j4", ClientID: "partner", Audience: tokens.Audience{"shopkey-storefront"}, Subject: "21", Shop: "acme12aa", Scope: "openid customer"},
			"app":     {JTI: "j5", ClientID: "app", Audience: tokens.Audience{"app"}, Subject: "21", Shop: "acme12aa", Scope: "openid"},
			"noscope": {JTI: "j6", ClientID: "shopkey-storefront", Subject: "21", Shop: "acme12aa", Scope: "offline_access"},
		},
	}
	s, err := New(Config{Shops: f, AccessTokens: f, Customers: f, Clients: f, Revoker: f, Families: f, Minter: f,
		Now: func() time.Time { return time.Unix(1_900_000_200, 0) }})
	require.NoError(t, err)
	return s, f
}

func TestShop(t *testing.T) {
	s, _ := newSessions(t)
	shop, err := s.Shop(context.Background(), "acme12aa")
	require.NoError(t, err)
	require.Equal(t, "acme12aa", shop.Key)
	for _, key := range []string{"closed01", "nowhere1", "", string(make([]byte, 65))} {
		_, err := s.Shop(context.Background(), key)
		require.Equal(t, refusal.UnknownShop, refusal.KindOf(err), "%q", key)
	}
}

// TestVerifyShopAccessToken: the shop is the tenant: only a customer's
// token of the path's shop, of the dialect's client or one configured for
// it (aud), with the customer scope, is live here.
func TestVerifyShopAccessToken(t *testing.T) {
	s, _ := newSessions(t)
	for raw, jti := range map[string]string{"sonia": "j1", "partner": "j4"} {
		c, err := s.VerifyShopAccessToken(context.Background(), "shopkey-storefront", "acme12aa", raw)
		require.NoError(t, err, raw)
		require.Equal(t, jti, c.JTI)
	}
	for _, raw := range []string{"", "garbage", "machine", "london", "app", "noscope"} {
		_, err := s.VerifyShopAccessToken(context.Background(), "shopkey-storefront", "acme12aa", raw)
		require.Equal(t, refusal.InvalidToken, refusal.KindOf(err), "%q", raw)
	}
	_, err := s.VerifyShopAccessToken(context.Background(), "other-dialect", "acme12aa", "sonia")
	require.Equal(t, refusal.InvalidToken, refusal.KindOf(err), "another dialect's client")
}

// TestExchangeKeepsTheClient: a configured partner's token is renewed as
// a token of that partner, never of the dialect's client.
func TestExchangeKeepsTheClient(t *testing.T) {
	s, f := newSessions(t)
	resp, err := s.ExchangeAccessToken(context.Background(), "shopkey-storefront", f.claims["partner"])
	require.NoError(t, err)
	require.Equal(t, "partner", resp.Client.ID)
	require.Equal(t, "partner", f.minted[0].Client.ID)
	gone := f.claims["partner"]
	gone.ClientID, gone.JTI = "gone", "j8"
	f.claims["gone"] = gone
	for _, name := range []string{"app", "noscope", "gone"} {
		_, err := s.ExchangeAccessToken(context.Background(), "shopkey-storefront", f.claims[name])
		require.Equal(t, refusal.InvalidToken, refusal.KindOf(err), name)
		require.False(t, f.revoked[f.claims[name].JTI], "a refused exchange spends nothing")
	}
}

// TestExchange: the old token is spent once (of concurrent exchanges one
// wins), the new one keeps customer, scope and auth_time; another client's
// token and a gone customer's are refused and spend nothing.
func TestExchange(t *testing.T) {
	s, f := newSessions(t)
	old := f.claims["sonia"]
	_, err := s.ExchangeAccessToken(context.Background(), "other-client", old)
	require.Equal(t, refusal.InvalidToken, refusal.KindOf(err))
	require.False(t, f.revoked["j1"])

	const racers = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			<-start
			_, errs[i] = s.ExchangeAccessToken(context.Background(), "shopkey-storefront", old)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.Equal(t, refusal.InvalidToken, refusal.KindOf(err))
	}
	require.Equal(t, 1, won, "exactly one exchange of a token")
	require.True(t, f.revoked["j1"])
	require.Len(t, f.minted, 1)
	g := f.minted[0]
	require.Equal(t, "customer", g.Scope)
	require.Equal(t, int64(1_900_000_100), g.AuthTime.Unix())
	require.Equal(t, uint64(21), g.Customer.ID)

	f.customer.DisabledAt = &time.Time{}
	fresh := old
	fresh.JTI = "j9"
	_, err = s.ExchangeAccessToken(context.Background(), "shopkey-storefront", fresh)
	require.Equal(t, refusal.InvalidToken, refusal.KindOf(err))
	require.False(t, f.revoked["j9"], "a refused exchange spends nothing")
}

// TestLogoutEndsTheFamily: logging out with a token issued from a refresh
// family revokes the token and ends the family, its other access tokens
// included; a token of no family is revoked alone.
func TestLogoutEndsTheFamily(t *testing.T) {
	s, f := newSessions(t)
	require.NoError(t, s.RevokeAccessToken(context.Background(), f.claims["sonia"]))
	require.True(t, f.revoked["j1"])
	require.Empty(t, f.ended, "a token of no family ends none")

	require.NoError(t, s.RevokeAccessToken(context.Background(), f.claims["partner"]))
	require.True(t, f.ended["partner-family"])
	require.True(t, f.revoked["j7"], "the family's other access token")
}

// TestExchangeJoinsTheFamily: the token an exchange mints joins the old
// token's family, so ending the family ends it; a family ended meanwhile
// refuses the exchange.
func TestExchangeJoinsTheFamily(t *testing.T) {
	s, f := newSessions(t)
	_, err := s.ExchangeAccessToken(context.Background(), "shopkey-storefront", f.claims["partner"])
	require.NoError(t, err)
	require.Equal(t, "partner-family", f.families["new-1"])

	f.ended["partner-family"] = true
	fresh := f.claims["partner"]
	fresh.JTI = "j7"
	_, err = s.ExchangeAccessToken(context.Background(), "shopkey-storefront", fresh)
	require.Equal(t, refusal.InvalidToken, refusal.KindOf(err))
}
