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

// recordingGrant answers with a token for whichever client reached it.
type recordingGrant struct{ ran []string }

func (g *recordingGrant) Run(_ context.Context, client *clients.Info, req server.TokenRequest) (*server.TokenResponse, error) {
	g.ran = append(g.ran, req.GrantType+":"+client.ID)
	return &server.TokenResponse{AccessToken: "at", Client: client.Client}, nil
}

type clientMap map[string]storage.Client

func (m clientMap) GetClient(_ context.Context, id string) (storage.Client, error) {
	c, ok := m[id]
	if !ok {
		return storage.Client{}, storage.ErrNotFound
	}
	return c, nil
}

type recordingObserver struct{ issued, failed []string }

func (o *recordingObserver) TokenIssued(grant, dialect, clientID string) {
	o.issued = append(o.issued, grant+"/"+dialect+"/"+clientID)
}

func (o *recordingObserver) TokenFailed(grant, dialect, reason string) {
	o.failed = append(o.failed, grant+"/"+dialect+"/"+reason)
}

// TestEndpoint: the one step before every grant — grant_type known, the
// client authenticated, the grant on its allow-list — and the metrics
// labels it reports.
func TestEndpoint(t *testing.T) {
	store := clientMap{
		"storefront": {ID: "storefront", SecretHash: clients.HashSecret("s3cret"), GrantTypes: []string{server.GrantPassword, server.GrantRefreshToken}},
		"printer":    {ID: "printer", Public: true, GrantTypes: []string{server.GrantRefreshToken}},
	}
	basic := func(id, secret string) server.ClientCredentials {
		return server.ClientCredentials{ID: id, Secret: secret, Method: server.ClientAuthBasic}
	}
	tests := []struct {
		name    string
		req     server.TokenRequest
		adapter string // AdapterToken for this client
		kind    refusal.Kind
		ran     string
		metric  string
	}{
		{"password", server.TokenRequest{GrantType: "password", Client: basic("storefront", "s3cret"), Dialect: "oauth2"}, "", refusal.Fault,
			"password:storefront", "password/oauth2/storefront"},
		{"client_secret_post", server.TokenRequest{GrantType: "password", Client: server.ClientCredentials{ID: "storefront", Secret: "s3cret", Method: server.ClientAuthPost}}, "", refusal.Fault,
			"password:storefront", "password/other/storefront"},
		{"public client by id alone", server.TokenRequest{GrantType: "refresh_token", Client: server.ClientCredentials{ID: "printer", Method: server.ClientAuthNone}}, "", refusal.Fault,
			"refresh_token:printer", "refresh_token/other/printer"},
		{"no grant_type", server.TokenRequest{Client: basic("storefront", "s3cret")}, "", refusal.InvalidRequest, "", "other/other/invalid_request"},
		{"unknown grant_type is not echoed", server.TokenRequest{GrantType: "urn:evil:" + string(make([]byte, 8)), Client: basic("storefront", "s3cret")}, "", refusal.UnsupportedGrantType, "",
			"other/other/unsupported_grant_type"},
		{"wrong secret", server.TokenRequest{GrantType: "password", Client: basic("storefront", "nope")}, "", refusal.InvalidClient, "", "password/other/invalid_client"},
		{"secret omitted", server.TokenRequest{GrantType: "password", Client: server.ClientCredentials{ID: "storefront", Method: server.ClientAuthNone}}, "", refusal.InvalidClient, "", ""},
		{"confidential client with an empty secret", server.TokenRequest{GrantType: "password", Client: basic("storefront", "")}, "", refusal.InvalidClient, "", ""},
		{"public client sending a secret", server.TokenRequest{GrantType: "refresh_token", Client: basic("printer", "x")}, "", refusal.InvalidClient, "", ""},
		{"unknown client", server.TokenRequest{GrantType: "password", Client: basic("ghost", "s3cret")}, "", refusal.InvalidClient, "", ""},
		{"no client", server.TokenRequest{GrantType: "password"}, "", refusal.InvalidClient, "", ""},
		{"grant not on the allow-list", server.TokenRequest{GrantType: "password", Client: server.ClientCredentials{ID: "printer", Method: server.ClientAuthNone}}, "", refusal.UnauthorizedClient, "",
			"password/other/unauthorized_client"},
		{"client_credentials not on the allow-list", server.TokenRequest{GrantType: "client_credentials", Client: basic("storefront", "s3cret")}, "", refusal.UnauthorizedClient, "", ""},
		{"adapter: the route is the client", server.TokenRequest{GrantType: "password", Dialect: "spryker"}, "storefront", refusal.Fault,
			"password:storefront", "password/spryker/storefront"},
		{"adapter: still the allow-list", server.TokenRequest{GrantType: "password", Dialect: "shopkey"}, "printer", refusal.UnauthorizedClient, "",
			"password/shopkey/unauthorized_client"},
		{"adapter: an unknown client", server.TokenRequest{GrantType: "password"}, "ghost", refusal.InvalidClient, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth, err := clients.NewAuthenticator(store)
			require.NoError(t, err)
			g, obs := &recordingGrant{}, &recordingObserver{}
			e, err := New(Config{Issuer: "https://auth.example.com", Clients: auth, Observer: obs,
				Password: g, RefreshToken: g, AuthorizationCode: g, ClientCredentials: g})
			require.NoError(t, err)
			var resp *server.TokenResponse
			if tt.adapter != "" {
				resp, err = e.AdapterToken(context.Background(), tt.adapter, tt.req)
			} else {
				resp, err = e.Token(context.Background(), tt.req)
			}
			if tt.kind != refusal.Fault {
				requireRefusal(t, err, tt.kind)
				require.Empty(t, g.ran, "no grant runs")
				if tt.metric != "" {
					require.Equal(t, []string{tt.metric}, obs.failed)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, "at", resp.AccessToken)
			require.Equal(t, []string{tt.ran}, g.ran)
			require.Equal(t, []string{tt.metric}, obs.issued)
		})
	}
}
