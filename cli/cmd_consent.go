package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/storage"
)

// revokeConsentCommand forgets a customer's consent to a third-party
// client: the next authorization shows the consent page again.
func (c *cli) revokeConsentCommand() *cobra.Command {
	var clientID string
	cmd := c.customerByEmailCommand("revoke-consent", "Forget the scopes a customer granted a client (--client ID)",
		func(ctx context.Context, svc *admin.Service, cu storage.Customer) (string, error) {
			err := svc.RevokeConsent(ctx, admin.CLI, cu.ShopKey, cu.ID, clientID)
			if admin.KindOf(err) == admin.NotFound {
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
