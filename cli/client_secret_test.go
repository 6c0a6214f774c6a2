package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// failingWriter fails every write, as stdout redirected to /dev/full.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func run(t *testing.T, env []string, stdin string, stdout *bytes.Buffer, args ...string) (int, string) {
	t.Helper()
	var errOut bytes.Buffer
	var out interface{ Write([]byte) (int, error) } = failingWriter{}
	if stdout != nil {
		out = stdout
	}
	code := Run(context.Background(), args, strings.NewReader(stdin), out, &errOut, env)
	return code, errOut.String()
}

// TestClientAddDoesNotBurnAnID: when the generated secret cannot be
// printed, the client is deleted again, so the id can be added anew; the
// other secret modes and rotate-secret/delete work on the same database.
//
// Mutant (cli/cmd_admin.go, printCreatedClient): return the print error
// without deleting the client: the second add meets "exists already".
func TestClientAddDoesNotBurnAnID(t *testing.T) {
	env := []string{"SHOPAUTH_DATABASE_URL=" + sqlstoretest.SQLiteDatabaseURL(t), "SHOPAUTH_LOG_LEVEL=error"}
	add := []string{"client", "add", "--id", "erp", "--grants", "client_credentials", "--scopes", "orders:read"}

	code, errOut := run(t, env, "", nil, add...)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "client erp was not added")

	var out bytes.Buffer
	code, errOut = run(t, env, "", &out, "client", "list")
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out.String(), "erp")

	out.Reset()
	code, errOut = run(t, env, "", &out, add...)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `client_secret: [A-Za-z0-9_-]{43}\n`, out.String())
	first := out.String()

	out.Reset()
	code, errOut = run(t, env, "", &out, "client", "rotate-secret", "--id", "erp")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `new client_secret: [A-Za-z0-9_-]{43}\n`, out.String())
	require.NotContains(t, first, strings.TrimSpace(strings.SplitN(strings.SplitN(out.String(), ": ", 3)[2], "\n", 2)[0]))

	code, errOut = run(t, env, "", &out, "client", "rotate-secret", "--id", "nobody")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "client not found")

	// A public client has no secret to print: nothing to undo.
	code, errOut = run(t, env, "", nil, "client", "add", "--id", "spa", "--public", "--grants", "password", "--scopes", "openid")
	require.Equal(t, 1, code)
	out.Reset()
	code, errOut = run(t, env, "", &out, "client", "rotate-secret", "--id", "spa")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "public client")

	out.Reset()
	code, errOut = run(t, env, "", &out, "client", "delete", "--id", "erp")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "client erp deleted\n", out.String())
	code, errOut = run(t, env, "", &out, "client", "delete", "--id", "erp")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "client not found")
}
