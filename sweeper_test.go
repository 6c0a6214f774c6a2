package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

func TestSweeperBoundsState(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := newTestServer(t, withoutRateLimit(), withStore(b.Open(t)))
			ctx := t.Context()
			revoke := func(token string) {
				resp := s.postForm(t, "/oauth2/revoke", url.Values{"token": {token}}, demoClientID, demoClientSecret)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			// Family A: three access tokens, two spent refresh tokens, the
			// last access token revoked. Family B: revoked with its one
			// access token.
			a := s.login(t, "openid offline_access", "")
			_, a1 := s.refresh(t, a.RefreshToken)
			_, a2 := s.refresh(t, a1.RefreshToken)
			revoke(a2.AccessToken)
			bLogin := s.login(t, "openid offline_access", "")
			revoke(bLogin.RefreshToken)

			sweep := func() server.SweepResult {
				t.Helper()
				res, err := s.App.sweeper.Sweep(ctx)
				require.NoError(t, err)
				require.True(t, res.Ran)
				return res
			}
			require.Equal(t, server.SweepResult{Ran: true}, sweep(), "nothing has expired yet")

			// Expired, but still within the verifier's clock-skew leeway: a
			// revoked jti must stay listed.
			s.Clock.Advance(time.Hour + clockSkew/2)
			require.Equal(t, server.SweepResult{Ran: true, IssuedAccessTokens: 4}, sweep())

			s.Clock.Advance(clockSkew)
			require.Equal(t, server.SweepResult{Ran: true, RevokedAccessTokens: 2}, sweep())

			// A week later the spent and revoked refresh tokens go; the
			// family's live token stays and works.
			s.Clock.Advance(settledRefreshRetention)
			require.Equal(t, server.SweepResult{Ran: true, RefreshTokens: 3}, sweep())
			status, next := s.refresh(t, a2.RefreshToken)
			require.Equal(t, http.StatusOK, status, next.Error)

			t.Run("one replica sweeps at a time", func(t *testing.T) {
				other, err := server.NewSweeper(server.SweeperConfig{
					Store: s.Store, Interval: sweepInterval, BatchSize: sweepBatch,
					SettledRetention: settledRefreshRetention, Leeway: clockSkew, Now: s.Clock.Now,
				})
				require.NoError(t, err)
				res, err := other.Sweep(ctx)
				require.NoError(t, err)
				require.False(t, res.Ran, "the first sweeper holds the lease")
				s.Clock.Advance(2*sweepInterval + time.Second)
				res, err = other.Sweep(ctx)
				require.NoError(t, err)
				require.True(t, res.Ran, "an abandoned lease is taken over")
			})
		})
	}
}
