package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// refreshRacers is how many refreshes race with one token.
const refreshRacers = racer.N

type refreshResult struct {
	status int
	body   harness.TokenBody
}

// raceRefresh presents refreshToken refreshRacers times at once, request i
// going to servers[i % len(servers)].
func raceRefresh(t *testing.T, refreshToken string, servers ...*harness.TestServer) []refreshResult {
	t.Helper()
	results := make([]refreshResult, refreshRacers)
	racer.Run(refreshRacers, func(i int) error {
		status, body := servers[i%len(servers)].Refresh(t, refreshToken)
		results[i] = refreshResult{status, body}
		return nil
	})
	return results
}

// requireOneChain checks that every racer got the same successor and that
// it is the family's only live refresh token: it rotates once more, and the
// original is spent.
func requireOneChain(t *testing.T, s *harness.TestServer, original string, results []refreshResult) {
	t.Helper()
	successor := ""
	accessTokens := map[string]bool{}
	for i, r := range results {
		require.Equal(t, http.StatusOK, r.status, "racer %d: %s", i, r.body.Error)
		if successor == "" {
			successor = r.body.RefreshToken
		}
		require.Equal(t, successor, r.body.RefreshToken, "racer %d got another refresh token", i)
		accessTokens[r.body.AccessToken] = true
	}
	require.Len(t, accessTokens, refreshRacers, "each racer gets its own access token")
	s.RequireActive(t, original, false)
	s.RequireActive(t, successor, true)
	status, next := s.Refresh(t, successor)
	require.Equal(t, http.StatusOK, status, next.Error)
	require.NotEqual(t, successor, next.RefreshToken)
}

func TestRefreshConcurrentOneToken(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(b.Open(t)))
			login := s.Login(t, "openid offline_access", "")
			requireOneChain(t, s, login.RefreshToken, raceRefresh(t, login.RefreshToken, s))
		})
	}
}

// openSharedStore opens a second, independent store (its own connection
// pool, as another process would have) on databaseURL.
func openSharedStore(t *testing.T, databaseURL string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, databaseURL, sqlstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	_, err = s.Migrate(ctx)
	require.NoError(t, err)
	return s
}

func TestRefreshConcurrentTwoInstances(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t testing.TB) string
	}{
		{"mysql", sqlstoretest.MySQLDatabaseURL},
		{"sqlite", sqlstoretest.SQLiteDatabaseURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url(t)
			sameIssuer := harness.WithConfig(func(c *config.Config) { c.Issuer = "https://auth.shop.test" })
			a := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(openSharedStore(t, url)), sameIssuer)
			b := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(openSharedStore(t, url)), sameIssuer)
			login := a.Login(t, "openid offline_access", "")
			results := raceRefresh(t, login.RefreshToken, a, b)
			requireOneChain(t, b, login.RefreshToken, results)
		})
	}
}

func TestRefreshGraceZeroTurnsRetryOff(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(b.Open(t)), harness.WithConfig(func(c *config.Config) { c.Tokens.RefreshReuseGrace = 0 }))

			t.Run("concurrent: exactly one success", func(t *testing.T) {
				login := s.Login(t, "openid offline_access", "")
				wins := 0
				for i, r := range raceRefresh(t, login.RefreshToken, s) {
					if r.status == http.StatusOK {
						wins++
						continue
					}
					require.Equal(t, http.StatusBadRequest, r.status, "racer %d", i)
					require.Equal(t, "invalid_grant", r.body.Error, "racer %d", i)
				}
				require.Equal(t, 1, wins)
			})

			t.Run("an immediate retry is reuse", func(t *testing.T) {
				login := s.Login(t, "openid offline_access", "")
				status, next := s.Refresh(t, login.RefreshToken)
				require.Equal(t, http.StatusOK, status)
				status, retry := s.Refresh(t, login.RefreshToken)
				require.Equal(t, http.StatusBadRequest, status)
				require.Equal(t, "invalid_grant", retry.Error)
				status, _ = s.Refresh(t, next.RefreshToken)
				require.Equal(t, http.StatusBadRequest, status, "reuse revoked the family")
			})
		})
	}
}

func TestRefreshRetryWithinGrace(t *testing.T) {
	s := harness.NewTestServer(t, withoutRateLimit())
	login := s.Login(t, "openid offline_access", "")
	status, first := s.Refresh(t, login.RefreshToken)
	require.Equal(t, http.StatusOK, status)

	s.Clock.Advance(s.Config.Tokens.RefreshReuseGrace - time.Second)
	status, retry := s.Refresh(t, login.RefreshToken)
	require.Equal(t, http.StatusOK, status, retry.Error)
	require.Equal(t, first.RefreshToken, retry.RefreshToken, "a retry gets the same successor")
	require.NotEqual(t, first.AccessToken, retry.AccessToken)
	s.RequireActive(t, first.AccessToken, true)
	s.RequireActive(t, retry.AccessToken, true)
	require.NotContains(t, s.Logs.String(), "refresh token reuse")

	// The successor goes on rotating normally.
	status, next := s.Refresh(t, first.RefreshToken)
	require.Equal(t, http.StatusOK, status)
	s.RequireActive(t, next.RefreshToken, true)
}

func TestRefreshReuseAfterGraceRevokesFamily(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := harness.NewTestServer(t, withoutRateLimit(), harness.WithStore(b.Open(t)))
			login := s.Login(t, "openid offline_access", "")
			status, live := s.Refresh(t, login.RefreshToken)
			require.Equal(t, http.StatusOK, status)

			s.Clock.Advance(s.Config.Tokens.RefreshReuseGrace + time.Second)
			status, reuse := s.Refresh(t, login.RefreshToken)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "invalid_grant", reuse.Error)

			status, after := s.Refresh(t, live.RefreshToken)
			require.Equal(t, http.StatusBadRequest, status, "the live successor died with its family")
			require.Equal(t, "invalid_grant", after.Error)
			for _, token := range []string{login.AccessToken, live.AccessToken, live.RefreshToken} {
				s.RequireActive(t, token, false)
			}
			var warned string
			for _, line := range strings.Split(s.Logs.String(), "\n") {
				if strings.Contains(line, "refresh token reuse") {
					warned = line
				}
			}
			require.Contains(t, warned, `"level":"WARN"`)
			require.Contains(t, warned, `"client_id":"`+app.DemoClientID+`"`)
			require.Contains(t, warned, `"family_id":"`)
			require.NotContains(t, warned, login.RefreshToken)
		})
	}
}

func TestRefreshFamilyLifetime(t *testing.T) {
	t.Run("idle TTL", func(t *testing.T) {
		s := harness.NewTestServer(t, withoutRateLimit(), harness.WithConfig(func(c *config.Config) { c.Tokens.RefreshIdleTTL = time.Hour }))
		login := s.Login(t, "openid offline_access", "")
		s.Clock.Advance(59 * time.Minute)
		status, next := s.Refresh(t, login.RefreshToken)
		require.Equal(t, http.StatusOK, status, "used within the idle TTL")
		s.Clock.Advance(61 * time.Minute)
		s.RequireActive(t, next.RefreshToken, false)
		status, late := s.Refresh(t, next.RefreshToken)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", late.Error)
	})

	t.Run("absolute end at the refresh TTL, however often it rotates", func(t *testing.T) {
		s := harness.NewTestServer(t, withoutRateLimit(), harness.WithConfig(func(c *config.Config) { c.Tokens.RefreshTokenTTL = 3 * time.Hour }))
		token := s.Login(t, "openid offline_access", "").RefreshToken
		for range 3 {
			s.Clock.Advance(55 * time.Minute)
			status, next := s.Refresh(t, token)
			require.Equal(t, http.StatusOK, status, next.Error)
			token = next.RefreshToken
		}
		s.Clock.Advance(16 * time.Minute) // 3h01m after the login, 16 minutes after the last rotation
		status, late := s.Refresh(t, token)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "invalid_grant", late.Error)
	})
}

func TestRefreshOtherClientsToken(t *testing.T) {
	s := harness.NewTestServer(t, withoutRateLimit())
	harness.AddLifecycleClients(t, s)
	theirs := s.LoginAs(t, harness.OtherClientID, harness.OtherClientSecret, "openid offline_access")
	status, body := s.Refresh(t, theirs.RefreshToken)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_grant", body.Error)
	require.Equal(t, true, s.Introspect(t, theirs.RefreshToken, harness.OtherClientID, harness.OtherClientSecret)["active"], "not spent by a stranger")
}
