package revocation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// world is the fake core around the endpoint: two clients, refresh
// tokens by hash, access tokens by their raw value, the revocation list
// and the customers.
type world struct {
	clients   map[string]storage.Client
	refresh   map[string]storage.RefreshToken
	access    map[string]tokens.AccessClaims
	revoked   map[string]bool
	families  map[string]bool // revoked families
	customers map[uint64]storage.Customer
}

func (w *world) GetClient(_ context.Context, id string) (storage.Client, error) {
	if c, ok := w.clients[id]; ok {
		return c, nil
	}
	return storage.Client{}, storage.ErrNotFound
}

func (w *world) ParseRevocableAccessToken(raw string) (tokens.AccessClaims, error) {
	if c, ok := w.access[raw]; ok {
		return c, nil
	}
	return tokens.AccessClaims{}, tokens.ErrInvalidToken
}

func (w *world) CheckRevocation(_ context.Context, jti string) error {
	if w.revoked[jti] {
		return tokens.ErrInvalidToken
	}
	return nil
}

func (w *world) GetRefreshToken(_ context.Context, hash string) (storage.RefreshToken, error) {
	if rt, ok := w.refresh[hash]; ok {
		return rt, nil
	}
	return storage.RefreshToken{}, storage.ErrNotFound
}

func (w *world) RevokeRefreshFamily(_ context.Context, family string, _ time.Time) (int64, error) {
	w.families[family] = true
	return 1, nil
}

func (w *world) RevokeAccessToken(_ context.Context, t storage.RevokedAccessToken) error {
	w.revoked[t.JTI] = true
	return nil
}

func (w *world) GetCustomer(_ context.Context, shop string, id uint64) (storage.Customer, error) {
	if c, ok := w.customers[id]; ok && c.ShopKey == shop {
		return c, nil
	}
	return storage.Customer{}, storage.ErrNotFound
}

// TestRevoke (issue 13 item 9): a client's own token is revoked; another
// client's token is refused only while it is live; one that is dead —
// revoked, spent, expired, its customer gone — answers 200 like an unknown
// one (RFC 7009 §2.2) and is left alone. Before the fix every token of
// another client was refused, dead ones included.
func TestRevoke(t *testing.T) {
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	verified := now.Add(-time.Hour)
	refreshOf := func(client string, mutate func(*storage.RefreshToken)) storage.RefreshToken {
		rt := storage.RefreshToken{TokenHash: "h", FamilyID: "fam-" + client, ClientID: client, CustomerID: 21, ShopKey: "acme12aa",
			IssuedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
		if mutate != nil {
			mutate(&rt)
		}
		return rt
	}
	accessOf := func(client string) tokens.AccessClaims {
		return tokens.AccessClaims{JTI: "jti-" + client, ClientID: client, Subject: "21", Shop: "acme12aa", ExpiresAt: now.Add(time.Hour).Unix()}
	}
	tests := []struct {
		name          string
		refresh       *storage.RefreshToken
		access        *tokens.AccessClaims
		revokedJTI    bool
		customerGone  bool
		wantRefused   bool
		wantFamily    bool // the family was revoked
		wantAccessJTI bool // the jti is on the list afterwards
	}{
		{name: "own refresh token", refresh: ptr(refreshOf("storefront", nil)), wantFamily: true},
		{name: "own spent refresh token ends the family", refresh: ptr(refreshOf("storefront", func(rt *storage.RefreshToken) { rt.SpentAt = at(-time.Minute) })), wantFamily: true},
		{name: "foreign live refresh token", refresh: ptr(refreshOf("printer", nil)), wantRefused: true},
		{name: "foreign spent refresh token", refresh: ptr(refreshOf("printer", func(rt *storage.RefreshToken) { rt.SpentAt = at(-time.Minute) }))},
		{name: "foreign revoked refresh token", refresh: ptr(refreshOf("printer", func(rt *storage.RefreshToken) { rt.RevokedAt = at(-time.Minute) }))},
		{name: "foreign expired refresh token", refresh: ptr(refreshOf("printer", func(rt *storage.RefreshToken) { rt.ExpiresAt = now }))},
		{name: "foreign refresh token of a gone customer", refresh: ptr(refreshOf("printer", nil)), customerGone: true},
		{name: "own access token", access: ptr(accessOf("storefront")), wantAccessJTI: true},
		{name: "foreign live access token", access: ptr(accessOf("printer")), wantRefused: true},
		{name: "foreign revoked access token", access: ptr(accessOf("printer")), revokedJTI: true, wantAccessJTI: true},
		{name: "foreign access token of a gone customer", access: ptr(accessOf("printer")), customerGone: true},
		{name: "unknown token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{
				clients: map[string]storage.Client{
					"storefront": {ID: "storefront", SecretHash: clients.HashSecret("s3cret")},
					"printer":    {ID: "printer", Public: true},
				},
				refresh: map[string]storage.RefreshToken{}, access: map[string]tokens.AccessClaims{},
				revoked: map[string]bool{}, families: map[string]bool{},
				customers: map[uint64]storage.Customer{21: {ID: 21, ShopKey: "acme12aa", EmailVerifiedAt: &verified}},
			}
			if tt.customerGone {
				delete(w.customers, 21)
			}
			token, jti := "unknown", ""
			if tt.refresh != nil {
				token = "refresh-token"
				tt.refresh.TokenHash = tokens.HashToken(token)
				w.refresh[tt.refresh.TokenHash] = *tt.refresh
			}
			if tt.access != nil {
				token, jti = "access-token", tt.access.JTI
				w.access[token] = *tt.access
				w.revoked[jti] = tt.revokedJTI
			}
			auth, err := clients.NewAuthenticator(w)
			require.NoError(t, err)
			e, err := New(Config{Clients: auth, AccessTokens: w, Refresh: w, Revoker: w, Customers: w, Now: func() time.Time { return now }})
			require.NoError(t, err)

			err = e.Revoke(context.Background(), server.TokenQuery{
				Client: server.ClientCredentials{ID: "storefront", Secret: "s3cret", Method: server.ClientAuthBasic}, Token: token,
			})
			if tt.wantRefused {
				require.Equal(t, refusal.UnauthorizedClient, refusal.KindOf(err), "%v", err)
			} else {
				require.NoError(t, err)
			}
			if tt.refresh != nil {
				require.Equal(t, tt.wantFamily, w.families[tt.refresh.FamilyID])
			}
			if jti != "" {
				require.Equal(t, tt.wantAccessJTI, w.revoked[jti])
			}
		})
	}
}

func TestRevokeAuthenticatesFirst(t *testing.T) {
	w := &world{clients: map[string]storage.Client{"storefront": {ID: "storefront", SecretHash: clients.HashSecret("s3cret")}}}
	auth, err := clients.NewAuthenticator(w)
	require.NoError(t, err)
	e, err := New(Config{Clients: auth, AccessTokens: w, Refresh: w, Revoker: w, Customers: w})
	require.NoError(t, err)
	err = e.Revoke(context.Background(), server.TokenQuery{Client: server.ClientCredentials{ID: "storefront", Secret: "no", Method: server.ClientAuthBasic}, Token: "x"})
	require.True(t, errors.Is(err, refusal.ErrInvalidClient))
	err = e.Revoke(context.Background(), server.TokenQuery{Client: server.ClientCredentials{ID: "storefront", Secret: "s3cret", Method: server.ClientAuthBasic}})
	require.Equal(t, refusal.InvalidRequest, refusal.KindOf(err))
}

func ptr[T any](v T) *T { return &v }
