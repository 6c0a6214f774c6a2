package grants

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
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

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeStore is an in-memory store with sqlstore's semantics for the
// operations the grants use: conditional spends that fail with
// storage.ErrConflict, family revocation that lists every live issued jti.
type fakeStore struct {
	mu        sync.Mutex
	refresh   map[string]storage.RefreshToken
	issued    map[string]storage.IssuedAccessToken // by jti
	revoked   map[string]bool                      // revoked jtis
	codes     map[string]storage.AuthorizationCode
	customers map[uint64]storage.Customer
	shops     map[string]storage.Shop
	// failGet, when set, is the error of GetRefreshToken for that hash.
	failGet map[string]error
}

func newStore() *fakeStore {
	return &fakeStore{
		refresh: map[string]storage.RefreshToken{}, issued: map[string]storage.IssuedAccessToken{},
		revoked: map[string]bool{}, codes: map[string]storage.AuthorizationCode{},
		customers: map[uint64]storage.Customer{}, shops: map[string]storage.Shop{}, failGet: map[string]error{},
	}
}

func (s *fakeStore) CreateRefreshToken(_ context.Context, rt storage.RefreshToken, access storage.IssuedAccessToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.refresh[rt.TokenHash]; ok {
		return storage.ErrConflict
	}
	s.refresh[rt.TokenHash] = rt
	s.issued[access.JTI] = access
	return nil
}

func (s *fakeStore) GetRefreshToken(_ context.Context, hash string) (storage.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failGet[hash]; err != nil {
		return storage.RefreshToken{}, err
	}
	rt, ok := s.refresh[hash]
	if !ok {
		return storage.RefreshToken{}, storage.ErrNotFound
	}
	return rt, nil
}

func (s *fakeStore) RotateRefreshToken(_ context.Context, oldHash string, now time.Time, next storage.RefreshToken, access storage.IssuedAccessToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.refresh[oldHash]
	if !ok || old.ClientID != next.ClientID || old.FamilyID != next.FamilyID || old.SpentAt != nil ||
		old.RevokedAt != nil || !old.ExpiresAt.After(now) {
		return storage.ErrConflict
	}
	old.SpentAt, old.SuccessorHash = &now, next.TokenHash
	s.refresh[oldHash] = old
	s.refresh[next.TokenHash] = next
	s.issued[access.JTI] = access
	return nil
}

func (s *fakeStore) AttachAccessToken(_ context.Context, liveHash string, now time.Time, access storage.IssuedAccessToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refresh[liveHash]
	if !ok || rt.FamilyID != access.FamilyID || rt.SpentAt != nil || rt.RevokedAt != nil || !rt.ExpiresAt.After(now) {
		return storage.ErrConflict
	}
	s.issued[access.JTI] = access
	return nil
}

func (s *fakeStore) RevokeRefreshFamily(_ context.Context, family string, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeFamily(family, now), nil
}

func (s *fakeStore) revokeFamily(family string, now time.Time) int64 {
	var n int64
	for h, rt := range s.refresh {
		if rt.FamilyID == family && rt.RevokedAt == nil {
			rt.RevokedAt = &now
			s.refresh[h] = rt
			n++
		}
	}
	// Every recorded jti, as sqlstore does: a record outlives every
	// replica's acceptance of its token.
	for jti, a := range s.issued {
		if a.FamilyID == family {
			s.revoked[jti] = true
		}
	}
	return n
}

func (s *fakeStore) RedeemAuthorizationCode(_ context.Context, hash string, now time.Time) (storage.AuthorizationCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[hash]
	if !ok {
		return storage.AuthorizationCode{}, storage.ErrNotFound
	}
	if c.RedeemedAt != nil {
		return c, storage.ErrConflict
	}
	c.RedeemedAt = &now
	s.codes[hash] = c
	return c, nil
}

func (s *fakeStore) IssueCodeTokens(_ context.Context, hash string, now time.Time, refresh *storage.RefreshToken, access storage.IssuedAccessToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[hash]
	if !ok || c.RedeemedAt == nil || c.TokensIssuedAt != nil || c.RevokedAt != nil {
		return storage.ErrConflict
	}
	c.TokensIssuedAt = &now
	s.codes[hash] = c
	if refresh != nil {
		s.refresh[refresh.TokenHash] = *refresh
	}
	s.issued[access.JTI] = access
	return nil
}

func (s *fakeStore) RevokeAuthorizationCode(_ context.Context, hash string, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[hash]
	if !ok {
		return 0, nil
	}
	if c.RevokedAt == nil {
		c.RevokedAt = &now
		s.codes[hash] = c
	}
	return s.revokeFamily(c.FamilyID, now), nil
}

func (s *fakeStore) GetCustomer(_ context.Context, shopKey string, id uint64) (storage.Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok || c.ShopKey != shopKey {
		return storage.Customer{}, storage.ErrNotFound
	}
	return c, nil
}

func (s *fakeStore) GetShop(_ context.Context, key string) (storage.Shop, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	shop, ok := s.shops[key]
	if !ok {
		return storage.Shop{}, storage.ErrNotFound
	}
	return shop, nil
}

func (s *fakeStore) row(t *testing.T, token string) storage.RefreshToken {
	t.Helper()
	rt, err := s.GetRefreshToken(context.Background(), tokens.HashToken(token))
	require.NoError(t, err)
	return rt
}

// isRevoked reports whether the access token's jti is on the revocation
// list.
func (s *fakeStore) isRevoked(jti string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[jti]
}

var (
	_ RefreshStore = (*fakeStore)(nil)
	_ FamilyStore  = (*fakeStore)(nil)
	_ CodeStore    = (*fakeStore)(nil)
	_ ShopStore    = (*fakeStore)(nil)
)

// claimSigner "signs" by base64-encoding the claims, so tests read them
// back from the token.
type claimSigner struct{}

func (claimSigner) Sign(payload []byte, typ string) (string, error) {
	return typ + "." + base64.RawURLEncoding.EncodeToString(payload), nil
}

func (s claimSigner) SignWith(_ string, payload []byte, typ string) (string, error) {
	return s.Sign(payload, typ)
}

// accessClaims reads the claims claimSigner put into an access token.
func accessClaims(t *testing.T, token string) tokens.AccessClaims {
	t.Helper()
	typ, payload, ok := strings.Cut(token, ".")
	require.True(t, ok)
	require.Equal(t, tokens.TypeAccessToken, typ)
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	require.NoError(t, err)
	var c tokens.AccessClaims
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// fixture is a shop, its verified customer 21, and the issuance every
// grant makes tokens with, over one fake store and clock.
type fixture struct {
	store    *fakeStore
	clock    *fakeClock
	issuance Issuance
	sonia    storage.Customer
}

const (
	shopKey    = "acme12aa"
	refreshKey = "0123456789abcdef0123456789abcdef"
	accessTTL  = 8 * time.Hour
	refreshTTL = 30 * 24 * time.Hour
)

func newFixture(t *testing.T, policy RefreshPolicy) *fixture {
	t.Helper()
	store, clock := newStore(), newClock()
	verified := clock.Now().Add(-time.Hour)
	sonia := storage.Customer{ID: 21, ShopKey: shopKey, Email: "sonia@spryker.com", Name: "Sonia", EmailVerifiedAt: &verified, CustomerReference: "DE--21"}
	store.customers[sonia.ID] = sonia
	store.shops[shopKey] = storage.Shop{Key: shopKey, Active: true}
	minter, err := tokens.NewMinter(tokens.MinterConfig{Issuer: "https://auth.example.com", Signer: claimSigner{}, AccessTTL: accessTTL})
	require.NoError(t, err)
	secrets, err := tokens.NewRefreshSecrets([]byte(refreshKey))
	require.NoError(t, err)
	if policy.TTL == 0 {
		policy.TTL = refreshTTL
	}
	return &fixture{
		store: store, clock: clock, sonia: sonia,
		issuance: Issuance{Minter: minter, Secrets: secrets, Policy: policy, Now: clock.Now},
	}
}

// storefront is a first-party confidential client with every customer
// grant and offline_access.
func storefront() *clients.Info {
	return &clients.Info{Client: storage.Client{
		ID: "storefront", SecretHash: clients.HashSecret("s3cret"), ShopKey: shopKey, FirstParty: true,
		GrantTypes: []string{server.GrantPassword, server.GrantRefreshToken, server.GrantAuthorizationCode},
		Scopes:     []string{"openid", "email", "profile", "offline_access", "customer"},
	}}
}

// startFamily issues a family's first refresh token to client for sonia
// with scope, as the password grant does, and returns the token.
func (f *fixture) startFamily(t *testing.T, client *clients.Info, scope string) string {
	t.Helper()
	now := f.issuance.clock()
	family, err := newFamilyID()
	require.NoError(t, err)
	token, row, err := f.issuance.startFamily(f.issuance.Policy.NewFamily(family, client, f.sonia, scope, now, now), now)
	require.NoError(t, err)
	require.NoError(t, f.store.CreateRefreshToken(context.Background(), row, storage.IssuedAccessToken{JTI: "first-" + family, FamilyID: family, ExpiresAt: now.Add(accessTTL)}))
	return token
}

// requireRefusal asserts err is a refusal of kind.
func requireRefusal(t *testing.T, err error, kind refusal.Kind) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, kind, refusal.KindOf(err), "%v", err)
}
