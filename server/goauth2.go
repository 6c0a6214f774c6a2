package server

import "github.com/go-oauth2/oauth2/v4"

// This is the one file that uses go-oauth2 (github.com/go-oauth2/oauth2/v4,
// a mandated dependency): its vocabulary of grant and response types and
// PKCE methods, and its S256 transform. Its server, manager, stores, token
// generators, client-authentication handlers and errors are not used:
// docs/go-oauth2.md says which of its defects each would bring back.

// Grant types (RFC 6749 §4) shopauth implements.
const (
	GrantPassword          = string(oauth2.PasswordCredentials)
	GrantRefreshToken      = string(oauth2.Refreshing)
	GrantAuthorizationCode = string(oauth2.AuthorizationCode)
	GrantClientCredentials = string(oauth2.ClientCredentials)
)

// ResponseTypeCode is the one response type of the authorization endpoint
// (RFC 6749 §4.1.1).
const ResponseTypeCode = string(oauth2.Code)

// PKCEMethodS256 is the one PKCE method accepted (RFC 7636 §4.2): "plain"
// would let a stolen challenge redeem the code.
const PKCEMethodS256 = string(oauth2.CodeChallengeS256)

// VerifyPKCE checks a code verifier against the stored S256 challenge
// (RFC 7636 §4.6). The verifier's syntax is checked first (§4.1), which
// go-oauth2 does not do; the challenge was checked when it was stored.
func VerifyPKCE(challenge, verifier string) bool {
	return ValidPKCEValue(verifier) && oauth2.CodeChallengeS256.Validate(challenge, verifier)
}
