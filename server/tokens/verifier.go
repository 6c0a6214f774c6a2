package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/keys"
)

// ErrInvalidToken is returned for any access token that must not be
// honoured: malformed, foreign-signed, expired, not yet valid, of another
// issuer or type, or revoked.
var ErrInvalidToken = errors.New("tokens: invalid access token")

// KeySet verifies a compact JWS against the published keys.
type KeySet interface {
	Verify(token string) (keys.Verified, error)
}

// RevocationList answers whether an access token's jti was revoked.
type RevocationList interface {
	IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error)
}

// Verifier checks access tokens the way a careful resource server would,
// plus the revocation list only the authorization server can see.
type Verifier struct {
	issuer  string
	keys    KeySet
	revoked RevocationList
	now     func() time.Time
	leeway  time.Duration
}

// NewVerifier returns a Verifier. leeway absorbs clock skew between replicas.
func NewVerifier(issuer string, keys KeySet, revoked RevocationList, now func() time.Time, leeway time.Duration) (*Verifier, error) {
	if issuer == "" || keys == nil || revoked == nil {
		return nil, errors.New("tokens: issuer, key set and revocation list are required")
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{issuer: issuer, keys: keys, revoked: revoked, now: now, leeway: leeway}, nil
}

// VerifyAccessToken returns the claims of a live access token.
func (v *Verifier) VerifyAccessToken(ctx context.Context, raw string) (AccessClaims, error) {
	c, err := v.ParseAccessToken(raw)
	if err != nil {
		return AccessClaims{}, err
	}
	if err := v.CheckRevocation(ctx, c.JTI); err != nil {
		return AccessClaims{}, err
	}
	return c, nil
}

// CheckRevocation returns ErrInvalidToken when jti was revoked.
func (v *Verifier) CheckRevocation(ctx context.Context, jti string) error {
	revoked, err := v.revoked.IsAccessTokenRevoked(ctx, jti)
	if err != nil {
		return fmt.Errorf("check revocation: %w", err)
	}
	if revoked {
		return fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	return nil
}

// ParseAccessToken checks signature, type, issuer and time claims, but not
// the revocation list.
func (v *Verifier) ParseAccessToken(raw string) (AccessClaims, error) {
	return v.parse(raw, v.leeway)
}

// ParseRevocableAccessToken is ParseAccessToken for a token to revoke: it
// takes the token until no verifier anywhere accepts it any more, exp plus
// the leeway by a clock up to the leeway (the tolerated skew) behind this
// one's. A token refused here is refused everywhere, so revoking it would
// change nothing; a token ParseAccessToken already finds expired may still
// verify on a replica whose clock lags.
func (v *Verifier) ParseRevocableAccessToken(raw string) (AccessClaims, error) {
	return v.parse(raw, 2*v.leeway)
}

func (v *Verifier) parse(raw string, leeway time.Duration) (AccessClaims, error) {
	verified, err := v.keys.Verify(raw)
	payload, typ := verified.Payload, verified.Typ
	if err != nil {
		return AccessClaims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	// RFC 9068 §4: reject JWTs of other types (ID tokens) as access tokens.
	if typ != TypeAccessToken && typ != "application/"+TypeAccessToken {
		return AccessClaims{}, fmt.Errorf("%w: typ %q", ErrInvalidToken, typ)
	}
	var c AccessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return AccessClaims{}, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	now := v.now()
	switch {
	case c.Issuer != v.issuer:
		return AccessClaims{}, fmt.Errorf("%w: issuer", ErrInvalidToken)
	case c.ExpiresAt == 0 || now.After(time.Unix(c.ExpiresAt, 0).Add(leeway)):
		return AccessClaims{}, fmt.Errorf("%w: expired", ErrInvalidToken)
	case c.NotBefore != 0 && now.Add(v.leeway).Before(time.Unix(c.NotBefore, 0)):
		return AccessClaims{}, fmt.Errorf("%w: not yet valid", ErrInvalidToken)
	case c.JTI == "":
		return AccessClaims{}, fmt.Errorf("%w: no jti", ErrInvalidToken)
	}
	return c, nil
}
