package harness

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopauth/shopauth/cli"
)

// CLI runs shopauth command lines in-process (cli.Run) with one
// environment.
type CLI struct {
	Environ []string
}

// NewCLI is a CLI against one fresh SQLite database.
func NewCLI(t testing.TB) *CLI {
	db := filepath.Join(t.TempDir(), "cli.db")
	return &CLI{Environ: []string{"SHOPAUTH_DATABASE_URL=sqlite://" + db, "SHOPAUTH_LOG_LEVEL=error"}}
}

// Run runs one command line with stdin and returns its exit status and
// output.
func (e *CLI) Run(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb, e.Environ)
	return code, out.String(), errb.String()
}
