package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// withKeys runs fn with the key manager over a migrated store, as `serve`
// would build it (so a wrong encryption key fails here as it does there).
func (c *cli) withKeys(ctx context.Context, fn func(ctx context.Context, km *keys.Manager) error) error {
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	logger := c.logger(cfg)
	store, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	km, _, err := app.OpenKeys(ctx, cfg, store, logger)
	if err != nil {
		return err
	}
	return fn(ctx, km)
}

func (c *cli) keysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Inspect and rotate signing keys"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List signing keys with their state and dates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withKeys(cmd.Context(), func(_ context.Context, km *keys.Manager) error {
				return c.printKeys(km)
			})
		},
	}

	var alg string
	var immediate bool
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Publish the next signing key now; it signs after SHOPAUTH_KEY_PUBLISH_AHEAD (or at once with --now)",
		Long: `Publish the next signing key now. It signs after SHOPAUTH_KEY_PUBLISH_AHEAD, when
every resource server that honours the JWKS Cache-Control has it. With --now it
signs at once (for a compromised key; follow with "keys retire KID"): resource
servers learn it on their next JWKS fetch, replicas on their next reload or
the first token they meet signed by it. --alg ES256 or --alg EdDSA makes that
algorithm's first key, for clients registered with --access-token-alg.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withKeys(cmd.Context(), func(ctx context.Context, km *keys.Manager) error {
				k, err := km.Rotate(ctx, alg, immediate)
				if errors.Is(err, keys.ErrNextKeyExists) {
					return fmt.Errorf("%w (use --now to replace the current key at once)", err)
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.stdout, "key %s (%s) published, signs from %s\n", k.KID, k.Algorithm, k.NotBefore.UTC().Format(time.RFC3339))
				return err
			})
		},
	}
	rotate.Flags().BoolVar(&immediate, "now", false, "the new key signs at once (compromised key)")
	rotate.Flags().StringVar(&alg, "alg", keys.DefaultAlgorithm, "algorithm of the new key: RS256, ES256 or EdDSA")

	retire := &cobra.Command{
		Use:   "retire KID",
		Short: "Remove a key from signing and from the JWKS at once (a leaked key)",
		Long: `Remove a key from signing and from the JWKS at once: tokens it signed stop
verifying. If it was the signing key, the previous key of its algorithm signs
again while still published; otherwise a new key signs at once.
A kid may start with "-": write "shopauth keys retire -- KID".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withKeys(cmd.Context(), func(ctx context.Context, km *keys.Manager) error {
				signer, err := km.Retire(ctx, args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.stdout, "key %s retired; %s signs now\n", args[0], signer)
				return err
			})
		},
	}

	rekey := &cobra.Command{
		Use:   "rekey",
		Short: "Re-encrypt every private key under SHOPAUTH_KEY_ENCRYPTION_KEY (the old key in SHOPAUTH_KEY_ENCRYPTION_KEY_OLD)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Keys.PreviousEncryptionKey == "" {
				return errors.New("SHOPAUTH_KEY_ENCRYPTION_KEY_OLD is required: the key the private keys are encrypted under now")
			}
			oldKEK, err := keys.ParseKEK(cfg.Keys.PreviousEncryptionKey)
			if err != nil {
				return fmt.Errorf("SHOPAUTH_KEY_ENCRYPTION_KEY_OLD: %w", err)
			}
			logger := c.logger(cfg)
			store, err := app.OpenStore(cmd.Context(), cfg, logger)
			if err != nil {
				return err
			}
			defer store.Close()
			newKEK, err := app.KeyEncryptionKey(cmd.Context(), cfg, store, logger)
			if err != nil {
				return err
			}
			if string(newKEK) == string(oldKEK) {
				return errors.New("SHOPAUTH_KEY_ENCRYPTION_KEY and SHOPAUTH_KEY_ENCRYPTION_KEY_OLD are the same key")
			}
			n, same, err := keys.Rekey(cmd.Context(), store, oldKEK, newKEK)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.stdout, "re-encrypted %d key(s); %d already under the new key\n", n, same)
			return err
		},
	}

	var pemOut bool
	var kid string
	export := &cobra.Command{
		Use:   "export --pem",
		Short: "Print the RS256 signing key's public part (or --kid's) as a PEM PUBLIC KEY",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !pemOut {
				return errors.New("--pem is required (the JWKS is served at /.well-known/jwks.json)")
			}
			return c.withKeys(cmd.Context(), func(_ context.Context, km *keys.Manager) error {
				if kid == "" {
					kid = km.CurrentKID()
				}
				b, err := km.PublicKeyPEMOf(kid)
				if err != nil {
					return err
				}
				_, err = c.stdout.Write(b)
				return err
			})
		},
	}
	export.Flags().BoolVar(&pemOut, "pem", false, "PEM output (PKIX PUBLIC KEY)")
	export.Flags().StringVar(&kid, "kid", "", "a published key (default: the RS256 signing key)")

	cmd.AddCommand(list, rotate, retire, rekey, export)
	return cmd
}

func (c *cli) printKeys(km *keys.Manager) error {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tALG\tSTATE\tPUBLISHED\tCREATED\tSIGNS FROM\tRETIRES\tLEAVES JWKS")
	for _, k := range km.List() {
		fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\n", k.KID, k.Algorithm, k.State, k.Published,
			rfc3339(&k.CreatedAt), rfc3339(&k.NotBefore), rfc3339(k.RetireAfter), rfc3339(k.RemoveAfter))
	}
	return w.Flush()
}

func rfc3339(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// checkClientAlgs accepts the algorithms keys are made for ("" is the
// default, RS256).
func checkClientAlgs(algs ...string) error {
	for _, alg := range algs {
		if alg != "" && !keys.IsAlgorithm(alg) {
			return fmt.Errorf("unsupported algorithm %q (supported: %s)", alg, strings.Join(keys.Algorithms(), ", "))
		}
	}
	return nil
}

// checkSigningKeys refuses a client whose algorithm has no signing key
// yet: its tokens could not be signed.
func (c *cli) checkSigningKeys(ctx context.Context, store *sqlstore.Store, algs ...string) error {
	need := slices.DeleteFunc(slices.Clone(algs), func(alg string) bool { return alg == "" || alg == keys.DefaultAlgorithm })
	if len(need) == 0 {
		return nil
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	km, _, err := app.OpenKeys(ctx, cfg, store, c.logger(cfg))
	if err != nil {
		return err
	}
	for _, alg := range need {
		if !slices.Contains(km.SigningAlgorithms(), alg) {
			return fmt.Errorf("no %s key signs yet: run `shopauth keys rotate --alg %s` and add the client once the key signs (see `shopauth keys list`)", alg, alg)
		}
	}
	return nil
}
