package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// customerAccountCommands are the account operations on one customer:
// verify, set-password, disable, enable, unlock.
func (c *cli) customerAccountCommands() []*cobra.Command {
	return []*cobra.Command{
		c.customerByEmailCommand("verify", "Mark a customer's e-mail address as verified",
			func(ctx context.Context, store *sqlstore.Store, cu storage.Customer) (string, error) {
				now := time.Now().UTC()
				if err := store.SetEmailVerified(ctx, cu.ID, &now); err != nil {
					return "", err
				}
				return fmt.Sprintf("customer %d verified", cu.ID), nil
			}),
		c.customerByEmailCommand("set-password", "Replace a customer's password (read from stdin) with an argon2id hash",
			func(ctx context.Context, store *sqlstore.Store, cu storage.Customer) (string, error) {
				cfg, err := c.loadConfig()
				if err != nil {
					return "", err
				}
				pw, err := c.readSecret("password")
				if err != nil {
					return "", err
				}
				// The limits every login applies: a password that could never
				// sign in is refused here too.
				if len(pw) > customers.MaxPasswordBytes {
					return "", fmt.Errorf("password longer than %d bytes", customers.MaxPasswordBytes)
				}
				hasher, err := customers.NewHasher(app.Argon2Params(cfg.Login))
				if err != nil {
					return "", err
				}
				hash, err := hasher.Hash(pw)
				if err != nil {
					return "", err
				}
				if err := store.UpdatePasswordHash(ctx, cu.ID, cu.PasswordHash, hash); errors.Is(err, storage.ErrConflict) {
					return "", errors.New("the password changed meanwhile (a login upgraded it?); run the command again")
				} else if err != nil {
					return "", err
				}
				return fmt.Sprintf("password of customer %d set", cu.ID), nil
			}),
		c.customerByEmailCommand("disable", "Disable a customer: every sign-in is refused as a wrong password, every refresh-token family ends",
			func(ctx context.Context, store *sqlstore.Store, cu storage.Customer) (string, error) {
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
				return fmt.Sprintf("customer %d disabled; %d refresh tokens revoked", cu.ID, n), nil
			}),
		c.customerByEmailCommand("enable", "Enable a disabled customer",
			func(ctx context.Context, store *sqlstore.Store, cu storage.Customer) (string, error) {
				if err := store.SetDisabled(ctx, cu.ID, nil); err != nil {
					return "", err
				}
				return fmt.Sprintf("customer %d enabled", cu.ID), nil
			}),
		c.unlockCommand(),
		c.revokeConsentCommand(),
	}
}

// customerByEmailCommand is a command taking --shop and --email that runs
// fn on that customer and prints what fn reports.
func (c *cli) customerByEmailCommand(use, short string, fn func(ctx context.Context, store *sqlstore.Store, cu storage.Customer) (string, error)) *cobra.Command {
	var shopKey, email string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				cu, err := store.GetCustomerByEmail(ctx, shopKey, customers.NormalizeEmail(email))
				if errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("no customer %s in shop %s", email, shopKey)
				} else if err != nil {
					return err
				}
				msg, err := fn(ctx, store, cu)
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
// works for addresses no customer has as well: they lock the same way.
func (c *cli) unlockCommand() *cobra.Command {
	var shopKey, email string
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Clear the failed logins and any lock of an e-mail address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				normalized := customers.NormalizeEmail(email)
				rec, err := store.GetLoginFailures(ctx, shopKey, normalized)
				if err != nil {
					return err
				}
				if err := store.ClearLoginFailures(ctx, shopKey, normalized); err != nil {
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
