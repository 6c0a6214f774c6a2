package tokens

import (
	"encoding/json"
	"errors"
	"fmt"
)

// UserClaims are the claims about the customer that the ID token and the
// UserInfo response share (OIDC Core §5.1). Which of them are set depends on
// the granted scopes (OIDC Core §5.4); unset ones are omitted, never null.
type UserClaims struct {
	Subject       string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	// Shop is the customer's shop key: a customer exists only within one.
	Shop string `json:"shop,omitempty"`
}

// IDClaims are the claims of an ID token (OIDC Core §2).
type IDClaims struct {
	Issuer    string   `json:"iss"`
	Audience  Audience `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	Nonce     string   `json:"nonce,omitempty"`
	UserClaims
}

// IDToken signs an ID token with the current key of alg (the client's
// IDTokenAlg; "" means RS256), with `kid` and `typ: JWT`. The issuer is the
// Minter's; every other claim is the caller's.
func (m *Minter) IDToken(alg string, c IDClaims) (string, error) {
	if c.Subject == "" || len(c.Audience) == 0 || c.ExpiresAt == 0 || c.IssuedAt == 0 {
		return "", errors.New("tokens: an ID token needs sub, aud, exp and iat")
	}
	c.Issuer = m.issuer
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode ID token claims: %w", err)
	}
	token, err := m.signer.SignWith(alg, payload, TypeIDToken)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return token, nil
}
