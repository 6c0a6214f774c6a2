package attack

// Adversarial suite, hole 11 (issue 13): logging out, revoking a consent
// and disabling a customer end the refresh families they concern, with
// the access tokens issued from them (for introspection and UserInfo at
// once; JWKS-only verifiers until exp, docs/security.md). Families they do
// not concern live on.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// cliServer is a test server on the database of a command line, so that
// `shopauth customer …` acts on the server's customers and tokens.
func cliServer(t *testing.T) (*harness.CLI, *harness.TestServer) {
	t.Helper()
	e := harness.NewCLI(t)
	store := e.Store(t)
	_, err := store.Migrate(t.Context())
	require.NoError(t, err)
	ts := harness.NewTestServer(t, harness.WithStore(store), withoutLoginRateLimit())
	harness.AddCodeFlowClients(t, ts)
	return e, ts
}

// TestAttackDisableEndsFamilies: `customer disable` ends every family of
// the customer with its access tokens; enabling the account again brings
// none of them back. Before the fix a disabled customer's tokens were only
// refused while the account stayed disabled.
func TestAttackDisableEndsFamilies(t *testing.T) {
	e, ts := cliServer(t)
	storefront := ts.Login(t, "openid offline_access", "")
	glue := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
	app3 := thirdPartyToken(t, ts, "openid offline_access")

	code, out, errOut := e.Run("", "customer", "disable", "--shop", app.DemoShop, "--email", app.DemoCustomerEmail)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "disabled; 3 refresh tokens revoked")
	code, _, errOut = e.Run("", "customer", "enable", "--shop", app.DemoShop, "--email", app.DemoCustomerEmail)
	require.Zero(t, code, errOut)

	status, _ := ts.Refresh(t, storefront.RefreshToken)
	require.Equal(t, http.StatusBadRequest, status, "the storefront's family ended")
	require.Equal(t, http.StatusUnauthorized, ts.SprykerRefresh(t, glue.RefreshToken).Status, "the Glue family ended")
	resp, _ := harness.ExchangeRefresh(t, ts, app3.RefreshToken)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "the app's family ended")
	for _, tok := range []string{storefront.AccessToken, glue.AccessToken, app3.AccessToken} {
		requireRevoked(t, ts, tok, true)
	}
	// The account works again: a new login is live.
	requireRevoked(t, ts, ts.Login(t, "offline_access", "").AccessToken, false)
}

// TestAttackRevokeConsentEndsTheClientsFamilies: `customer revoke-consent`
// ends the client's families of the customer with their access tokens;
// the customer's families of other clients live on.
func TestAttackRevokeConsentEndsTheClientsFamilies(t *testing.T) {
	e, ts := cliServer(t)
	app3 := thirdPartyToken(t, ts, "openid offline_access")
	storefront := ts.Login(t, "openid offline_access", "")

	code, out, errOut := e.Run("", "customer", "revoke-consent", "--shop", app.DemoShop, "--email", app.DemoCustomerEmail, "--client", harness.AppClientID)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "revoked; 1 refresh tokens revoked")

	resp, body := harness.ExchangeRefresh(t, ts, app3.RefreshToken)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, "invalid_grant", body.Error, "the app's family ended")
	r, _ := ts.UserInfo(t, app3.AccessToken)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode, "the app's access token is revoked")

	status, _ := ts.Refresh(t, storefront.RefreshToken)
	require.Equal(t, http.StatusOK, status, "another client's family lives on")
}

// TestAttackRPLogoutEndsSessionFamilies: RP-initiated logout (with an
// id_token_hint, or confirmed by the customer) ends the families issued
// through that browser session's authorization codes; a family of the
// same customer from elsewhere (the storefront's password grant, another
// browser) is not concerned. Before the fix the session ended and every
// refresh token it had produced kept refreshing.
func TestAttackRPLogoutEndsSessionFamilies(t *testing.T) {
	for _, backend := range attackBackends() {
		t.Run(backend.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append(backend.opts, withoutLoginRateLimit())...)
			harness.AddCodeFlowClients(t, ts)
			for _, how := range []string{"id_token_hint", "confirmed"} {
				t.Run(how, func(t *testing.T) {
					// A browser session and the app's tokens from it.
					b := harness.NewBrowser(t, ts)
					p := b.SubmitLogin(b.Get(harness.AuthorizeURL(harness.AppClientID, harness.AppRedirect, nil)), app.DemoCustomerEmail, app.DemoPassword)
					if strings.HasPrefix(p.Location, "/consent") { // the first time only
						f := harness.FormOf(t, b.Get(p.Location))
						f.Set("decision", "allow")
						p = b.Post("/consent", f)
					}
					code := harness.Callback(t, p, harness.AppRedirect).Get("code")
					resp, app := harness.ExchangeCode(t, ts, code, harness.AppExchange(code), "", "")
					require.Equal(t, http.StatusOK, resp.StatusCode, app.Error)
					require.NotEmpty(t, app.RefreshToken)

					// Not concerned: the storefront's own login, and another
					// browser's session.
					storefront := ts.Login(t, "openid offline_access", "")
					other := thirdPartyToken(t, ts, "openid offline_access")

					switch how {
					case "id_token_hint":
						q := url.Values{"id_token_hint": {app.IDToken}, "post_logout_redirect_uri": {harness.AppLogoutURI}}
						harness.Callback(t, b.Get("/oauth2/logout?"+q.Encode()), harness.AppLogoutURI)
					case "confirmed":
						lf := harness.FormOf(t, b.Get("/oauth2/logout"))
						lf.Set("confirm", "yes")
						require.Equal(t, http.StatusOK, b.Post("/oauth2/logout", lf).Status)
					}

					resp, body := harness.ExchangeRefresh(t, ts, app.RefreshToken)
					require.Equal(t, http.StatusBadRequest, resp.StatusCode)
					require.Equal(t, "invalid_grant", body.Error, "the session's family ended")
					r, _ := ts.UserInfo(t, app.AccessToken)
					require.Equal(t, http.StatusUnauthorized, r.StatusCode, "its access token is revoked")

					status, _ := ts.Refresh(t, storefront.RefreshToken)
					require.Equal(t, http.StatusOK, status, "the storefront's family lives on")
					resp, _ = harness.ExchangeRefresh(t, ts, other.RefreshToken)
					require.Equal(t, http.StatusOK, resp.StatusCode, "another browser's family lives on")
				})
			}
		})
	}
}

// TestAttackShopKeyLogoutEndsThePartnersFamily: a client configured for
// the shopKey dialect signs in with a refresh token; its access token,
// renewed on /customers/refresh and then used to log out there, ends the
// family: the refresh token refreshes no more and every access token of
// the family (the first one, the renewed one) is revoked. Before the fix
// the logout revoked the one access token and the family refreshed on.
func TestAttackShopKeyLogoutEndsThePartnersFamily(t *testing.T) {
	for _, backend := range attackBackends() {
		t.Run(backend.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append(backend.opts, withoutLoginRateLimit())...)
			addPartnerClient(t, ts)
			login := ts.LoginAs(t, partnerID, partnerSecret, "customer offline_access")
			require.NotEmpty(t, login.RefreshToken)
			bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
			renewed := ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/refresh", "", "", bearer(login.AccessToken)...)
			require.Equal(t, http.StatusOK, renewed.Status, renewed.Body)
			second := skAccessToken(t, renewed)
			bystander := ts.LoginAs(t, partnerID, partnerSecret, "customer offline_access")

			require.Equal(t, http.StatusOK, ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/logout", "", "", bearer(second)...).Status)

			resp := ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {login.RefreshToken}}, partnerID, partnerSecret)
			body := harness.DecodeToken(t, resp)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.Equal(t, "invalid_grant", body.Error, "the family ended")
			requireRevoked(t, ts, login.AccessToken, true)
			requireRevoked(t, ts, second, true)

			resp = ts.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bystander.RefreshToken}}, partnerID, partnerSecret)
			body = harness.DecodeToken(t, resp)
			require.Equal(t, http.StatusOK, resp.StatusCode, "another login's family lives on: %s", body.Error)
		})
	}
}
