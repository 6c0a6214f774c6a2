package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// replicaSkew is how far the sweeping and revoking replica's clock runs
// ahead of the verifying one's: within the tolerated ClockSkew.
const replicaSkew = 10 * time.Second

// TestRevocationOutlivesEveryReplicasAcceptance: two replicas on one
// database, the second's clock 10 s ahead of the first's. A token revoked
// on the fast replica at any moment before the slow one stops accepting it
// (exp + 30 s by the slow clock) — its family revoked, or the token itself
// — stays refused on the slow replica, also after the fast replica swept,
// up to that last moment; a token not revoked is still accepted there at
// that moment, so the check is made while acceptance still matters.
//
// Failed before the fix on both backends, each way: the family revocation
// collected only jtis with exp after the fast clock; /oauth2/revoke on the
// fast replica ignored a token past exp + 30 s by its own clock; the sweep
// deleted a revoked jti at exp + 30 s by the fast clock, 10 s before the
// slow replica stopped accepting it (issue 20 item 4, issue 13 item 6).
func TestRevocationOutlivesEveryReplicasAcceptance(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			slow := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(b.Open(t)))
			fast := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(slow.Store), harness.WithoutDemo(),
				harness.WithConfig(func(c *config.Config) { c.Issuer = slow.URL }))
			fast.Clock.Advance(replicaSkew)
			advance := func(d time.Duration) {
				slow.Clock.Advance(d)
				fast.Clock.Advance(d)
			}
			// at moves both clocks so the slow one reads exp + d.
			at := func(exp time.Time, d time.Duration) { advance(exp.Add(d).Sub(slow.Clock.Now())) }

			type revoke func(t *testing.T, tok harness.TokenBody)
			revokeFamily := func(t *testing.T, tok harness.TokenBody) {
				resp := fast.PostForm(t, "/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}},
					app.DemoClientID, app.DemoClientSecret)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			revokeToken := func(t *testing.T, tok harness.TokenBody) {
				resp := fast.PostForm(t, "/oauth2/revoke", url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}},
					app.DemoClientID, app.DemoClientSecret)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			for _, how := range []struct {
				name   string
				revoke revoke
			}{{"family", revokeFamily}, {"access token", revokeToken}} {
				// Moments on the slow clock, relative to exp.
				for _, when := range []time.Duration{-10 * time.Minute, 5 * time.Second, 22 * time.Second} {
					t.Run(fmt.Sprintf("%s revoked at exp%+v", how.name, when), func(t *testing.T) {
						tok := slow.Login(t, "openid offline_access", "")
						control := slow.Login(t, "openid offline_access", "")
						exp := tokenExpiry(t, tok.AccessToken)
						require.WithinDuration(t, exp, tokenExpiry(t, control.AccessToken), time.Second)

						at(exp, when)
						how.revoke(t, tok)
						// The fast replica sweeps when the slow one reads
						// exp + 26 s: 4 s before it stops accepting.
						at(exp, 26*time.Second)
						res, err := fast.App.Sweeper.Sweep(t.Context())
						require.NoError(t, err)
						require.True(t, res.Ran)
						slow.RequireActive(t, control.AccessToken, true)
						slow.RequireActive(t, tok.AccessToken, false)
						resp, _ := slow.UserInfo(t, tok.AccessToken)
						require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
					})
				}
			}

			t.Run("the records go once no replica accepts their tokens", func(t *testing.T) {
				advance(app.ClockSkew*2 + time.Minute)
				res, err := fast.App.Sweeper.Sweep(t.Context())
				require.NoError(t, err)
				require.True(t, res.Ran)
				require.Positive(t, res.RevokedAccessTokens)
				require.Positive(t, res.IssuedAccessTokens)
			})
		})
	}
}

// tokenExpiry reads the exp claim of a JWT without checking it.
func tokenExpiry(t *testing.T, jwt string) time.Time {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct {
		Exp int64 `json:"exp"`
	}
	require.NoError(t, json.Unmarshal(payload, &c))
	return time.Unix(c.Exp, 0)
}
