package grants

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

// TestClientCredentials: a confidential client's token for itself, with
// no refresh or ID token, and the rules: confidential only, no numeric id,
// no customer scopes.
func TestClientCredentials(t *testing.T) {
	machine := func(id string, public bool) *clients.Info {
		return &clients.Info{Client: storage.Client{ID: id, Public: public, ShopKey: shopKey,
			GrantTypes: []string{server.GrantClientCredentials}, Scopes: []string{"orders", "openid", "offline_access"}}}
	}
	tests := []struct {
		name      string
		client    *clients.Info
		scope     string
		kind      refusal.Kind // Fault: success
		wantScope string
	}{
		{"default scope drops the customer scopes", machine("erp", false), "", refusal.Fault, "orders"},
		{"asked scope", machine("erp", false), "orders", refusal.Fault, "orders"},
		{"public client", machine("erp", true), "", refusal.UnauthorizedClient, ""},
		{"numeric client id", machine("21", false), "", refusal.UnauthorizedClient, ""},
		{"openid needs a customer", machine("erp", false), "orders openid", refusal.InvalidScope, ""},
		{"offline_access needs a customer", machine("erp", false), "offline_access", refusal.InvalidScope, ""},
		{"scope outside the client's", machine("erp", false), "admin", refusal.InvalidScope, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, RefreshPolicy{})
			g, err := NewClientCredentials(f.issuance)
			require.NoError(t, err)
			resp, err := g.Run(context.Background(), tt.client, server.TokenRequest{GrantType: server.GrantClientCredentials, Scope: tt.scope})
			if tt.kind != refusal.Fault {
				requireRefusal(t, err, tt.kind)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantScope, resp.Scope)
			require.Empty(t, resp.RefreshToken)
			require.Empty(t, resp.IDToken)
			claims := accessClaims(t, resp.AccessToken)
			require.Equal(t, tt.client.ID, claims.Subject, "sub is the client (RFC 9068 §2.2)")
			require.Equal(t, shopKey, claims.Shop)
			require.Zero(t, claims.AuthTime)
		})
	}
}
