package attack

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/e2e/harness"
)

// TestAttackRefreshGraceIsExact (issue 13 item 10): with a 2 s reuse grace,
// a retry of a spent refresh token 2.5 s after the spend is refused (and
// revokes the family), one 1.5 s after is answered with the same
// successor. The spend is placed early in a second, where the old
// whole-second truncation answered a retry up to a second late: this test
// failed on it every time.
func TestAttackRefreshGraceIsExact(t *testing.T) {
	const grace = 2 * time.Second
	for _, b := range refreshBackends {
		t.Run(b.name, func(t *testing.T) {
			ts := harness.NewTestServer(t, append([]harness.TestOption{withGrace(grace)}, b.opts...)...)
			tests := []struct {
				name   string
				after  time.Duration
				answer bool
			}{
				{"half a second late", grace + 500*time.Millisecond, false},
				{"half a second early", grace - 500*time.Millisecond, true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					login := offlineLogin(t, ts)
					// Spend at about a tenth into a second of the server's
					// clock.
					frac := time.Duration(ts.Clock.Now().Nanosecond())
					ts.Clock.Advance(time.Second - frac + 100*time.Millisecond)
					spent := mustRefresh(t, ts, login.RefreshToken)
					ts.Clock.Advance(tt.after)

					status, retry := ts.Refresh(t, login.RefreshToken)
					if tt.answer {
						require.Equal(t, http.StatusOK, status, retry.Error)
						require.Equal(t, spent.RefreshToken, retry.RefreshToken)
						return
					}
					require.Equal(t, http.StatusBadRequest, status)
					require.Equal(t, "invalid_grant", retry.Error)
					requireTokenActive(t, ts, spent.RefreshToken, false, "a late retry is reuse: the family is revoked")
					requireTokenActive(t, ts, spent.AccessToken, false, "with its access tokens")
				})
			}
		})
	}
}
