package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/config"
)

// version is set at build time with
// -ldflags "-X github.com/shopauth/shopauth/cli.version=…".
var version = "dev"

// Run executes one command line and returns the exit status. Errors are one
// line on stderr.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "shopauth: "+oneLine(err.Error()))
		return 1
	}
	return 0
}

// oneLine folds a multi-line error (config validation joins several) into
// one line, as the CLI contract promises.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// cli holds what every command shares: its streams, environment and the
// --config flag.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	configFile     string
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "shopauth",
		Short:         "OAuth 2.0 / OpenID Connect authorization server for online shops",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().StringVar(&c.configFile, "config", "", "YAML configuration file (SHOPAUTH_* variables override it)")
	root.AddCommand(
		c.serveCommand(),
		c.migrateCommand(),
		c.shopCommand(),
		c.customerCommand(),
		c.clientCommand(),
		c.keysCommand(),
		c.benchCommand(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(c.stdout, "shopauth "+version)
				return err
			},
		},
	)
	return root
}

// loadConfig reads the configuration and stops on any invalid setting,
// naming all of them.
func (c *cli) loadConfig() (config.Config, error) {
	cfg, err := config.Load(c.configFile, c.environ)
	if err != nil {
		return config.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

func (c *cli) logger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(c.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(c.stderr, opts))
}

// readSecret reads one line from stdin: passwords and secrets never travel
// as flags, which end up in shell history and process lists.
func (c *cli) readSecret(what string) (string, error) {
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s from stdin: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no %s on stdin", what)
	}
	return line, nil
}
