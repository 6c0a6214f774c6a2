package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

func TestSweeperBoundsState(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(b.Open(t)))
			ctx := t.Context()
			revoke := func(token string) {
				resp := s.PostForm(t, "/oauth2/revoke", url.Values{"token": {token}}, app.DemoClientID, app.DemoClientSecret)
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			// Family A: three access tokens, two spent refresh tokens, the
			// last access token revoked. Family B: revoked with its one
			// access token.
			a := s.Login(t, "openid offline_access", "")
			_, a1 := s.Refresh(t, a.RefreshToken)
			_, a2 := s.Refresh(t, a1.RefreshToken)
			revoke(a2.AccessToken)
			bLogin := s.Login(t, "openid offline_access", "")
			revoke(bLogin.RefreshToken)

			sweep := func() server.SweepResult {
				t.Helper()
				res, err := s.App.Sweeper.Sweep(ctx)
				require.NoError(t, err)
				require.True(t, res.Ran)
				return res
			}
			// Nothing has expired yet; only the logins' failed-login record
			// goes, cleared by their success.
			require.Equal(t, server.SweepResult{Ran: true, LoginFailures: 1}, sweep())

			// Expired, but a verifier accepts a token until exp plus its
			// leeway, by a clock that may lag this one by the skew: the
			// issued and revoked jtis stay (a family revoked now must
			// still list them) until exp + leeway + skew.
			s.Clock.Advance(time.Hour + app.ClockSkew/2)
			require.Equal(t, server.SweepResult{Ran: true}, sweep())
			s.Clock.Advance(app.ClockSkew)
			require.Equal(t, server.SweepResult{Ran: true}, sweep())
			s.Clock.Advance(app.ClockSkew)
			require.Equal(t, server.SweepResult{Ran: true, IssuedAccessTokens: 4, RevokedAccessTokens: 2}, sweep())

			// A week later the revoked family's refresh token goes; family
			// A's spent tokens stay as long as the family can live (and a
			// week more), so that reuse of one is still detected; its live
			// token stays and works.
			s.Clock.Advance(app.SettledRefreshRetention)
			require.Equal(t, server.SweepResult{Ran: true, RefreshTokens: 1}, sweep())
			status, next := s.Refresh(t, a2.RefreshToken)
			require.Equal(t, http.StatusOK, status, next.Error)

			// A week after family A ended, all of it goes.
			s.Clock.Advance(s.Config.Tokens.RefreshTokenTTL)
			require.Equal(t, server.SweepResult{Ran: true, RefreshTokens: 4, IssuedAccessTokens: 1}, sweep())

			t.Run("one replica sweeps at a time", func(t *testing.T) {
				other, err := server.NewSweeper(server.SweeperConfig{
					Store: s.Store, Interval: app.SweepInterval, BatchSize: app.SweepBatch,
					SettledRetention: app.SettledRefreshRetention, Leeway: app.ClockSkew, ClockSkew: app.ClockSkew, Lockout: app.LockoutPolicy(s.Config.Login),
					Now: s.Clock.Now,
				})
				require.NoError(t, err)
				res, err := other.Sweep(ctx)
				require.NoError(t, err)
				require.False(t, res.Ran, "the first sweeper holds the lease")
				s.Clock.Advance(2*app.SweepInterval + time.Second)
				res, err = other.Sweep(ctx)
				require.NoError(t, err)
				require.True(t, res.Ran, "an abandoned lease is taken over")
			})
		})
	}
}

// TestSweeperForgetsLoginState: failed-login records, authorization codes
// and browser sessions go only once they protect nothing: a lock, and the
// count it keeps alive for a window after it, stays; a redeemed code stays
// long enough for its replay to revoke its tokens; a session stays until
// it expired. Every cutoff is behind the clock-skew leeway.
func TestSweeperForgetsLoginState(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(b.Open(t)))
			harness.AddCodeFlowClients(t, s)
			ctx := t.Context()
			policy := app.LockoutPolicy(s.Config.Login)
			type state struct{ loginFailures, codes, sessions int64 }
			sweep := func() state {
				t.Helper()
				res, err := s.App.Sweeper.Sweep(ctx)
				require.NoError(t, err)
				require.True(t, res.Ran)
				return state{res.LoginFailures, res.AuthorizationCodes, res.BrowserSessions}
			}
			password := func(pw string) int {
				t.Helper()
				status, _ := s.CallToken(t, url.Values{"grant_type": {"password"}, "username": {app.DemoCustomerEmail}, "password": {pw}})
				return status
			}
			// Signed in at the hosted page: a browser session, a code
			// redeemed for an access token, a code never redeemed.
			start := s.Clock.Now()
			br := harness.NewBrowser(t, s)
			redeemed := harness.CodeFor(t, s, br, nil)
			exchange := url.Values{"redirect_uri": {harness.WebRedirect}, "code_verifier": {harness.TestVerifier}}
			resp, tok := harness.ExchangeCode(t, s, redeemed, exchange, harness.WebClientID, harness.WebSecret)
			require.Equal(t, http.StatusOK, resp.StatusCode, tok.Error)
			harness.CodeFor(t, s, br, nil)
			// Then wrong passwords lock the customer's address.
			for range policy.Threshold {
				require.Equal(t, http.StatusBadRequest, password("wrong"))
			}
			lockedAt := s.Clock.Now()
			require.Equal(t, http.StatusBadRequest, password(app.DemoPassword), "locked")

			require.Equal(t, state{}, sweep(), "the lock is running, the codes and the session live")
			require.Equal(t, http.StatusBadRequest, password(app.DemoPassword), "the sweep did not lift the lock")

			// Expired, but within the leeway: every code stays.
			s.Clock.Advance(server.CodeTTL + app.ClockSkew/2)
			require.Equal(t, state{}, sweep())
			s.Clock.Advance(app.ClockSkew)
			require.Equal(t, state{codes: 1}, sweep(), "the code never redeemed goes")
			t.Run("a replay of the kept code still revokes its token", func(t *testing.T) {
				resp, again := harness.ExchangeCode(t, s, redeemed, exchange, harness.WebClientID, harness.WebSecret)
				require.Equal(t, http.StatusBadRequest, resp.StatusCode)
				require.Equal(t, "invalid_grant", again.Error)
				_, err := s.App.Authority.VerifyAccessToken(ctx, tok.AccessToken)
				require.ErrorIs(t, err, tokens.ErrInvalidToken)
			})

			// The lock ended, but less than a window (plus leeway) ago: the
			// record still counts, so the next lock would be longer.
			s.Clock.Advance(lockedAt.Add(policy.FirstLock + policy.Window).Sub(s.Clock.Now()))
			require.Equal(t, state{}, sweep())
			got, err := s.Store.GetLoginFailures(ctx, app.DemoShop, app.DemoCustomerEmail)
			require.NoError(t, err)
			require.Equal(t, 1, got.Lockouts)
			s.Clock.Advance(app.ClockSkew + 5*time.Second)
			require.Equal(t, state{loginFailures: 1}, sweep(), "forgotten: a window and the leeway after the lock")
			require.Equal(t, http.StatusOK, password(app.DemoPassword), "and the address counts afresh")

			// The session lasts its TTL; the redeemed code a week after it
			// expired. The password login's cleared record goes meanwhile.
			s.Clock.Advance(start.Add(s.Config.Login.SessionTTL + app.ClockSkew - time.Minute).Sub(s.Clock.Now()))
			require.Equal(t, state{loginFailures: 1}, sweep())
			s.Clock.Advance(2 * time.Minute)
			require.Equal(t, state{sessions: 1}, sweep(), "the session expired")
			s.Clock.Advance(start.Add(server.CodeTTL + app.SettledRefreshRetention + app.ClockSkew - time.Minute).Sub(s.Clock.Now()))
			require.Equal(t, state{}, sweep())
			s.Clock.Advance(2 * time.Minute)
			require.Equal(t, state{codes: 1}, sweep(), "the redeemed code, a week after it expired")
		})
	}
}

// TestSweeperKeepsSpentTokensWithIdleTTL: with SHOPAUTH_REFRESH_IDLE_TTL
// set, a spent token's own expiry is only its idle deadline, while a thief
// who refreshes within the idle window keeps the family alive. The sweeper
// must keep the spent token's row (until the family ended plus the
// retention), so that when the victim presents it, reuse is detected and
// the thief's token stops working. Before, the sweep deleted it at its
// idle deadline and the victim got a plain invalid_grant while the thief
// carried on (issue 20 item 2).
func TestSweeperKeepsSpentTokensWithIdleTTL(t *testing.T) {
	const idle = time.Hour
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(b.Open(t)),
				harness.WithConfig(func(c *config.Config) { c.Tokens.RefreshIdleTTL = idle }))
			victim := s.Login(t, "openid offline_access", "")
			// The thief took the victim's token and refreshes within the
			// idle window, again and again.
			status, thief := s.Refresh(t, victim.RefreshToken)
			require.Equal(t, http.StatusOK, status, thief.Error)
			for range 3 {
				s.Clock.Advance(idle - 10*time.Minute)
				status, thief = s.Refresh(t, thief.RefreshToken)
				require.Equal(t, http.StatusOK, status, thief.Error)
			}
			res, err := s.App.Sweeper.Sweep(t.Context())
			require.NoError(t, err)
			require.True(t, res.Ran)

			status, body := s.Refresh(t, victim.RefreshToken)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "invalid_grant", body.Error)
			require.True(t, strings.Contains(s.Logs.String(), "refresh token reuse"), "reuse was detected, not an unknown token")
			status, body = s.Refresh(t, thief.RefreshToken)
			require.Equal(t, http.StatusBadRequest, status, "the family is revoked: the thief's token is dead")
			require.Equal(t, "invalid_grant", body.Error)
			s.RequireActive(t, thief.AccessToken, false)
		})
	}
}
