package clients

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// Info is a client registration with the policy questions the core asks
// of it.
type Info struct {
	storage.Client
}

// IsPublic reports whether the client has no secret.
func (c *Info) IsPublic() bool { return c.Public }

// VerifyPassword compares secret with the stored hash in constant time.
func (c *Info) VerifyPassword(secret string) bool {
	return VerifySecret(c.SecretHash, secret)
}

// AllowsGrant reports whether the client may use grantType.
func (c *Info) AllowsGrant(grantType string) bool {
	return slices.Contains(c.GrantTypes, grantType)
}

// AccessTTL is the client's access-token lifetime, or def when unset.
func (c *Info) AccessTTL(def time.Duration) time.Duration {
	if c.AccessTokenTTL > 0 {
		return c.AccessTokenTTL
	}
	return def
}

// RefreshTTL is the client's refresh-family lifetime, or def when unset.
func (c *Info) RefreshTTL(def time.Duration) time.Duration {
	if c.RefreshTokenTTL > 0 {
		return c.RefreshTokenTTL
	}
	return def
}

// GrantScope resolves a requested scope against the client's allow-list
// (RFC 6749 §3.3): an empty request gets every allowed scope; anything not
// allowed makes ok false.
func (c *Info) GrantScope(requested string) (granted []string, ok bool) {
	if strings.TrimSpace(requested) == "" {
		return slices.Clone(c.Scopes), true
	}
	return SubsetOf(requested, c.Scopes)
}

// SubsetOf parses a space-separated scope and reports whether each member
// is in allowed; the result is de-duplicated and keeps the request's order.
func SubsetOf(requested string, allowed []string) ([]string, bool) {
	var out []string
	for _, s := range strings.Fields(requested) {
		if !slices.Contains(allowed, s) {
			return nil, false
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, len(out) > 0
}

// HashSecret returns the stored form of a client secret. Secrets are
// generated with 256 bits of entropy, so a fast hash is enough; a slow one
// would cap token throughput for nothing.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// VerifySecret compares secret with a stored hash in constant time.
func VerifySecret(storedHash, secret string) bool {
	if storedHash == "" || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(strings.ToLower(storedHash))) == 1
}

// GenerateSecret returns a new 256-bit secret, base64url without padding.
func GenerateSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate client secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
