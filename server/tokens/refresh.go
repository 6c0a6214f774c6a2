package tokens

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// RefreshSecrets makes refresh tokens. A family's first token is random; each
// successor is HMAC(key, predecessor), so a client that retries a rotation
// with the token it just spent can be given the same successor again without
// any refresh token ever being stored in plaintext (only SHA-256 hashes are).
// The key must be equal on every replica (it is derived from the key
// encryption key).
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
