package tokens

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// RefreshSecrets makes refresh tokens. A family's first token is random; each
// successor is HMAC(key, predecessor). A client that retries a rotation with
// the token it just spent is given the same successor again without any
// refresh token being stored in plaintext (only SHA-256 hashes are): the
// successor is stored sealed under a key only its predecessor yields
// (Seal), so any replica can open it, whatever key it derives successors
// with — during a change of the key encryption key, from which the HMAC key
// is derived, replicas differ. The HMAC keeps successors equal across
// replicas that share the key, as releases before the seal expect.
type RefreshSecrets struct {
	key []byte
}

// NewRefreshSecrets returns a RefreshSecrets with a key of at least 32 bytes.
func NewRefreshSecrets(key []byte) (*RefreshSecrets, error) {
	if len(key) < 32 {
		return nil, errors.New("tokens: refresh key must have at least 32 bytes")
	}
	return &RefreshSecrets{key: append([]byte(nil), key...)}, nil
}

// New returns a fresh random refresh token (256 bits, base64url).
func (r *RefreshSecrets) New() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate refresh token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Successor returns the token that replaces presented on rotation.
func (r *RefreshSecrets) Successor(presented string) string {
	mac := hmac.New(sha256.New, r.key)
	mac.Write([]byte("shopauth refresh successor\x00"))
	mac.Write([]byte(presented))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// HashToken is the stored form of an opaque token: lowercase hex SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sealInfo separates the seal's key from every other use of a token.
const sealInfo = "shopauth refresh successor seal v1"

// Seal encrypts successor under a key derived from predecessor (HKDF-SHA256,
// then AES-256-GCM), bound to the successor's stored hash: whoever presents
// the predecessor can open it, and nobody else, the database's reader
// included.
func (r *RefreshSecrets) Seal(predecessor, successor string) ([]byte, error) {
	aead, err := sealCipher(predecessor)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(successor)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal successor: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(successor), []byte(HashToken(successor))), nil
}

// ErrSealMismatch is returned by Open for a seal the presented token does
// not open, or that holds another token than the one it is stored for.
var ErrSealMismatch = errors.New("tokens: the presented token does not open the successor's seal")

// Open returns the successor sealed by Seal(predecessor, …), which must
// hash to successorHash.
func (r *RefreshSecrets) Open(predecessor string, seal []byte, successorHash string) (string, error) {
	aead, err := sealCipher(predecessor)
	if err != nil {
		return "", err
	}
	if len(seal) < aead.NonceSize() {
		return "", ErrSealMismatch
	}
	plain, err := aead.Open(nil, seal[:aead.NonceSize()], seal[aead.NonceSize():], []byte(successorHash))
	if err != nil || HashToken(string(plain)) != successorHash {
		return "", ErrSealMismatch
	}
	return string(plain), nil
}

func sealCipher(predecessor string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(predecessor), nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive seal key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
