//go:build attack_pending

package attack

// Adversarial suite, hole 11 (issue 13): logging out ends the refresh
// families the logout concerns, with the access tokens issued from them
// (for introspection and UserInfo at once; JWKS-only verifiers until
// exp, docs/security.md). Families the logout does not concern live on.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

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
