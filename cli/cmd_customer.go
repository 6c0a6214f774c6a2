package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// customerAccountCommands are the account operations on one customer:
// verify, set-password, disable, enable, unlock, revoke-sessions, erase,
// revoke-consent. Each is the admin core's operation (server/admin),
// audited with the actor "cli".
func (c *cli) customerAccountCommands() []*cobra.Command {
	return []*cobra.Command{
		c.customerByEmailCommand("verify", "Mark a customer's e-mail address as verified",
			func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store, cu storage.Customer) (string, error) {
				if _, err := svc.SetVerified(ctx, admin.CLI, cu.ShopKey, cu.ID, ""); err != nil {
					return "", err
				}
				return fmt.Sprintf("customer %d verified", cu.ID), nil
			}),
		c.customerByEmailCommand("set-password", "Replace a customer's password (read from stdin) with an argon2id hash; ends their sessions",
			func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store, cu storage.Customer) (string, error) {
				pw, err := c.readSecret("password")
				if err != nil {
					return "", err
				}
				if _, err := svc.SetPassword(ctx, admin.CLI, cu.ShopKey, cu.ID, "", pw); err != nil {
					return "", err
				}
				return fmt.Sprintf("password of customer %d set", cu.ID), nil
			}),
		c.customerByEmailCommand("disable", "Disable a customer: every sign-in is refused as a wrong password, every refresh-token family ends",
			func(ctx context.Context, svc *admin.Service, store *sqlstore.Store, cu storage.Customer) (string, error) {
				now := time.Now().UTC()
				// Disabled first: no grant issues from the account any more,
				// so no family can start after the revocation below.
				if err := store.SetDisabled(ctx, cu.ID, &now); err != nil {
					return "", err
				}
				n, err := store.RevokeCustomerRefreshTokens(ctx, cu.ID, cu.ShopKey, now)
				if err != nil {
					return "", err
				}
				// Recorded after the change (not in its transaction).
				if err := store.RecordAudit(ctx, storage.AuditEntry{At: now, Actor: admin.CLI.ID, Action: "customer.disable",
					ResourceType: "customer", ResourceID: strconv.FormatUint(cu.ID, 10), ShopKey: cu.ShopKey}); err != nil {
					return "", err
				}
				return fmt.Sprintf("customer %d disabled; %d refresh tokens revoked", cu.ID, n), nil
			}),
		c.customerByEmailCommand("enable", "Enable a disabled customer",
			func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store, cu storage.Customer) (string, error) {
				if _, err := svc.SetDisabled(ctx, admin.CLI, cu.ShopKey, cu.ID, "", false); err != nil {
					return "", err
				}
				return fmt.Sprintf("customer %d enabled", cu.ID), nil
			}),
		c.customerByEmailCommand("revoke-sessions", "End every refresh token, access token and browser session of a customer",
			func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store, cu storage.Customer) (string, error) {
				if _, err := svc.RevokeSessions(ctx, admin.CLI, cu.ShopKey, cu.ID, ""); err != nil {
					return "", err
				}
				return fmt.Sprintf("sessions of customer %d revoked", cu.ID), nil
			}),
		c.customerByEmailCommand("erase", "Erase a customer (GDPR): personal data removed, every session ended, the id kept as a pseudonym",
			func(ctx context.Context, svc *admin.Service, _ *sqlstore.Store, cu storage.Customer) (string, error) {
				if _, err := svc.Erase(ctx, admin.CLI, cu.ShopKey, cu.ID, ""); err != nil {
					return "", err
				}
				return fmt.Sprintf("customer %d erased", cu.ID), nil
			}),
		c.unlockCommand(),
		c.revokeConsentCommand(),
	}
}

// customerByEmailCommand is a command taking --shop and --email that runs
// fn on that customer and prints what fn reports.
func (c *cli) customerByEmailCommand(use, short string, fn func(ctx context.Context, svc *admin.Service, store *sqlstore.Store, cu storage.Customer) (string, error)) *cobra.Command {
	var shopKey, email string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, store *sqlstore.Store) error {
				cu, err := svc.FindCustomer(ctx, admin.CLI, shopKey, email)
				if admin.KindOf(err) == admin.NotFound {
					return fmt.Errorf("no customer %s in shop %s", email, shopKey)
				} else if err != nil {
					return err
				}
				msg, err := fn(ctx, svc, store, cu)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.stdout, msg)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&shopKey, "shop", "", "shop key (required)")
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	_ = cmd.MarkFlagRequired("shop")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// unlockCommand clears the failed-login count and lock of an address. It
// works for addresses no customer has as well: they lock the same way
// (only a customer's unlock is an audited admin change).
func (c *cli) unlockCommand() *cobra.Command {
	var shopKey, email string
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Clear the failed logins and any lock of an e-mail address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAdmin(cmd.Context(), func(ctx context.Context, svc *admin.Service, store *sqlstore.Store) error {
				normalized := customers.NormalizeEmail(email)
				rec, err := store.GetLoginFailures(ctx, shopKey, normalized)
				if err != nil {
					return err
				}
				cu, err := svc.FindCustomer(ctx, admin.CLI, shopKey, email)
				switch {
				case err == nil:
					if _, err := svc.Unlock(ctx, admin.CLI, shopKey, cu.ID, ""); err != nil {
						return err
					}
				case admin.KindOf(err) == admin.NotFound:
					if err := store.ClearLoginFailures(ctx, shopKey, normalized); err != nil {
						return err
					}
				default:
					return err
				}
				state := "was not locked"
				if rec.Locked(time.Now()) {
					state = "unlocked"
				}
				_, err = fmt.Fprintf(c.stdout, "%s in shop %s %s (%d failed logins cleared)\n", normalized, shopKey, state, rec.Count)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&shopKey, "shop", "", "shop key (required)")
	cmd.Flags().StringVar(&email, "email", "", "e-mail address (required)")
	_ = cmd.MarkFlagRequired("shop")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}
