package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// revokeConsentCommand forgets a customer's consent to a third-party
// client: the next authorization shows the consent page again.
func (c *cli) revokeConsentCommand() *cobra.Command {
	var clientID string
	cmd := c.customerByEmailCommand("revoke-consent", "Forget the scopes a customer granted a client (--client ID)",
		func(ctx context.Context, store *sqlstore.Store, cu storage.Customer) (string, error) {
			err := store.RevokeConsent(ctx, cu.ID, clientID)
			if errors.Is(err, storage.ErrNotFound) {
				return "", fmt.Errorf("customer %d has no consent for client %s", cu.ID, clientID)
			}
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("consent of customer %d for client %s revoked", cu.ID, clientID), nil
		})
	cmd.Flags().StringVar(&clientID, "client", "", "client id (required)")
	_ = cmd.MarkFlagRequired("client")
	return cmd
}
