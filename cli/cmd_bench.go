package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/bench"
	"github.com/shopauth/shopauth/config"
)

func (c *cli) benchCommand() *cobra.Command {
	o := bench.Settings{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency against this machine's own limits",
		Long: `bench starts shopauth in-process on a temporary SQLite database (or
drives a running server with --target), seeds customers and a client, and
drives each scenario with --concurrency workers for --duration. In the same
run it measures the ceilings: argon2id verifications/s at the configured
parameters, RS256 signatures/s with the signing key, and a bare net/http
handler serving the same JWKS bytes. Each scenario is shown as a fraction
of its ceiling.

With --target, the bench adds its customers (bench-NNNN@bench.invalid) and
client (` + bench.ClientID + `) to the database the configuration names, which
must be the target's; use a staging server.

Peer mode (--target with --client-id) drives any OAuth2/OIDC server from
outside, shopauth or another, the same way: it reads the discovery
document, signs in worker i as --users with i, and runs password, refresh
and jwks (no ceilings, nothing seeded). docs/figures.md has the commands.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.bench(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Target, "target", "", "base URL of a running shopauth (default: start one in-process)")
	f.DurationVar(&o.Duration, "duration", 20*time.Second, "how long each scenario and ceiling runs")
	f.DurationVar(&o.Warmup, "warmup", 2*time.Second, "how long each scenario and ceiling runs, unrecorded, before --duration")
	f.IntVar(&o.Concurrency, "concurrency", 32, "concurrent workers")
	f.StringSliceVar(&o.Scenarios, "scenario", nil, "scenarios to run (default all): "+strings.Join(bench.ScenarioNames(), ", "))
	f.StringVar(&o.JSONFile, "json", "", "also write the results as JSON to this file")
	f.StringVar(&o.ClientID, "client-id", "", "peer mode: drive any OIDC server at --target as this confidential client (client_secret_basic); no database, no ceilings")
	f.StringVar(&o.ClientSecret, "client-secret", "", "peer mode: the client's secret")
	f.StringVar(&o.Users, "users", "bench%d@example.com", "peer mode: the users' names, a fmt pattern of the worker's number (one user per worker)")
	f.StringVar(&o.Password, "password", "", "peer mode: the users' password")
	f.StringVar(&o.Scope, "scope", "offline_access", `scope the sign-ins ask for ("openid offline_access": an ID token with every refresh)`)
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return cmd
}

// bench checks the flags before the configuration, then hands over to
// package bench.
func (c *cli) bench(ctx context.Context, o bench.Settings) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.Peer() {
		// Another server: this one's configuration plays no part.
		return bench.Measure(ctx, config.Config{}, o, c.stdout, c.stderr)
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	if o.Target == "" {
		// The server runs in this process: limit it as serve would.
		setMemoryLimit(cfg, c.logger(cfg))
	}
	return bench.Measure(ctx, cfg, o, c.stdout, c.stderr)
}
