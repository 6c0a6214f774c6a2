package server

import "time"

// Scopes with a meaning to the server itself.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// Client authentication methods (RFC 8414 §2 registry names).
const (
	ClientAuthBasic = "client_secret_basic"
	ClientAuthPost  = "client_secret_post"
	ClientAuthNone  = "none"
)

// SupportedGrantTypes lists the grants the token endpoint accepts, in the
// order discovery advertises them.
func SupportedGrantTypes() []string {
	return []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantPassword}
}

// SupportedClientAuthMethods lists the token endpoint's client
// authentication methods, in the order discovery advertises them.
func SupportedClientAuthMethods() []string {
	return []string{ClientAuthBasic, ClientAuthPost, ClientAuthNone}
}

// Dialects a TokenRequest can arrive in, for metrics. Each legacy adapter
// sets its own; the standard token endpoint sets DialectOAuth2.
const (
	DialectOAuth2  = "oauth2"
	DialectSpryker = "spryker"
	DialectShopKey = "shopkey"
)

// Token type hints (RFC 7009 §2.1, RFC 7662 §2.1): which kind of token the
// caller believes it presents. Only a hint: a miss searches the other kind.
const (
	TokenTypeHintAccessToken  = "access_token"
	TokenTypeHintRefreshToken = "refresh_token"
)

// IntrospectionAuthMethods lists how callers of the introspection endpoint
// authenticate: confidential clients only (RFC 7662 §2.1).
func IntrospectionAuthMethods() []string { return []string{ClientAuthBasic, ClientAuthPost} }

// SupportedClaims lists the claims ID tokens and UserInfo may carry, in the
// order discovery advertises them (OIDC Discovery §3 claims_supported).
func SupportedClaims() []string {
	return []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name", "shop"}
}

// CodeTTL is how long an authorization code can be redeemed: FAPI 2.0's
// 60 s, well under RFC 6749 §4.1.2's 10 minutes.
const CodeTTL = 60 * time.Second

// MaxPasswordBytes bounds a customer's password: the hashing work one
// request can ask for. Dialects refuse longer ones in their own words.
const MaxPasswordBytes = 1024
