package introspection

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

type world struct {
	access  map[string]tokens.AccessClaims
	revoked map[string]bool
	refresh map[string]storage.RefreshToken
	gone    bool
}

func (w *world) GetClient(_ context.Context, id string) (storage.Client, error) {
	switch id {
	case "storefront":
		return storage.Client{ID: id, SecretHash: clients.HashSecret("s")}, nil
	case "orders-api":
		return storage.Client{ID: id, SecretHash: clients.HashSecret("s")}, nil
	case "spa":
		return storage.Client{ID: id, Public: true}, nil
	}
	return storage.Client{}, storage.ErrNotFound
}

func (w *world) ParseAccessToken(raw string) (tokens.AccessClaims, error) {
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

func (w *world) GetTokenHolder(_ context.Context, _ string, _ uint64, jti string) (storage.TokenHolder, error) {
	now := time.Now()
	h := storage.TokenHolder{Email: "sonia@spryker.com", EmailVerifiedAt: &now, Revoked: w.revoked[jti]}
	if w.gone {
		h.DisabledAt = &now
	}
	return h, nil
}

func (w *world) GetRefreshToken(_ context.Context, hash string) (storage.RefreshToken, error) {
	if rt, ok := w.refresh[hash]; ok {
		return rt, nil
	}
	return storage.RefreshToken{}, storage.ErrNotFound
}

func (w *world) GetCustomer(_ context.Context, shop string, id uint64) (storage.Customer, error) {
	now := time.Now()
	c := storage.Customer{ID: id, ShopKey: shop, Email: "sonia@spryker.com", EmailVerifiedAt: &now}
	if w.gone {
		c.DisabledAt = &now
	}
	return c, nil
}

// TestIntrospect: who may see what (RFC 7662 §2.1, §4) and when a token is
// active.
func TestIntrospect(t *testing.T) {
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	customerToken := tokens.AccessClaims{JTI: "j", ClientID: "storefront", Subject: "21", Shop: "acme12aa", Audience: tokens.Audience{"orders-api"}}
	machineToken := tokens.AccessClaims{JTI: "m", ClientID: "storefront", Subject: "storefront"}
	live := storage.RefreshToken{ClientID: "storefront", CustomerID: 21, ShopKey: "acme12aa", Scope: "offline_access", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	spent := live
	spent.SpentAt = &now
	tests := []struct {
		name    string
		caller  string
		token   string
		revoked bool
		gone    bool
		active  bool
		kind    refusal.Kind // Fault: no error
	}{
		{"own access token", "storefront", "customer", false, false, true, refusal.Fault},
		{"a resource server named in aud", "orders-api", "customer", false, false, true, refusal.Fault},
		{"revoked", "storefront", "customer", true, false, false, refusal.Fault},
		{"customer disabled", "storefront", "customer", false, true, false, refusal.Fault},
		{"a client's own token", "storefront", "machine", false, false, true, refusal.Fault},
		{"another client's, not in aud", "orders-api", "machine", false, false, false, refusal.Fault},
		{"own refresh token", "storefront", "refresh", false, false, true, refusal.Fault},
		{"a refresh token is only its client's", "orders-api", "refresh", false, false, false, refusal.Fault},
		{"spent refresh token", "storefront", "spent", false, false, false, refusal.Fault},
		{"unknown", "storefront", "nope", false, false, false, refusal.Fault},
		{"a public client may not ask", "spa", "customer", false, false, false, refusal.InvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{
				access:  map[string]tokens.AccessClaims{"customer": customerToken, "machine": machineToken},
				revoked: map[string]bool{"j": tt.revoked, "m": tt.revoked},
				refresh: map[string]storage.RefreshToken{tokens.HashToken("refresh"): live, tokens.HashToken("spent"): spent},
				gone:    tt.gone,
			}
			auth, err := clients.NewAuthenticator(w)
			require.NoError(t, err)
			e, err := New(Config{Issuer: "https://auth.example.com", Clients: auth, AccessTokens: w, Holders: w, Refresh: w, Customers: w,
				Now: func() time.Time { return now }})
			require.NoError(t, err)
			creds := server.ClientCredentials{ID: tt.caller, Secret: "s", Method: server.ClientAuthBasic}
			if tt.caller == "spa" {
				creds = server.ClientCredentials{ID: "spa", Method: server.ClientAuthNone}
			}
			got, err := e.Introspect(context.Background(), server.TokenQuery{Client: creds, Token: tt.token})
			if tt.kind != refusal.Fault {
				require.Equal(t, tt.kind, refusal.KindOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.active, got.Active)
			if !tt.active {
				require.Equal(t, Result{}, got, "an inactive token reveals nothing")
			}
		})
	}
}
