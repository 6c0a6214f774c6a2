//go:build attack_pending

package main

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
			ts := newTestServer(t, append(backend.opts, withoutLoginRateLimit())...)
			addCodeFlowClients(t, ts)
			for _, how := range []string{"id_token_hint", "confirmed"} {
				t.Run(how, func(t *testing.T) {
					// A browser session and the app's tokens from it.
					b := newBrowser(t, ts)
					p := b.submitLogin(b.get(authorizeURL(appClientID, appRedirect, nil)), demoCustomerEmail, demoPassword)
					if strings.HasPrefix(p.location, "/consent") { // the first time only
						f := formOf(t, b.get(p.location))
						f.Set("decision", "allow")
						p = b.post("/consent", f)
					}
					code := callback(t, p, appRedirect).Get("code")
					resp, app := exchangeCode(t, ts, code, appExchange(code), "", "")
					require.Equal(t, http.StatusOK, resp.StatusCode, app.Error)
					require.NotEmpty(t, app.RefreshToken)

					// Not concerned: the storefront's own login, and another
					// browser's session.
					storefront := ts.login(t, "openid offline_access", "")
					other := thirdPartyToken(t, ts, "openid offline_access")

					switch how {
					case "id_token_hint":
						q := url.Values{"id_token_hint": {app.IDToken}, "post_logout_redirect_uri": {appLogoutURI}}
						callback(t, b.get("/oauth2/logout?"+q.Encode()), appLogoutURI)
					case "confirmed":
						lf := formOf(t, b.get("/oauth2/logout"))
						lf.Set("confirm", "yes")
						require.Equal(t, http.StatusOK, b.post("/oauth2/logout", lf).status)
					}

					resp, body := exchangeRefresh(t, ts, app.RefreshToken)
					require.Equal(t, http.StatusBadRequest, resp.StatusCode)
					require.Equal(t, "invalid_grant", body.Error, "the session's family ended")
					r, _ := ts.userInfo(t, app.AccessToken)
					require.Equal(t, http.StatusUnauthorized, r.StatusCode, "its access token is revoked")

					status, _ := ts.refresh(t, storefront.RefreshToken)
					require.Equal(t, http.StatusOK, status, "the storefront's family lives on")
					resp, _ = exchangeRefresh(t, ts, other.RefreshToken)
					require.Equal(t, http.StatusOK, resp.StatusCode, "another browser's family lives on")
				})
			}
		})
	}
}
