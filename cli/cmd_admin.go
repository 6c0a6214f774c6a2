package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// withStore runs fn with a migrated store opened from the configuration.
func (c *cli) withStore(ctx context.Context, fn func(ctx context.Context, store *sqlstore.Store) error) error {
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg, c.logger(cfg))
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(ctx, store)
}

// withAdmin runs fn with the administrative core (server/admin) over a
// migrated store: the same rules and audit trail as the admin API, with
// the actor "cli". The audit trail is the record; nothing is logged.
func (c *cli) withAdmin(ctx context.Context, fn func(ctx context.Context, svc *admin.Service, store *sqlstore.Store) error) error {
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	hasher, err := customers.NewHasher(app.Argon2Params(cfg.Login))
	if err != nil {
		return err
	}
	return c.withStore(ctx, func(ctx context.Context, store *sqlstore.Store) error {
		svc, err := admin.New(admin.Config{
			Store: store, Hasher: hasher, Logger: slog.New(slog.DiscardHandler),
			SigningAlgorithms: func(ctx context.Context) ([]string, error) {
				km, _, err := app.OpenKeys(ctx, cfg, store, c.logger(cfg))
				if err != nil {
					return nil, err
				}
				return km.SigningAlgorithms(), nil
			},
		})
		if err != nil {
			return err
		}
		return cliError(fn(ctx, svc, store))
	})
}

// flagOf names the flag of a core field.
var flagOf = map[string]string{
	"redirect_uris": "redirect-uri", "post_logout_redirect_uris": "post-logout-redirect-uri", "cors_origins": "cors-origin",
	"access_token_ttl": "access-ttl", "refresh_token_ttl": "refresh-ttl", "token_profile": "token-profile",
	"access_token_alg": "access-token-alg", "id_token_alg": "id-token-alg", "password_hash": "password-hash",
	"customer_reference": "reference", "company_user_id": "company-user-id",
}

// cliError words a core refusal of a field in the CLI's terms (--flag).
func cliError(err error) error {
	var e *admin.Error
	if !errors.As(err, &e) || e.Kind != admin.Invalid || e.Field == "" {
		return err
	}
	flag := e.Field
	if f, ok := flagOf[flag]; ok {
		flag = f
	}
	return fmt.Errorf("--%s %s", flag, e.Message)
}

func (c *cli) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			store, err := sqlstore.Open(cmd.Context(), cfg.Database.URL, sqlstore.Options{Logger: c.logger(cfg)})
			if err != nil {
				return err
			}
			defer store.Close()
			n, err := store.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.stdout, "applied %d migration(s)\n", n)
			return err
		},
	}
}

func (c *cli) shopCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "shop", Short: "Manage shops (tenants)"}
	var in admin.ShopInput
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a shop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store) error {
				shop, err := svc.CreateShop(ctx, admin.CLI, in)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.stdout, "shop %s added\n", shop.Key)
				return err
			})
		},
	}
	add.Flags().StringVar(&in.Key, "key", "", "shop key, as in /api/v1/{shopKey}/ (required)")
	add.Flags().StringVar(&in.Name, "name", "", "display name (required)")
	add.Flags().StringVar(&in.Locale, "locale", "es", "locale of messages (es, en)")
	add.Flags().StringSliceVar(&in.CORSOrigins, "cors-origin", nil, "browser origin allowed to call the shop's login API (repeatable)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List shops",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store) error {
				shops, err := svc.ListShops(ctx, admin.CLI)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "KEY\tNAME\tLOCALE\tACTIVE\tCORS ORIGINS")
				for _, s := range shops {
					fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\n", s.Key, s.Name, s.Locale, s.Active, strings.Join(s.CORSOrigins, ","))
				}
				return w.Flush()
			})
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}

func (c *cli) customerCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "customer", Short: "Manage a shop's customers"}
	var (
		in            admin.CustomerInput
		passwordStdin bool
	)
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a customer (password on stdin with --password-stdin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.Shop == "" || in.Email == "" || in.Name == "" {
				return errors.New("--shop, --email and --name are required")
			}
			if passwordStdin == (in.PasswordHash != "") {
				return errors.New("give exactly one of --password-stdin and --password-hash")
			}
			if passwordStdin {
				pw, err := c.readSecret("password")
				if err != nil {
					return err
				}
				in.Password = pw
			}
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store) error {
				cust, err := svc.CreateCustomer(ctx, admin.CLI, in)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.stdout, "customer %d added to shop %s\n", cust.ID, cust.ShopKey)
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&in.Shop, "shop", "", "shop key (required)")
	f.StringVar(&in.Email, "email", "", "e-mail address, the login name (required)")
	f.StringVar(&in.Name, "name", "", "display name (required)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	f.StringVar(&in.PasswordHash, "password-hash", "", "an existing hash (argon2id PHC or bcrypt) imported as is")
	f.BoolVar(&in.Verified, "verified", false, "the e-mail address is verified")
	f.StringVar(&in.CompanyUserID, "company-user-id", "", "B2B company user UUID")
	f.StringVar(&in.CustomerReference, "reference", "", "customer reference (e.g. DE--21)")
	f.Uint64Var(&in.ID, "id", 0, "customer id (default: next free)")
	f.Uint64Var(&in.AccountID, "account-id", 0, "account id of the legacy shop")

	cmd.AddCommand(add, c.customerImportCommand())
	cmd.AddCommand(c.customerAccountCommands()...)
	return cmd
}

func (c *cli) clientCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Manage OAuth clients"}
	var (
		in          admin.ClientInput
		secretStdin bool
		scopes      string
	)
	add := &cobra.Command{
		Use:   "add",
		Short: "Register a client; without --secret-stdin or --public a secret is generated and printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.ID == "" {
				return errors.New("--id is required")
			}
			if secretStdin && in.Public {
				return errors.New("--secret-stdin and --public exclude each other")
			}
			in.Scopes = strings.Fields(scopes)
			given := map[string]string{"access_token_ttl": "access-ttl", "refresh_token_ttl": "refresh-ttl", "grant_types": "grants", "scopes": "scopes"}
			if err := cliError(admin.ClientPreset(in.Preset, &in.ClientSettings, func(field string) bool {
				return cmd.Flags().Changed(given[field])
			})); err != nil {
				return err
			}
			if secretStdin {
				secret, err := c.readSecret("client secret")
				if err != nil {
					return err
				}
				in.Secret = secret
			}
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store) error {
				created, err := svc.CreateClient(ctx, admin.CLI, in)
				if err != nil {
					return err
				}
				return c.printCreatedClient(ctx, svc, created)
			})
		},
	}
	f := add.Flags()
	f.StringVar(&in.ID, "id", "", "client id (required)")
	f.BoolVar(&secretStdin, "secret-stdin", false, "read the client secret from stdin")
	f.BoolVar(&in.Public, "public", false, "a public client (no secret: apps, browsers)")
	f.StringVar(&in.Shop, "shop", "", "the shop whose customers may sign in (empty: the request names the shop)")
	f.StringVar(&in.Preset, "preset", "", "defaults of a known integration: spryker (access 28800 s, refresh 2628000 s)")
	f.StringSliceVar(&in.GrantTypes, "grants", nil, "allowed grants, comma-separated: authorization_code,refresh_token,client_credentials,password")
	f.StringVar(&scopes, "scopes", "", `allowed scopes, space-separated ("openid profile email offline_access"; "admin" for an admin API client)`)
	f.StringSliceVar(&in.Audiences, "audience", nil, "aud of access tokens (repeatable; default: the client id)")
	f.DurationVar(&in.AccessTokenTTL, "access-ttl", 0, "access-token lifetime (default: SHOPAUTH_ACCESS_TOKEN_TTL)")
	f.DurationVar(&in.RefreshTokenTTL, "refresh-ttl", 0, "refresh-token family lifetime (default: SHOPAUTH_REFRESH_TOKEN_TTL)")
	f.StringSliceVar(&in.CORSOrigins, "cors-origin", nil, "browser origin allowed to call the token endpoint (repeatable)")
	f.StringVar(&in.TokenProfile, "token-profile", "", "access-token claims: rfc9068 (default) or spryker")
	f.StringVar(&in.AccessTokenAlg, "access-token-alg", "", "access-token signature algorithm: RS256 (default), ES256 or EdDSA")
	f.StringVar(&in.IDTokenAlg, "id-token-alg", "", "ID-token signature algorithm: RS256 (default), ES256 or EdDSA")
	f.BoolVar(&in.FirstParty, "first-party", false, "a client of the shop itself")
	f.StringSliceVar(&in.RedirectURIs, "redirect-uri", nil, "registered redirect URI (repeatable)")
	f.StringSliceVar(&in.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "registered post-logout redirect URI (repeatable)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store) error {
				list, err := svc.ListClients(ctx, admin.CLI)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tTYPE\tSHOP\tGRANTS\tSCOPES\tACCESS TTL\tREFRESH TTL")
				for _, cl := range list {
					kind := "confidential"
					if cl.Public {
						kind = "public"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cl.ID, kind, orDash(cl.ShopKey),
						strings.Join(cl.GrantTypes, ","), strings.Join(cl.Scopes, " "), ttl(cl.AccessTokenTTL), ttl(cl.RefreshTokenTTL))
				}
				return w.Flush()
			})
		},
	}
	cmd.AddCommand(add, list, c.clientDeleteCommand(), c.clientRotateSecretCommand())
	return cmd
}

// printCreatedClient prints a new client and its generated secret. The
// secret exists nowhere else: when it cannot be printed (a full disk, a
// closed pipe) the client is deleted again, so that no id is left with a
// secret nobody has; if even that fails, the error says how to recover.
func (c *cli) printCreatedClient(ctx context.Context, svc *admin.Service, created admin.CreatedClient) error {
	var err error
	if created.Secret != "" {
		_, err = fmt.Fprintf(c.stdout, "client %s added\nclient_secret: %s\n(shown once: store it now)\n", created.Client.ID, created.Secret)
	} else {
		_, err = fmt.Fprintf(c.stdout, "client %s added\n", created.Client.ID)
	}
	if err == nil || created.Secret == "" {
		return err
	}
	if derr := svc.DeleteClient(ctx, admin.CLI, created.Client.ID, ""); derr != nil {
		return fmt.Errorf("the secret of client %s could not be printed (%v) and the client could not be deleted (%v): run `shopauth client rotate-secret --id %s`",
			created.Client.ID, err, derr, created.Client.ID)
	}
	return fmt.Errorf("the secret could not be printed (%w): client %s was not added", err, created.Client.ID)
}

func (c *cli) clientDeleteCommand() *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete a client and the consents given to it; its refresh tokens stop working",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store) error {
				if err := svc.DeleteClient(ctx, admin.CLI, id, ""); err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "client %s deleted\n", id)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "client id (required)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

func (c *cli) clientRotateSecretCommand() *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "rotate-secret",
		Short: "Give a confidential client a new generated secret, printed once; the old one stops working",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store) error {
				rotated, err := svc.RotateSecret(ctx, admin.CLI, id, "")
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(c.stdout, "client %s: new client_secret: %s\n(shown once: store it now)\n", id, rotated.Secret); err != nil {
					return fmt.Errorf("the new secret could not be printed (%w): run the command again", err)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "client id (required)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ttl(d time.Duration) string {
	if d == 0 {
		return "default"
	}
	return d.String()
}
