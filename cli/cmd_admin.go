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
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
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
	var shop storage.Shop
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a shop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validShopKey(shop.Key) {
				return errors.New("--key must be 1-64 letters, digits, '-' or '_'")
			}
			if shop.Name == "" {
				return errors.New("--name is required")
			}
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				shop.Active = true
				shop.CreatedAt = time.Now().UTC()
				if err := store.CreateShop(ctx, shop); errors.Is(err, storage.ErrConflict) {
					return fmt.Errorf("shop %q exists already", shop.Key)
				} else if err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "shop %s added\n", shop.Key)
				return err
			})
		},
	}
	add.Flags().StringVar(&shop.Key, "key", "", "shop key, as in /api/v1/{shopKey}/ (required)")
	add.Flags().StringVar(&shop.Name, "name", "", "display name (required)")
	add.Flags().StringVar(&shop.Locale, "locale", "es", "locale of messages (es, en)")
	add.Flags().StringSliceVar(&shop.CORSOrigins, "cors-origin", nil, "browser origin allowed to call the shop's login API (repeatable)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List shops",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				shops, err := store.ListShops(ctx)
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

func validShopKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (c *cli) customerCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "customer", Short: "Manage a shop's customers"}
	var (
		cust          storage.Customer
		passwordStdin bool
		passwordHash  string
		verified      bool
	)
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a customer (password on stdin with --password-stdin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cust.ShopKey == "" || cust.Email == "" || cust.Name == "" {
				return errors.New("--shop, --email and --name are required")
			}
			if passwordStdin == (passwordHash != "") {
				return errors.New("give exactly one of --password-stdin and --password-hash")
			}
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			hasher, err := customers.NewHasher(app.Argon2Params(cfg.Login))
			if err != nil {
				return err
			}
			if passwordStdin {
				pw, err := c.readSecret("password")
				if err != nil {
					return err
				}
				if len(pw) > customers.MaxPasswordBytes {
					return fmt.Errorf("password longer than %d bytes", customers.MaxPasswordBytes)
				}
				if cust.PasswordHash, err = hasher.Hash(pw); err != nil {
					return err
				}
			} else {
				// An imported hash must be one the server can verify.
				if customers.CheckHashFormat(passwordHash) != nil {
					return errors.New("--password-hash is not a supported hash (argon2id/argon2i PHC, bcrypt, phpass)")
				}
				cust.PasswordHash = passwordHash
			}
			now := time.Now().UTC()
			cust.Email = strings.TrimSpace(cust.Email)
			cust.EmailNormalized = customers.NormalizeEmail(cust.Email)
			cust.CreatedAt, cust.UpdatedAt = now, now
			if verified {
				cust.EmailVerifiedAt = &now
			}
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				if _, err := store.GetShop(ctx, cust.ShopKey); errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("no shop %q", cust.ShopKey)
				}
				if err := store.CreateCustomer(ctx, &cust); errors.Is(err, storage.ErrConflict) {
					return fmt.Errorf("a customer with this e-mail or id exists already in shop %s", cust.ShopKey)
				} else if err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "customer %d added to shop %s\n", cust.ID, cust.ShopKey)
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&cust.ShopKey, "shop", "", "shop key (required)")
	f.StringVar(&cust.Email, "email", "", "e-mail address, the login name (required)")
	f.StringVar(&cust.Name, "name", "", "display name (required)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	f.StringVar(&passwordHash, "password-hash", "", "an existing hash (argon2id PHC or bcrypt) imported as is")
	f.BoolVar(&verified, "verified", false, "the e-mail address is verified")
	f.StringVar(&cust.CompanyUserID, "company-user-id", "", "B2B company user UUID")
	f.StringVar(&cust.CustomerReference, "reference", "", "customer reference (e.g. DE--21)")
	f.Uint64Var(&cust.ID, "id", 0, "customer id (default: next free)")
	f.Uint64Var(&cust.AccountID, "account-id", 0, "account id of the legacy shop")

	cmd.AddCommand(add, c.customerImportCommand())
	cmd.AddCommand(c.customerAccountCommands()...)
	return cmd
}

func (c *cli) clientCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Manage OAuth clients"}
	var (
		cl          storage.Client
		secretStdin bool
		preset      string
		grants      []string
		scopes      string
	)
	add := &cobra.Command{
		Use:   "add",
		Short: "Register a client; without --secret-stdin or --public a secret is generated and printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cl.ID == "" {
				return errors.New("--id is required")
			}
			if secretStdin && cl.Public {
				return errors.New("--secret-stdin and --public exclude each other")
			}
			switch preset {
			case "":
			case "spryker":
				if !cmd.Flags().Changed("access-ttl") {
					cl.AccessTokenTTL = app.SprykerAccessTTL
				}
				if !cmd.Flags().Changed("refresh-ttl") {
					cl.RefreshTokenTTL = app.SprykerRefreshTTL
				}
				if !cmd.Flags().Changed("grants") {
					grants = []string{server.GrantPassword, server.GrantRefreshToken}
				}
				if !cmd.Flags().Changed("scopes") {
					scopes = "customer offline_access"
				}
			default:
				return fmt.Errorf("unknown --preset %q (known: spryker)", preset)
			}
			for _, g := range grants {
				if !slices.Contains(server.SupportedGrantTypes(), g) {
					return fmt.Errorf("unsupported grant %q (supported: %s)", g, strings.Join(server.SupportedGrantTypes(), ", "))
				}
			}
			if len(grants) == 0 {
				return errors.New("--grants is required")
			}
			switch cl.TokenProfile {
			case "", tokens.ProfileRFC9068, tokens.ProfileSpryker:
			default:
				return fmt.Errorf("unknown --token-profile %q (rfc9068, spryker)", cl.TokenProfile)
			}
			if err := checkClientAlgs(cl.AccessTokenAlg, cl.IDTokenAlg); err != nil {
				return err
			}
			if err := server.CheckClientRedirects(grants, cl.ShopKey, cl.RedirectURIs, cl.PostLogoutRedirectURIs); err != nil {
				return err
			}
			cl.GrantTypes = grants
			cl.Scopes = strings.Fields(scopes)
			var generated string
			switch {
			case cl.Public:
			case secretStdin:
				secret, err := c.readSecret("client secret")
				if err != nil {
					return err
				}
				cl.SecretHash = clients.HashSecret(secret)
			default:
				secret, err := clients.GenerateSecret()
				if err != nil {
					return err
				}
				generated = secret
				cl.SecretHash = clients.HashSecret(secret)
			}
			cl.CreatedAt = time.Now().UTC()
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				if err := c.checkSigningKeys(ctx, store, cl.AccessTokenAlg, cl.IDTokenAlg); err != nil {
					return err
				}
				if cl.ShopKey != "" {
					if _, err := store.GetShop(ctx, cl.ShopKey); errors.Is(err, storage.ErrNotFound) {
						return fmt.Errorf("no shop %q", cl.ShopKey)
					}
				}
				if err := store.CreateClient(ctx, cl); errors.Is(err, storage.ErrConflict) {
					return fmt.Errorf("client %q exists already", cl.ID)
				} else if err != nil {
					return err
				}
				if generated != "" {
					_, err := fmt.Fprintf(c.stdout, "client %s added\nclient_secret: %s\n(shown once: store it now)\n", cl.ID, generated)
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "client %s added\n", cl.ID)
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&cl.ID, "id", "", "client id (required)")
	f.BoolVar(&secretStdin, "secret-stdin", false, "read the client secret from stdin")
	f.BoolVar(&cl.Public, "public", false, "a public client (no secret: apps, browsers)")
	f.StringVar(&cl.ShopKey, "shop", "", "the shop whose customers may sign in (empty: the request names the shop)")
	f.StringVar(&preset, "preset", "", "defaults of a known integration: spryker (access 28800 s, refresh 2628000 s)")
	f.StringSliceVar(&grants, "grants", nil, "allowed grants, comma-separated: authorization_code,refresh_token,client_credentials,password")
	f.StringVar(&scopes, "scopes", "", `allowed scopes, space-separated ("openid profile email offline_access")`)
	f.StringSliceVar(&cl.Audiences, "audience", nil, "aud of access tokens (repeatable; default: the client id)")
	f.DurationVar(&cl.AccessTokenTTL, "access-ttl", 0, "access-token lifetime (default: SHOPAUTH_ACCESS_TOKEN_TTL)")
	f.DurationVar(&cl.RefreshTokenTTL, "refresh-ttl", 0, "refresh-token family lifetime (default: SHOPAUTH_REFRESH_TOKEN_TTL)")
	f.StringSliceVar(&cl.CORSOrigins, "cors-origin", nil, "browser origin allowed to call the token endpoint (repeatable)")
	f.StringVar(&cl.TokenProfile, "token-profile", "", "access-token claims: rfc9068 (default) or spryker")
	f.StringVar(&cl.AccessTokenAlg, "access-token-alg", "", "access-token signature algorithm: RS256 (default), ES256 or EdDSA")
	f.StringVar(&cl.IDTokenAlg, "id-token-alg", "", "ID-token signature algorithm: RS256 (default), ES256 or EdDSA")
	f.BoolVar(&cl.FirstParty, "first-party", false, "a client of the shop itself")
	f.StringSliceVar(&cl.RedirectURIs, "redirect-uri", nil, "registered redirect URI (repeatable)")
	f.StringSliceVar(&cl.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "registered post-logout redirect URI (repeatable)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				list, err := store.ListClients(ctx)
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
	cmd.AddCommand(add, list)
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
