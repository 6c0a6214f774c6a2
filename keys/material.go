package keys

import (
	"crypto"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/shopauth/shopauth/storage"
)

// Token types for the JWS "typ" header.
const (
	// TypAccessToken is the typ of RFC 9068 access tokens (§2.1).
	TypAccessToken = "at+jwt"
	// TypIDToken is the typ of OIDC ID tokens.
	TypIDToken = "JWT"
)

const (
	// algRS256 is the only algorithm keys are generated for today; stored
	// keys name theirs so ES256/EdDSA can be added without a migration.
	algRS256 = string(jose.RS256)
	// rsaBits: RFC 7518 §3.3 requires at least 2048 bits for RS256.
	rsaBits = 2048
)

// material is one key's decrypted private key and everything derived from
// it, built once per key and process: the PEM/DER parsing, the JWK and the
// signers never happen per token.
type material struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv *rsa.PrivateKey
	pub  *rsa.PublicKey
	jwk  jose.JSONWebKey // public part only: what the JWKS publishes

	// signers caches one jose.Signer per typ. The two typs we mint are
	// built up front; any other is built on first use. A jose.Signer only
	// reads its own state while signing, so sharing one is safe.
	signers sync.Map // string -> jose.Signer
}

func newMaterial(kid string, priv *rsa.PrivateKey) (*material, error) {
	if bits := priv.N.BitLen(); bits < rsaBits {
		return nil, fmt.Errorf("signing key %s: RSA key has %d bits, need at least %d", kid, bits, rsaBits)
	}
	// Precomputed CRT values make each signature several times cheaper.
	priv.Precompute()
	m := &material{
		kid:  kid,
		alg:  jose.RS256,
		priv: priv,
		pub:  &priv.PublicKey,
		jwk:  jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: algRS256, Use: "sig"},
	}
	for _, typ := range []string{TypAccessToken, TypIDToken} {
		if _, err := m.signer(typ); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// signer returns the cached signer for typ, building it on first use.
func (m *material) signer(typ string) (jose.Signer, error) {
	if s, ok := m.signers.Load(typ); ok {
		return s.(jose.Signer), nil
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{
		Algorithm: m.alg,
		Key:       jose.JSONWebKey{Key: m.priv, KeyID: m.kid},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", m.kid, err)
	}
	actual, _ := m.signers.LoadOrStore(typ, s)
	return actual.(jose.Signer), nil
}

// decryptMaterial opens a stored key and checks it against its own row.
func decryptMaterial(aead cipher.AEAD, k storage.SigningKey) (*material, error) {
	if k.Algorithm != algRS256 {
		return nil, fmt.Errorf("signing key %s: unsupported algorithm %q", k.KID, k.Algorithm)
	}
	der, err := open(aead, k.KID, k.EncryptedPrivateKey)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: parse PKCS#8: %w", k.KID, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: %s needs an RSA key, found %T", k.KID, k.Algorithm, parsed)
	}
	if len(k.PublicJWK) > 0 {
		// The stored public JWK is what other tools may read; a mismatch
		// would publish one key and sign with another.
		var stored jose.JSONWebKey
		if err := json.Unmarshal(k.PublicJWK, &stored); err != nil {
			return nil, fmt.Errorf("signing key %s: stored public JWK: %w", k.KID, err)
		}
		if !priv.PublicKey.Equal(stored.Key) {
			return nil, fmt.Errorf("signing key %s: stored public JWK does not match the private key", k.KID)
		}
	}
	return newMaterial(k.KID, priv)
}

// generateKey makes a new RSA key and its storage row, encrypted under aead.
// The kid is the RFC 7638 SHA-256 thumbprint: stable, unique per key, and
// derivable by anyone holding the public key.
func generateKey(aead cipher.AEAD, generation int64, now, notBefore time.Time) (storage.SigningKey, *material, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("generate RSA key: %w", err)
	}
	pubJWK := jose.JSONWebKey{Key: &priv.PublicKey}
	tp, err := pubJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("marshal PKCS#8: %w", err)
	}
	sealed, err := seal(aead, kid, der)
	clear(der)
	if err != nil {
		return storage.SigningKey{}, nil, err
	}
	mat, err := newMaterial(kid, priv)
	if err != nil {
		return storage.SigningKey{}, nil, err
	}
	pubJSON, err := json.Marshal(mat.jwk)
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("marshal public JWK: %w", err)
	}
	return storage.SigningKey{
		KID:                 kid,
		Algorithm:           algRS256,
		Generation:          generation,
		EncryptedPrivateKey: sealed,
		PublicJWK:           pubJSON,
		CreatedAt:           now,
		NotBefore:           notBefore,
	}, mat, nil
}
