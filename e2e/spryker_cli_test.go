package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// shopauthCLI runs command lines against one SQLite database file.
type shopauthCLI struct{ *harness.CLI }

func newShopauthCLI(t *testing.T) *shopauthCLI { return &shopauthCLI{harness.NewCLI(t)} }

func (c *shopauthCLI) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	code, stdout, stderr = c.Run("", args...)
	return stdout, stderr, code
}

func (c *shopauthCLI) store(t *testing.T) *sqlstore.Store { return c.Store(t) }

// TestClientAddPresetSpryker: `client add --preset spryker` makes the client
// the Spryker dialect needs, with the same settings as the demo's
// spryker-glue; explicit flags still win, and --token-profile spryker is
// stored.
func TestClientAddPresetSpryker(t *testing.T) {
	cli := newShopauthCLI(t)
	_, stderr, code := cli.run(t, "shop", "add", "--key", "acme12aa", "--name", "ACME")
	require.Zero(t, code, stderr)
	_, stderr, code = cli.run(t, "client", "add", "--id", "glue", "--public", "--first-party", "--shop", "acme12aa", "--preset", "spryker")
	require.Zero(t, code, stderr)
	_, stderr, code = cli.run(t, "client", "add", "--id", "glue-backend", "--public", "--shop", "acme12aa",
		"--preset", "spryker", "--token-profile", "spryker", "--access-ttl", "1h")
	require.Zero(t, code, stderr)
	_, stderr, code = cli.run(t, "client", "add", "--id", "bad", "--public", "--preset", "spryker", "--token-profile", "jwt")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `--token-profile "jwt" is unknown`)

	ctx := context.Background()
	store := cli.store(t)
	glue, err := store.GetClient(ctx, "glue")
	require.NoError(t, err)
	require.Equal(t, app.SprykerAccessTTL, glue.AccessTokenTTL)
	require.EqualValues(t, 28800, glue.AccessTokenTTL.Seconds())
	require.EqualValues(t, 2628000, glue.RefreshTokenTTL.Seconds())
	require.Equal(t, []string{"password", "refresh_token"}, glue.GrantTypes)
	require.Equal(t, []string{"customer", "offline_access"}, glue.Scopes)
	require.Empty(t, glue.TokenProfile)

	backend, err := store.GetClient(ctx, "glue-backend")
	require.NoError(t, err)
	require.Equal(t, tokens.ProfileSpryker, backend.TokenProfile)
	require.EqualValues(t, 3600, backend.AccessTokenTTL.Seconds(), "an explicit flag wins over the preset")
	require.EqualValues(t, 2628000, backend.RefreshTokenTTL.Seconds())

	// The demo's spryker-glue is the preset's client.
	demo := harness.NewTestServer(t)
	demoGlue, err := demo.Store.GetClient(ctx, config.Defaults().Adapters.SprykerClientID)
	require.NoError(t, err)
	glue.ID, glue.CreatedAt = demoGlue.ID, demoGlue.CreatedAt
	require.Equal(t, glue, demoGlue)
}
