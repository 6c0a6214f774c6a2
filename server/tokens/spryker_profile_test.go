package tokens

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// payloadSigner "signs" by keeping the payload, so tests read the claims.
type payloadSigner struct{ payload []byte }

func (s *payloadSigner) Sign(payload []byte, _ string) (string, error) {
	s.payload = payload
	return "signed", nil
}

func (s *payloadSigner) SignWith(_ string, payload []byte, typ string) (string, error) {
	return s.Sign(payload, typ)
}

// mintClaims mints a token for customer 21 of shop acme12aa and returns
// its claims as JSON members.
func mintClaims(t *testing.T, client storage.Client, companyUserID, scope string) map[string]json.RawMessage {
	t.Helper()
	signer := &payloadSigner{}
	m, err := NewMinter("https://auth.example.com", signer)
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	ti := models.NewToken()
	ti.SetScope(scope)
	ti.SetAccessExpiresIn(28800 * time.Second)
	SetSubject(ti, Subject{CustomerID: 21, ShopKey: "acme12aa", CustomerReference: "DE--21", CompanyUserID: companyUserID, AuthTime: now})
	_, _, err = m.Token(context.Background(), &oauth2.GenerateBasic{
		Client: &clients.Info{Client: client}, UserID: "21", CreateAt: now, TokenInfo: ti,
	}, false)
	require.NoError(t, err)
	var claims map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(signer.payload, &claims))
	return claims
}

// TestSprykerProfile: docs/spryker.md's claims for token_profile spryker —
// sub a JSON-encoded string with Spryker's members in Spryker's order,
// id_company_user and id_agent null when absent, aud the client id,
// scopes an array — while the RFC 9068 claims stay.
func TestSprykerProfile(t *testing.T) {
	spryker := storage.Client{ID: "spryker-glue", TokenProfile: ProfileSpryker, Audiences: []string{"https://api.example.com"}}
	tests := []struct {
		name    string
		client  storage.Client
		company string
		scope   string
		want    map[string]string
	}{
		{"B2B customer", spryker, "ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac", "customer offline_access", map[string]string{
			"sub":    `"{\"id_company_user\":\"ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac\",\"id_agent\":null,\"customer_reference\":\"DE--21\",\"id_customer\":21}"`,
			"aud":    `"spryker-glue"`,
			"scopes": `["customer"]`,
			"scope":  `"customer offline_access"`,
		}},
		{"customer without company user", spryker, "", "customer", map[string]string{
			"sub":    `"{\"id_company_user\":null,\"id_agent\":null,\"customer_reference\":\"DE--21\",\"id_customer\":21}"`,
			"aud":    `"spryker-glue"`,
			"scopes": `["customer"]`,
		}},
		{"default profile", storage.Client{ID: "storefront"}, "ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac", "openid customer", map[string]string{
			"sub":             `"21"`,
			"aud":             `"storefront"`,
			"id_company_user": `"ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := mintClaims(t, tt.client, tt.company, tt.scope)
			for name, want := range tt.want {
				require.Equal(t, want, string(claims[name]), name)
			}
			for _, name := range []string{"iss", "exp", "iat", "nbf", "jti", "client_id", "shop", "customer_reference"} {
				require.Contains(t, claims, name, "RFC 9068 and shop claims stay")
			}
			if tt.client.TokenProfile != ProfileSpryker {
				require.NotContains(t, claims, "scopes")
			}

			// The customer id is read back from either shape.
			var c AccessClaims
			raw, err := json.Marshal(claims)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &c))
			id, ok := c.CustomerID()
			require.True(t, ok)
			require.EqualValues(t, 21, id)
		})
	}
}
