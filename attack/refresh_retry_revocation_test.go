package attack

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestAttackRetriesRacingRevocation (issue 13 item 4): 16 grace retries of
// a spent refresh token race the revocation of its family. Whatever the
// interleaving, no access token answered to a retry outlives the
// revocation. Black-box, the interleaving is left to the scheduler; the
// forced interleavings that failed before the fix (the retry's jti was
// recorded with a plain insert after the revocation had listed the
// family) are server/grants TestRetryCannotEscapeFamilyRevocation and the
// storage conformance cases AttachAccessToken and
// ConcurrentAttachAndRevoke, on SQLite and MySQL.
func TestAttackRetriesRacingRevocation(t *testing.T) {
	const racers = 16
	for _, b := range refreshBackends {
		t.Run(b.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append([]harness.TestOption{withGrace(time.Minute)}, b.opts...)...)
			login := offlineLogin(t, ts)
			spent := mustRefresh(t, ts, login.RefreshToken)

			var (
				start   = make(chan struct{})
				wg      sync.WaitGroup
				answers = make([]harness.TokenBody, racers)
				codes   = make([]int, racers)
			)
			for i := range racers {
				wg.Go(func() {
					<-start
					if i == racers/2 {
						codes[i], _ = revokeAs(t, ts, app.DemoClientID, app.DemoClientSecret, spent.RefreshToken)
						return
					}
					codes[i], answers[i] = ts.Refresh(t, login.RefreshToken)
				})
			}
			close(start)
			wg.Wait()
			require.Equal(t, http.StatusOK, codes[racers/2], "the revocation")
			for i := range racers {
				if i == racers/2 {
					continue
				}
				if codes[i] == http.StatusOK {
					requireTokenActive(t, ts, answers[i].AccessToken, false, "a retry's access token outlived the revocation")
					continue
				}
				require.Equal(t, http.StatusBadRequest, codes[i], answers[i].Error)
				require.Equal(t, "invalid_grant", answers[i].Error)
			}
			requireTokenActive(t, ts, spent.RefreshToken, false, "the family is revoked")
		})
	}
}
