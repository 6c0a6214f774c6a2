package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// revokeConsentCommand forgets a customer's consent to a third-party
// client: the next authorization shows the consent page again.
func (c *cli) revokeConsentCommand() *cobra.Command {
	var clientID string
	cmd := c.customerByEmailCommand("revoke-consent", "Forget the scopes a customer granted a client (--client ID) and end the client's refresh-token families of the customer",
		func(ctx context.Context, _ *admin.Service, store *sqlstore.Store, cu storage.Customer) (string, error) {
			// The consent first: a new authorization asks again, so no
			// family of the client starts unasked after the revocation.
			consentErr := store.RevokeConsent(ctx, cu.ID, clientID)
			if consentErr != nil && !errors.Is(consentErr, storage.ErrNotFound) {
				return "", consentErr
			}
			n, err := store.RevokeCustomerClientRefreshTokens(ctx, cu.ID, cu.ShopKey, clientID, time.Now().UTC())
			if err != nil {
				return "", err
			}
			if consentErr != nil && n == 0 {
				return "", fmt.Errorf("customer %d has no consent for client %s", cu.ID, clientID)
			}
			// Recorded after the change (not in its transaction).
			if err := store.RecordAudit(ctx, storage.AuditEntry{At: time.Now().UTC(), Actor: admin.CLI.ID, Action: "consent.revoke",
				ResourceType: "consent", ResourceID: strconv.FormatUint(cu.ID, 10) + "/" + clientID, ShopKey: cu.ShopKey}); err != nil {
				return "", err
			}
			return fmt.Sprintf("consent of customer %d for client %s revoked; %d refresh tokens revoked", cu.ID, clientID, n), nil
		})
	cmd.Flags().StringVar(&clientID, "client", "", "client id (required)")
	_ = cmd.MarkFlagRequired("client")
	return cmd
}
