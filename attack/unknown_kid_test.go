package attack

// Adversarial suite, hole 7 (issue 13): tokens naming garbage key ids
// must not starve the reload a replica makes for an unknown kid. Before
// the fix the first garbage kid spent the once-per-5-s reload, so a token
// of a key another replica had just created (`keys rotate --now`) was
// refused until the next sync; one garbage token every 5 s made that
// permanent.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/keys"
)

// garbageKIDToken is a well-formed token naming kid, with a signature of
// nothing: anyone can send it.
func garbageKIDToken(kid string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(fmt.Sprintf(`{"alg":"RS256","kid":%q,"typ":"at+jwt"}`, kid))) + "." +
		enc([]byte(`{"sub":"21"}`)) + "." + enc([]byte("not a signature"))
}

// TestAttackGarbageKIDsDoNotStarveNewKey: replica b meets a flood of
// garbage kids (32 at once, distinct), then a token signed by a key
// replica a created a moment ago with `keys rotate --now`: b accepts it
// at once, with no clock moving and no sync in between.
func TestAttackGarbageKIDsDoNotStarveNewKey(t *testing.T) {
	for _, backend := range attackBackends() {
		t.Run(backend.name, func(t *testing.T) {
			a := harness.NewTestServer(t, backend.opts...)
			// Replicas: one database, one issuer.
			b := harness.NewTestServer(t, harness.WithStore(a.Store), harness.WithoutDemo(),
				harness.WithConfig(func(c *config.Config) { c.Issuer = a.URL }))

			var wg sync.WaitGroup
			for i := range 32 {
				wg.Go(func() {
					r, _ := b.UserInfo(t, garbageKIDToken(fmt.Sprintf("garbage-%d", i)))
					require.Equal(t, http.StatusUnauthorized, r.StatusCode)
				})
			}
			wg.Wait()

			_, err := a.Keys.Rotate(t.Context(), keys.RS256, true)
			require.NoError(t, err)
			tok := a.Login(t, "openid", "")
			require.Equal(t, a.Keys.CurrentKID(), tokenKID(t, tok.AccessToken), "signed by the new key")
			r, body := b.UserInfo(t, tok.AccessToken)
			require.Equal(t, http.StatusOK, r.StatusCode, "b reloads for the new kid: %s", body)
		})
	}
}

// tokenKID is the kid header of a compact JWS.
func tokenKID(t testing.TB, jws string) string {
	t.Helper()
	return headerOf(t, jws)["kid"].(string)
}
