package e2e

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// shopauthCmd runs one command line in-process with environ and returns
// stdout, stderr and the exit status.
func shopauthCmd(t *testing.T, environ []string, args ...string) (string, string, int) {
	t.Helper()
	code, stdout, stderr := (&harness.CLI{Environ: environ}).Run("", args...)
	return stdout, stderr, code
}

// keyRows lists kid, alg and state of `keys list`, without the header.
func keyRows(t *testing.T, environ []string) [][]string {
	t.Helper()
	out, errOut, code := shopauthCmd(t, environ, "keys", "list")
	require.Zero(t, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.True(t, strings.HasPrefix(lines[0], "KID"))
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Fields(l)[:3])
	}
	return rows
}

func TestKeysCommands(t *testing.T) {
	oldKEK, newKEK := keys.EncodeKEK(harness.TestKEK), keys.EncodeKEK(mustKEK(t))
	env := []string{"SHOPAUTH_DATABASE_URL=" + sqlstoretest.SQLiteDatabaseURL(t), "SHOPAUTH_KEY_ENCRYPTION_KEY=" + oldKEK, "SHOPAUTH_LOG_LEVEL=error"}

	rows := keyRows(t, env)
	require.Len(t, rows, 1)
	require.Equal(t, []string{"RS256", "current"}, rows[0][1:])

	out, errOut, code := shopauthCmd(t, env, "keys", "rotate")
	require.Zero(t, code, errOut)
	require.Regexp(t, `^key \S+ \(RS256\) published, signs from \S+\n$`, out)
	_, errOut, code = shopauthCmd(t, env, "keys", "rotate")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "a next key is already published")
	require.Contains(t, errOut, "use --now")
	require.Equal(t, []string{"current", "next"}, column(keyRows(t, env), 2))

	_, errOut, code = shopauthCmd(t, env, "keys", "rotate", "--now")
	require.Zero(t, code, errOut)
	rows = keyRows(t, env)
	require.Equal(t, []string{"retired", "retired", "current"}, column(rows, 2))
	current := rows[2][0]

	out, errOut, code = shopauthCmd(t, env, "keys", "export", "--pem")
	require.Zero(t, code, errOut)
	block, _ := pem.Decode([]byte(out))
	require.NotNil(t, block)
	require.Equal(t, "PUBLIC KEY", block.Type)
	_, errOut, code = shopauthCmd(t, env, "keys", "export")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--pem is required")
	_, errOut, code = shopauthCmd(t, env, "keys", "export", "--pem", "--kid", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `"nope" is not published`)

	// ES256 beside RS256, for a client that asks for it.
	clientAdd := []string{"client", "add", "--id", "es-app", "--public", "--grants", "password", "--scopes", "openid", "--access-token-alg", "ES256"}
	_, errOut, code = shopauthCmd(t, env, clientAdd...)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no ES256 key signs yet")
	_, errOut, code = shopauthCmd(t, env, "client", "add", "--id", "hs-app", "--public", "--grants", "password", "--id-token-alg", "HS256")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `unsupported algorithm "HS256" (supported: RS256, ES256, EdDSA)`)
	_, errOut, code = shopauthCmd(t, env, "keys", "rotate", "--alg", "ES256", "--now")
	require.Zero(t, code, errOut)
	_, errOut, code = shopauthCmd(t, env, clientAdd...)
	require.Zero(t, code, errOut)
	rows = keyRows(t, env)
	esKID := rows[3][0]
	require.Equal(t, []string{esKID, "ES256", "current"}, rows[3])
	out, errOut, code = shopauthCmd(t, env, "keys", "export", "--pem", "--kid", esKID)
	require.Zero(t, code, errOut)
	block, _ = pem.Decode([]byte(out))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	require.IsType(t, &ecdsa.PublicKey{}, pub)

	out, errOut, code = shopauthCmd(t, env, "keys", "retire", "--", current) // "--": a kid may start with "-"
	require.Zero(t, code, errOut)
	require.Contains(t, out, "key "+current+" retired; ")
	_, errOut, code = shopauthCmd(t, env, "keys", "retire", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no signing key "nope"`)

	// A new encryption key: rekey, then only the new key opens them.
	_, errOut, code = shopauthCmd(t, env, "keys", "rekey")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "SHOPAUTH_KEY_ENCRYPTION_KEY_OLD is required")
	newEnv := append(env[:len(env):len(env)], "SHOPAUTH_KEY_ENCRYPTION_KEY="+newKEK)
	_, errOut, code = shopauthCmd(t, newEnv, "keys", "list")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "SHOPAUTH_KEY_ENCRYPTION_KEY does not open the stored signing keys")
	require.NotContains(t, errOut, newKEK, "never echo the key")
	out, errOut, code = shopauthCmd(t, append(newEnv, "SHOPAUTH_KEY_ENCRYPTION_KEY_OLD="+oldKEK), "keys", "rekey")
	require.Zero(t, code, errOut)
	require.Equal(t, "re-encrypted 4 key(s); 0 already under the new key\n", out)
	require.Len(t, keyRows(t, newEnv), 4)
	_, errOut, code = shopauthCmd(t, env, "keys", "list")
	require.Equal(t, 1, code, "the old key no longer opens them")
	require.Contains(t, errOut, "does not open the stored signing keys")
}

func column(rows [][]string, i int) []string {
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = r[i]
	}
	return out
}

func mustKEK(t *testing.T) []byte {
	t.Helper()
	k, err := keys.GenerateKEK()
	require.NoError(t, err)
	return k
}

// TestPerClientAlgorithm: a client registered for ES256 gets ES256 access
// tokens, discovery advertises every algorithm with a signing key, and
// the JWKS holds both kinds (Must hold 4).
func TestPerClientAlgorithm(t *testing.T) {
	ts := harness.NewTestServer(t)
	ctx := t.Context()
	_, err := ts.Keys.Rotate(ctx, keys.ES256, true)
	require.NoError(t, err)
	storefront, err := ts.Store.GetClient(ctx, "storefront")
	require.NoError(t, err)
	es := storefront
	es.ID, es.AccessTokenAlg, es.IDTokenAlg = "es-storefront", keys.ES256, keys.ES256
	require.NoError(t, ts.Store.CreateClient(ctx, es))

	var idTokens []*jose.JSONWebSignature
	for _, tt := range []struct {
		client storage.Client
		alg    string
	}{{storefront, "RS256"}, {es, "ES256"}} {
		resp := ts.PostForm(t, "/oauth2/token", url.Values{
			"grant_type": {"password"}, "username": {"sonia@spryker.com"}, "password": {"change123"}, "shop": {"acme12aa"},
			"scope": {"openid"},
		}, tt.client.ID, "storefront-secret")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var body struct {
			AccessToken string `json:"access_token"`
			IDToken     string `json:"id_token"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		jws, err := jose.ParseSignedCompact(body.AccessToken, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		require.NoError(t, err)
		require.Equal(t, tt.alg, jws.Signatures[0].Protected.Algorithm)
		_, err = ts.App.Authority.VerifyAccessToken(ctx, body.AccessToken)
		require.NoError(t, err)
		idToken, err := jose.ParseSignedCompact(body.IDToken, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		require.NoError(t, err)
		require.Equal(t, tt.alg, idToken.Signatures[0].Protected.Algorithm, "the ID token is signed with the client's algorithm too")
		idTokens = append(idTokens, idToken)
	}

	resp, err := http.Get(ts.URL + "/.well-known/openid-configuration")
	require.NoError(t, err)
	defer resp.Body.Close()
	var disc struct {
		IDTokenAlgs []string `json:"id_token_signing_alg_values_supported"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&disc))
	require.Equal(t, []string{"RS256", "ES256"}, disc.IDTokenAlgs)

	jwksResp, err := http.Get(ts.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer jwksResp.Body.Close()
	// PublishAhead (1h) less SyncInterval (1m): a key one replica publishes
	// reaches every cache before any replica signs with it.
	require.Equal(t, "public, max-age=3540", jwksResp.Header.Get("Cache-Control"))
	var set jose.JSONWebKeySet
	require.NoError(t, json.NewDecoder(jwksResp.Body).Decode(&set))
	algs := map[string]bool{}
	for _, k := range set.Keys {
		algs[k.Algorithm] = true
	}
	require.Equal(t, map[string]bool{"RS256": true, "ES256": true}, algs)

	// A relying party verifies each ID token with the published key its kid
	// names.
	for _, idToken := range idTokens {
		h := idToken.Signatures[0].Protected
		published := set.Key(h.KeyID)
		require.Len(t, published, 1, "kid %s is published", h.KeyID)
		require.Equal(t, h.Algorithm, published[0].Algorithm)
		_, err := idToken.Verify(published[0].Key)
		require.NoError(t, err)
	}
}

// TestReplicaVerifiesKeyItHasNotSynced: replica b meets a token signed by
// a key replica a made a moment ago (`keys rotate --now`) and accepts it,
// reloading its keys instead of waiting for the next sync (Must hold 2).
func TestReplicaVerifiesKeyItHasNotSynced(t *testing.T) {
	a := harness.NewTestServer(t)
	b := harness.NewTestServer(t, harness.WithStore(a.Store), harness.WithoutDemo(), harness.WithConfig(func(c *config.Config) { c.Issuer = a.Config.Issuer }))
	ctx := t.Context()
	before := b.Keys.CurrentKID()
	k, err := a.Keys.Rotate(ctx, keys.RS256, true)
	require.NoError(t, err)

	body := tokenOK(t, a, harness.PasswordForm("openid"), app.DemoClientID, app.DemoClientSecret)
	claims, err := b.App.Authority.VerifyAccessToken(ctx, body.AccessToken)
	require.NoError(t, err, "b reloads on the unknown kid")
	require.Equal(t, "21", claims.Subject)
	require.Equal(t, k.KID, b.Keys.CurrentKID(), "and now signs with the new key too")
	require.NotEqual(t, before, k.KID)
}
