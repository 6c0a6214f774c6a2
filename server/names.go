package server

// Grant types (RFC 6749 §4) shopauth implements.
const (
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
)

// ResponseTypeCode is the one response type of the authorization endpoint
// (RFC 6749 §4.1.1).
const ResponseTypeCode = "code"

// PKCEMethodS256 is the one PKCE method accepted (RFC 7636 §4.2): "plain"
// would let a stolen challenge redeem the code.
const PKCEMethodS256 = "S256"

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
