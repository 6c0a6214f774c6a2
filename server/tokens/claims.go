package tokens

import (
	"encoding/json"
	"strconv"
)

// Token profiles: how the claims of an access token are shaped.
const (
	ProfileRFC9068 = "rfc9068"
	// ProfileSpryker shapes claims for Spryker's Glue resource side, which
	// reads `sub` as a JSON-encoded string and scopes as an array.
	ProfileSpryker = "spryker"
)

// Header `typ` values (RFC 9068 §2.1; RFC 7519 §5.1).
const (
	TypeAccessToken = "at+jwt"
	TypeIDToken     = "JWT"
)

// AccessClaims are the claims of an access token (RFC 9068 §2.2 plus the
// shop claims of docs/oauth.md, "Tokens").
type AccessClaims struct {
	Issuer            string   `json:"iss"`
	Subject           string   `json:"sub"`
	Audience          Audience `json:"aud"`
	ExpiresAt         int64    `json:"exp"`
	IssuedAt          int64    `json:"iat"`
	NotBefore         int64    `json:"nbf"`
	JTI               string   `json:"jti"`
	ClientID          string   `json:"client_id"`
	Scope             string   `json:"scope,omitempty"`
	AuthTime          int64    `json:"auth_time,omitempty"`
	Shop              string   `json:"shop,omitempty"`
	CustomerReference string   `json:"customer_reference,omitempty"`
	CompanyUserID     string   `json:"id_company_user,omitempty"`
	// Scopes is only set for the Spryker profile.
	Scopes []string `json:"scopes,omitempty"`
}

// CustomerID returns the customer id of a customer's token, whatever the
// profile: the decimal `sub`, or `id_customer` inside Spryker's JSON `sub`.
func (c AccessClaims) CustomerID() (uint64, bool) {
	if id, err := strconv.ParseUint(c.Subject, 10, 64); err == nil {
		return id, true
	}
	var s sprykerSubject
	if json.Unmarshal([]byte(c.Subject), &s) == nil && s.CustomerID != 0 {
		return s.CustomerID, true
	}
	return 0, false
}

// sprykerSubject is the JSON object Spryker encodes into `sub`.
type sprykerSubject struct {
	CompanyUserID     *string `json:"id_company_user"`
	AgentID           *int64  `json:"id_agent"`
	CustomerReference string  `json:"customer_reference"`
	CustomerID        uint64  `json:"id_customer"`
}

// Audience is the `aud` claim: one string, or an array of them (RFC 7519
// §4.1.3). It is written as a string when it has one member.
type Audience []string

// MarshalJSON writes a single audience as a plain string.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON reads a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// Contains reports whether aud names s.
func (a Audience) Contains(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}
