package keys

import (
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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

// Signature algorithms a key may be made for (RFC 7518 §3.1, RFC 8037 §3.1).
// RS256 is every client's default and always has a key; ES256 and EdDSA
// keys exist beside it once an operator makes the first one
// (`shopauth keys rotate --alg ES256`), for clients that ask for them.
const (
	RS256 = string(jose.RS256)
	ES256 = string(jose.ES256)
	EdDSA = string(jose.EdDSA)
)

// DefaultAlgorithm signs for clients that name no algorithm.
const DefaultAlgorithm = RS256

// Algorithms lists every supported algorithm, in the order discovery
// advertises them.
func Algorithms() []string { return []string{RS256, ES256, EdDSA} }

// IsAlgorithm reports whether alg is one of Algorithms.
func IsAlgorithm(alg string) bool { return slices.Contains(Algorithms(), alg) }

// rsaBits: RFC 7518 §3.3 requires at least 2048 bits for RS256.
const rsaBits = 2048

// material is one key's decrypted private key and everything derived from
// it, built once per key and process: the PEM/DER parsing, the JWK and the
// signers never happen per token.
type material struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	pub  crypto.PublicKey
	jwk  jose.JSONWebKey // public part only: what the JWKS publishes

	// signers caches one jose.Signer per typ. The two typs we mint are
	// built up front; any other is built on first use. A jose.Signer only
	// reads its own state while signing, so sharing one is safe.
	signers sync.Map // string -> jose.Signer
}

// checkKeyType reports whether priv is the kind of key alg needs.
func checkKeyType(kid, alg string, priv crypto.Signer) error {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg != RS256 {
			break
		}
		if bits := k.N.BitLen(); bits < rsaBits {
			return fmt.Errorf("signing key %s: RSA key has %d bits, need at least %d", kid, bits, rsaBits)
		}
		return nil
	case *ecdsa.PrivateKey:
		// RFC 7518 §3.4: ES256 is ECDSA on P-256 only.
		if alg == ES256 && k.Curve == elliptic.P256() {
			return nil
		}
	case ed25519.PrivateKey:
		if alg == EdDSA {
			return nil
		}
	}
	return fmt.Errorf("signing key %s: %s needs another kind of key, found %T", kid, alg, priv)
}

func newMaterial(kid, alg string, priv crypto.Signer) (*material, error) {
	if err := checkKeyType(kid, alg, priv); err != nil {
		return nil, err
	}
	if r, ok := priv.(*rsa.PrivateKey); ok {
		// Precomputed CRT values make each signature several times cheaper.
		r.Precompute()
	}
	pub := priv.Public()
	m := &material{
		kid:  kid,
		alg:  jose.SignatureAlgorithm(alg),
		priv: priv,
		pub:  pub,
		jwk:  jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"},
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

// decryptMaterial opens a stored key with the first AEAD that can (the
// current KEK, then the previous one during a KEK change) and checks it
// against its own row.
func decryptMaterial(aeads []cipher.AEAD, k storage.SigningKey) (*material, error) {
	if !IsAlgorithm(k.Algorithm) {
		return nil, fmt.Errorf("signing key %s: unsupported algorithm %q", k.KID, k.Algorithm)
	}
	der, _, err := openAny(aeads, k.KID, k.EncryptedPrivateKey)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: parse PKCS#8: %w", k.KID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s: %T cannot sign", k.KID, parsed)
	}
	if err := checkKeyType(k.KID, k.Algorithm, priv); err != nil {
		return nil, err
	}
	if len(k.PublicJWK) > 0 {
		// The stored public JWK is what other tools may read; a mismatch
		// would publish one key and sign with another.
		var stored jose.JSONWebKey
		if err := json.Unmarshal(k.PublicJWK, &stored); err != nil {
			return nil, fmt.Errorf("signing key %s: stored public JWK: %w", k.KID, err)
		}
		pub, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(stored.Key) {
			return nil, fmt.Errorf("signing key %s: stored public JWK does not match the private key", k.KID)
		}
	}
	return newMaterial(k.KID, k.Algorithm, priv)
}

// newPrivateKey generates a private key for alg.
func newPrivateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("unsupported algorithm %q (supported: %v)", alg, Algorithms())
}

// generateKey makes a new key for alg and its storage row, encrypted under
// aead. The kid is the RFC 7638 SHA-256 thumbprint: stable, unique per key,
// and derivable by anyone holding the public key.
func generateKey(aead cipher.AEAD, alg string, generation int64, now, notBefore time.Time) (storage.SigningKey, *material, error) {
	priv, err := newPrivateKey(alg)
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	pubJWK := jose.JSONWebKey{Key: priv.Public()}
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
	mat, err := newMaterial(kid, alg, priv)
	if err != nil {
		return storage.SigningKey{}, nil, err
	}
	pubJSON, err := json.Marshal(mat.jwk)
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("marshal public JWK: %w", err)
	}
	return storage.SigningKey{
		KID:                 kid,
		Algorithm:           alg,
		Generation:          generation,
		EncryptedPrivateKey: sealed,
		PublicJWK:           pubJSON,
		CreatedAt:           now,
		NotBefore:           notBefore,
	}, mat, nil
}
