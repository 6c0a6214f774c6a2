package server

import "github.com/shopauth/shopauth/storage"

// ClientCredentials is how a client presented itself at the token,
// revocation or introspection endpoint (RFC 6749 §2.3).
type ClientCredentials struct {
	ID     string
	Secret string
	Method string // ClientAuthBasic, ClientAuthPost or ClientAuthNone
}

// TokenRequest is a grant request in the core's terms, whatever dialect it
// arrived in. Empty strings mean absent.
type TokenRequest struct {
	GrantType    string
	Client       ClientCredentials
	Username     string
	Password     string
	RefreshToken string
	Scope        string
	// Code, RedirectURI and CodeVerifier are the authorization_code grant's
	// (RFC 6749 §4.1.3, RFC 7636 §4.5).
	Code         string
	RedirectURI  string
	CodeVerifier string
	// Nonce is echoed into the ID token (OIDC Core §2, §15.1).
	Nonce string
	// ShopKey names the shop for clients that serve several (the shopKey
	// adapter); a shop-bound client rejects any other shop.
	ShopKey string
	// ClientIP is the caller's address as the dialect determined it (gin's
	// ClientIP, which believes X-Forwarded-For only from trusted proxies).
	// Login rate limits are keyed by it; empty means unknown and shares one
	// bucket.
	ClientIP string
	// Dialect names the surface the request arrived on (DialectOAuth2,
	// DialectSpryker, DialectShopKey), for metrics only.
	Dialect string
}

// TokenResponse is a successful grant (RFC 6749 §5.1) plus what the legacy
// dialects echo about the customer.
type TokenResponse struct {
	AccessToken  string
	TokenType    string
	ExpiresIn    int64
	RefreshToken string
	Scope        string
	IDToken      string // set when the granted scope has openid (OIDC Core §3.1.3.3)
	Customer     storage.Customer
	Client       storage.Client
}

// TokenQuery is a client's request about one token: revoke it (RFC 7009
// §2.1) or introspect it (RFC 7662 §2.1). Empty strings mean absent.
type TokenQuery struct {
	Client        ClientCredentials
	Token         string
	TokenTypeHint string // TokenTypeHintAccessToken or TokenTypeHintRefreshToken; anything else is ignored
}

// LookupOrder is the order in which token kinds are searched: the hinted
// kind first, then the other (RFC 7009 §2.1, RFC 7662 §2.1). An unknown
// hint is ignored rather than refused.
func LookupOrder(hint string) []string {
	if hint == TokenTypeHintRefreshToken {
		return []string{TokenTypeHintRefreshToken, TokenTypeHintAccessToken}
	}
	return []string{TokenTypeHintAccessToken, TokenTypeHintRefreshToken}
}
