package attack

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestAttackRevokeDeadForeignTokens (issue 13 item 9): /oauth2/revoke
// answers 200 for every token that is not live, another client's
// included: its revoked access token, its spent and its revoked refresh
// token. Only another client's live token is refused (400
// unauthorized_client), and nothing of the other client's changes. Before
// the fix every token of another client was refused.
func TestAttackRevokeDeadForeignTokens(t *testing.T) {
	for _, b := range refreshBackends {
		t.Run(b.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, b.opts...)
			harness.AddLifecycleClients(t, ts)
			theirs := ts.LoginAs(t, harness.OtherClientID, harness.OtherClientSecret, "openid offline_access")
			spentRefresh := theirs.RefreshToken
			next := ts.LoginAs(t, harness.OtherClientID, harness.OtherClientSecret, "openid offline_access")
			status, _ := revokeAs(t, ts, harness.OtherClientID, harness.OtherClientSecret, next.AccessToken)
			require.Equal(t, http.StatusOK, status)
			// Spend their first refresh token.
			resp := ts.PostForm(t, "/oauth2/token", refreshForm(spentRefresh), harness.OtherClientID, harness.OtherClientSecret)
			live := harness.DecodeToken(t, resp)
			require.Equal(t, http.StatusOK, resp.StatusCode, live.Error)
			// A family of theirs they revoked.
			gone := ts.LoginAs(t, harness.OtherClientID, harness.OtherClientSecret, "offline_access")
			status, _ = revokeAs(t, ts, harness.OtherClientID, harness.OtherClientSecret, gone.RefreshToken)
			require.Equal(t, http.StatusOK, status)

			tests := []struct {
				name   string
				token  string
				status int
			}{
				{"their revoked access token", next.AccessToken, http.StatusOK},
				{"their spent refresh token", spentRefresh, http.StatusOK},
				{"their revoked refresh token", gone.RefreshToken, http.StatusOK},
				{"their live refresh token", live.RefreshToken, http.StatusBadRequest},
				{"their live access token", live.AccessToken, http.StatusBadRequest},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					status, body := revokeAs(t, ts, app.DemoClientID, app.DemoClientSecret, tt.token)
					require.Equal(t, tt.status, status, body.Error)
					if tt.status != http.StatusOK {
						require.Equal(t, "unauthorized_client", body.Error)
					}
				})
			}
			// Nothing of theirs changed: the live family still refreshes.
			resp = ts.PostForm(t, "/oauth2/token", refreshForm(live.RefreshToken), harness.OtherClientID, harness.OtherClientSecret)
			after := harness.DecodeToken(t, resp)
			require.Equal(t, http.StatusOK, resp.StatusCode, after.Error)
		})
	}
}
