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
// Verify then waits for a reload that starts after it met the kid, and
// tries again, so such a token is refused only when the store cannot
// answer. Those reloads are coalesced (rounds): however many garbage
// kids arrive, the store sees one reload at a time, and a genuine kid
// waits at most for the reload in flight plus its own. A kid a reload
// did not find is refused without another for UnknownKeyReloadInterval.
func (m *Manager) Verify(token string) (Verified, error) {
	v, err := m.verify(token)
	var unknown *unknownKIDError
	if errors.As(err, &unknown) && m.reloadForUnknownKey(unknown.kid) {
		v, err = m.verify(token)
	}
	return v, err
}

// unknownKIDError is ErrUnknownKey naming the kid.
type unknownKIDError struct{ kid string }

func (e *unknownKIDError) Error() string { return fmt.Sprintf("%v: kid %q", ErrUnknownKey, e.kid) }
func (e *unknownKIDError) Unwrap() error { return ErrUnknownKey }

// reloadForUnknownKey joins the next reload round, unless a round that
// started after kid was last met found no such key less than
// UnknownKeyReloadInterval ago. It reports whether a retry may find kid.
func (m *Manager) reloadForUnknownKey(kid string) bool {
	if at, ok := m.absentKIDs.Get(kid); ok && m.now().Sub(at) < m.unknownKeyReloadInterval {
		return false
	}
	err := m.unknownKIDRounds.do(func() error {
		// Verify has no context: the reload is bounded on its own.
		ctx, cancel := context.WithTimeout(context.Background(), unknownKeyReloadTimeout)
		defer cancel()
		err := m.Reload(ctx)
		if err != nil {
			m.log.Error("reload signing keys for an unknown kid", "err", err)
		}
		return err
	})
	if err != nil {
		return false
	}
	// The round started after the token arrived, and a key is stored
	// before anything is signed with it: a kid still unknown is garbage
	// (or a removed key's). Thumbprint kids are 43 bytes; longer ones are
	// not worth the memory.
	if m.view().verifier[kid] == nil && len(kid) <= maxRememberedKID {
		m.absentKIDs.Add(kid, m.now())
	}
	return true
}

// maxRememberedKID bounds the kids absentKIDs keeps.
const maxRememberedKID = 64

// absentKIDsSize bounds how many absent kids are remembered.
const absentKIDsSize = 1024

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
		return Verified{}, &unknownKIDError{kid: h.KeyID}
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
