package attack

// Adversarial suite, hole 2 (issue 13): each dialect's protected routes
// accept only access tokens issued to that dialect's client, or to a
// client explicitly configured for it (one whose tokens name the
// dialect's client in aud: `client add --audience shopkey-storefront`),
// and carrying the scope the routes need (customer). Anything else is the
// dialect's 401. Before the fix /api/v1/{shop}/customers/me gave a
// third-party app granted only openid the customer's e-mail, name and
// account id, and DELETE /refresh-tokens/mine with that app's token
// revoked every family of the customer, the storefront's included.

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// partnerID is a first-party client an operator configured for both
// dialects: its tokens name the dialects' clients as audiences.
const (
	partnerID     = "partner-app"
	partnerSecret = "partner-secret"
)

func addPartnerClient(t testing.TB, ts *harness.TestServer) {
	t.Helper()
	require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
		ID: partnerID, SecretHash: clients.HashSecret(partnerSecret), ShopKey: app.DemoShop, FirstParty: true,
		GrantTypes: []string{"password", "refresh_token"}, Scopes: []string{"openid", "email", "customer", "offline_access"},
		Audiences: []string{ts.Config.Adapters.ShopKeyClientID, ts.Config.Adapters.SprykerClientID}, CreatedAt: time.Now(),
	}))
}

// adapterTokens are access tokens of every kind a dialect route may meet.
type adapterTokens struct {
	thirdPartyOpenID  string // third-party app, scope openid
	otherFirstParty   string // the storefront client, scope customer, aud = storefront
	partnerCustomer   string // configured for the dialects, scope customer
	partnerNoCustomer string // configured for the dialects, scope openid only
	shopKey, spryker  string // the dialects' own logins
}

func mintAdapterTokens(t testing.TB, ts *harness.TestServer) adapterTokens {
	t.Helper()
	return adapterTokens{
		thirdPartyOpenID:  thirdPartyToken(t, ts, "openid").AccessToken,
		otherFirstParty:   ts.LoginAs(t, app.DemoClientID, app.DemoClientSecret, "openid customer").AccessToken,
		partnerCustomer:   ts.LoginAs(t, partnerID, partnerSecret, "customer").AccessToken,
		partnerNoCustomer: ts.LoginAs(t, partnerID, partnerSecret, "openid").AccessToken,
		shopKey:           skAccessToken(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")),
		spryker:           ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword).AccessToken,
	}
}

// TestAttackShopKeyRoutesAcceptOnlyTheirClients: /me, /refresh and
// /logout answer 401 (the envelope) to tokens of other clients and to
// tokens without the customer scope, and serve the dialect's own tokens
// and the configured partner's.
func TestAttackShopKeyRoutesAcceptOnlyTheirClients(t *testing.T) {
	for _, backend := range attackBackends() {
		t.Run(backend.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append(backend.opts, withoutLoginRateLimit())...)
			harness.AddCodeFlowClients(t, ts)
			addPartnerClient(t, ts)
			bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
			for _, route := range []string{"me", "refresh", "logout"} {
				tok := mintAdapterTokens(t, ts)
				for name, refused := range map[string]string{
					"third-party app, openid only":         tok.thirdPartyOpenID,
					"another first-party client":           tok.otherFirstParty,
					"configured client without customer":   tok.partnerNoCustomer,
					"the other dialect's client (Spryker)": tok.spryker,
				} {
					resp := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/"+route, "", "", bearer(refused)...)
					require.Equal(t, http.StatusUnauthorized, resp.Status, "%s: %s: %s", route, name, resp.Body)
					require.Equal(t, `{"data":[],"locale":"es","message":"No autorizado","status":401,"success":false}`, resp.Body)
				}
				for name, allowed := range map[string]string{"the dialect's own": tok.shopKey, "the configured partner's": tok.partnerCustomer} {
					resp := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/"+route, "", "", bearer(allowed)...)
					require.Equal(t, http.StatusOK, resp.Status, "%s: %s: %s", route, name, resp.Body)
				}
			}
		})
	}
}

// TestAttackShopKeyRefreshKeepsTheClient: renewing a configured partner's
// token on /refresh gives a token of that partner, not the dialect's.
func TestAttackShopKeyRefreshKeepsTheClient(t *testing.T) {
	ts := harness.NewTestServer(t, withoutLoginRateLimit())
	addPartnerClient(t, ts)
	tok := ts.LoginAs(t, partnerID, partnerSecret, "customer").AccessToken
	resp := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/refresh", "", "", "Authorization", "Bearer "+tok)
	require.Equal(t, http.StatusOK, resp.Status, resp.Body)
	var r struct {
		Data struct {
			Token struct {
				AccessToken string `json:"access_token"`
			} `json:"token"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &r))
	require.Equal(t, partnerID, tokenClaims(t, r.Data.Token.AccessToken)["client_id"])
}

// TestAttackSprykerDeleteAcceptsOnlyItsClients: DELETE /refresh-tokens/…
// answers 401 to tokens of other clients and without the customer scope,
// and then has revoked nothing: the Glue login's refresh token still
// refreshes.
func TestAttackSprykerDeleteAcceptsOnlyItsClients(t *testing.T) {
	for _, backend := range attackBackends() {
		t.Run(backend.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append(backend.opts, withoutLoginRateLimit())...)
			harness.AddCodeFlowClients(t, ts)
			addPartnerClient(t, ts)
			tok := mintAdapterTokens(t, ts)
			glue := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
			for _, path := range []string{"/refresh-tokens/mine", "/refresh-tokens/" + glue.RefreshToken} {
				for name, refused := range map[string]string{
					"third-party app, openid only":         tok.thirdPartyOpenID,
					"another first-party client":           tok.otherFirstParty,
					"configured client without customer":   tok.partnerNoCustomer,
					"the other dialect's client (shopKey)": tok.shopKey,
				} {
					r := ts.Glue(t, http.MethodDelete, path, "", refused)
					require.Equal(t, http.StatusUnauthorized, r.Status, "%s: %s: %s", path, name, r.Body)
				}
			}
			refreshed := ts.SprykerRefresh(t, glue.RefreshToken)
			require.Equal(t, http.StatusCreated, refreshed.Status, "nothing was revoked: %s", refreshed.Body)

			// The Glue token first: the partner's DELETE revokes its family.
			require.Equal(t, http.StatusNoContent, ts.Glue(t, http.MethodDelete, "/refresh-tokens/mine", "", tok.spryker).Status)
			require.Equal(t, http.StatusNoContent, ts.Glue(t, http.MethodDelete, "/refresh-tokens/mine", "", tok.partnerCustomer).Status)
		})
	}
}
