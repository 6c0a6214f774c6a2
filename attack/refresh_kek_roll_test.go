package attack

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/keys"
)

// TestAttackRefreshRetryDuringKEKChange (issue 13 item 5a): during the
// documented no-downtime change of the key encryption key, replica A still
// runs the old key and replica B the new one (with the old one as
// SHOPAUTH_KEY_ENCRYPTION_KEY_OLD). A client whose refresh answer from A
// was lost retries on B within the grace: it must get the same successor,
// and the family must live on. Before the fix B derived another successor
// from its key and revoked the family as stolen.
func TestAttackRefreshRetryDuringKEKChange(t *testing.T) {
	for _, b := range refreshBackends {
		t.Run(b.name, func(t *testing.T) {
			a := harness.NewTestServer(t, append([]harness.TestOption{withGrace(10 * time.Second)}, b.opts...)...)
			newKEK, err := keys.GenerateKEK()
			require.NoError(t, err)
			replicaB := harness.NewTestServer(t, harness.WithStore(a.Store), harness.WithoutDemo(), withGrace(10*time.Second),
				harness.WithKEK(newKEK), harness.WithConfig(func(c *config.Config) {
					c.Keys.PreviousEncryptionKey = keys.EncodeKEK(harness.TestKEK)
				}))

			login := offlineLogin(t, a)
			onA := mustRefresh(t, a, login.RefreshToken)
			retry := mustRefresh(t, replicaB, login.RefreshToken)
			require.Equal(t, onA.RefreshToken, retry.RefreshToken, "the same successor on the other replica")

			// The family lives on, whichever replica rotates next, and a
			// retry goes the other way too.
			onB := mustRefresh(t, replicaB, onA.RefreshToken)
			back := mustRefresh(t, a, onA.RefreshToken)
			require.Equal(t, onB.RefreshToken, back.RefreshToken)
			status, body := a.Refresh(t, onB.RefreshToken)
			require.Equal(t, http.StatusOK, status, body.Error)
		})
	}
}
