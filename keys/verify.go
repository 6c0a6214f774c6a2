package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Verify errors; every error from Verify wraps exactly one of them.
var (
	// ErrMalformed: not a compact JWS, an algorithm other than RS256,
	// ES256 and EdDSA (including "none" and HS256), no kid header, or a
	// non-string typ.
	ErrMalformed = errors.New("malformed token")
	// ErrUnknownKey: the kid names no published key.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrInvalidSignature: the signature does not verify under the key.
	ErrInvalidSignature = errors.New("invalid token signature")
)

// maxTokenBytes bounds the work an attacker can ask of the parser; our
// tokens are a few hundred bytes to a couple of KB.
const maxTokenBytes = 16 << 10

// verifiedCacheSize bounds the tokens Verify remembers: a few MB.
const verifiedCacheSize = 4096

// Verified is a token whose signature checked out.
type Verified struct {
	Payload []byte
	KID     string
	// Typ is the protected "typ" header, "" when absent. RFC 9068 §4: a
	// resource server must accept only "at+jwt" (or "application/at+jwt")
	// so an ID token is not taken for an access token.
	Typ string
}

// Verify checks a compact JWS signed by one of the published keys (so a
// token from a retired key still verifies until the key leaves the JWKS)
// and returns its payload. It checks no claims: exp, iss, aud and typ are
// the caller's policy.
//
// A kid this replica does not know may belong to a key another replica
// has just created (`keys rotate --now`) and this one has not synced yet:
// Verify then reloads the keys once and tries again, so such a token is
// never refused (Must hold 2). Reloads of this kind are rate limited
// (UnknownKeyReloadInterval), so garbage kids cannot hammer the database.
func (m *Manager) Verify(token string) (Verified, error) {
	v, err := m.verify(token)
	if errors.Is(err, ErrUnknownKey) && m.reloadForUnknownKey() {
		v, err = m.verify(token)
	}
	return v, err
}

// reloadForUnknownKey reloads the keys unless a reload for an unknown kid
// started less than UnknownKeyReloadInterval ago; then it only waits for a
// reload in flight (another request may have met the same new kid). It
// reports whether a retry may find new keys.
func (m *Manager) reloadForUnknownKey() bool {
	m.unknownKeyMu.Lock()
	now := m.now()
	if !m.lastUnknownKeyReload.IsZero() && now.Sub(m.lastUnknownKeyReload) < m.unknownKeyReloadInterval {
		m.unknownKeyMu.Unlock()
		m.reloadMu.Lock() // wait for a reload in flight, if any
		m.reloadMu.Unlock()
		return true
	}
	m.lastUnknownKeyReload = now
	m.unknownKeyMu.Unlock()
	// Verify has no context: the reload is bounded on its own.
	ctx, cancel := context.WithTimeout(context.Background(), unknownKeyReloadTimeout)
	defer cancel()
	if err := m.Reload(ctx); err != nil {
		m.log.Error("reload signing keys for an unknown kid", "err", err)
		return false
	}
	return true
}

// unknownKeyReloadTimeout bounds a reload made inside Verify.
const unknownKeyReloadTimeout = 5 * time.Second

// verify checks token against the published keys. A token that verified
// before is taken from the cache as long as its key is still published:
// storefronts and resource servers present the same access token on every
// call, and the RSA check and JOSE parse were a quarter of an
// introspection's CPU. The cache is keyed by the whole token, so a hit is
// the very bytes that verified; the kid is a thumbprint of its public key
// (RFC 7638), so a published kid is the same key; only successes are kept,
// in a bounded LRU. Time claims are the caller's and are checked every
// time. The payload is shared: callers must not modify it.
func (m *Manager) verify(token string) (Verified, error) {
	if v, ok := m.verified.Get(token); ok {
		if m.view().verifier[v.KID] != nil {
			return v, nil
		}
		m.verified.Remove(token) // its key was removed: verify afresh, and fail
	}
	v, err := m.verifyJWS(token)
	if err == nil {
		m.verified.Add(token, v)
	}
	return v, err
}

func (m *Manager) verifyJWS(token string) (Verified, error) {
	if len(token) > maxTokenBytes {
		return Verified{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxTokenBytes)
	}
	// Compact only: tokens travel in headers and form fields, and the JSON
	// serialization would admit unprotected headers and several signatures.
	// (jose.ParseSigned, which accepts both, is deprecated in go-jose v4.)
	// The algorithm list is explicit (the asymmetric ones keys are made
	// for) so that "none" and HMAC (the classic "RS256 public key used as
	// HS256 secret" confusion) are refused at parse time, before any key is
	// chosen. The token's alg must then be its key's own.
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return Verified{}, fmt.Errorf("%w: want one signature, got %d", ErrMalformed, len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if h.KeyID == "" {
		return Verified{}, fmt.Errorf("%w: no kid header", ErrMalformed)
	}
	var typ string
	if v, ok := h.ExtraHeaders[jose.HeaderType]; ok {
		if typ, ok = v.(string); !ok {
			return Verified{}, fmt.Errorf("%w: typ header is not a string", ErrMalformed)
		}
	}
	mat := m.view().verifier[h.KeyID]
	if mat == nil {
		return Verified{}, fmt.Errorf("%w: kid %q", ErrUnknownKey, h.KeyID)
	}
	if jose.SignatureAlgorithm(h.Algorithm) != mat.alg {
		return Verified{}, fmt.Errorf("%w: alg %s for a %s key", ErrInvalidSignature, h.Algorithm, mat.alg)
	}
	// Verify with the bare public key: an embedded "jwk" or "x5c" header is
	// never trusted.
	payload, err := jws.Verify(mat.pub)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	return Verified{Payload: payload, KID: h.KeyID, Typ: typ}, nil
}
