package tokens

import (
	"encoding/json"
	"fmt"
)

// IDTokenHint is what an id_token_hint tells about the session it names.
type IDTokenHint struct {
	Subject  string
	Audience Audience
}

// ParseIDTokenHint checks that raw is an ID token this issuer signed: the
// signature with a published key, `typ` and `iss`. Expiry is not checked:
// RP-Initiated Logout §2 lets a relying party name a session with an
// expired ID token.
func (v *Verifier) ParseIDTokenHint(raw string) (IDTokenHint, error) {
	verified, err := v.keys.Verify(raw)
	if err != nil {
		return IDTokenHint{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if verified.Typ != TypeIDToken {
		return IDTokenHint{}, fmt.Errorf("%w: typ %q", ErrInvalidToken, verified.Typ)
	}
	var c struct {
		Issuer   string   `json:"iss"`
		Subject  string   `json:"sub"`
		Audience Audience `json:"aud"`
	}
	if err := json.Unmarshal(verified.Payload, &c); err != nil {
		return IDTokenHint{}, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	if c.Issuer != v.issuer || c.Subject == "" || len(c.Audience) == 0 {
		return IDTokenHint{}, fmt.Errorf("%w: iss, sub or aud", ErrInvalidToken)
	}
	return IDTokenHint{Subject: c.Subject, Audience: c.Audience}, nil
}
