package harness

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/cli"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// CLI runs shopauth command lines in-process (cli.Run) with one
// environment.
type CLI struct {
	// DBURL is the database the commands use (SHOPAUTH_DATABASE_URL).
	DBURL   string
	Environ []string
}

// NewCLI is a CLI against one fresh SQLite database file.
func NewCLI(t testing.TB) *CLI {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "shopauth.db")
	return &CLI{DBURL: dbURL, Environ: []string{"SHOPAUTH_DATABASE_URL=" + dbURL, "SHOPAUTH_LOG_LEVEL=error"}}
}

// Run runs one command line with stdin and returns its exit status and
// output.
func (e *CLI) Run(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb, e.Environ)
	return code, out.String(), errb.String()
}

// Store opens the commands' database, to check what they wrote; it is
// closed when the test ends.
func (e *CLI) Store(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), e.DBURL, sqlstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}
