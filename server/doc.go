// Package server is shopauth's authorization core, free of HTTP types. The
// root package holds the vocabulary every dialect speaks (grant types,
// scopes, TokenRequest, TokenResponse); each flow is a service in its own
// sub-package with its own Config. This is the map.
//
// # Token endpoint: POST /oauth2/token, and the legacy logins and refreshes
//
//	web/token.go, web/spryker, web/shopkey
//	  → grants.Endpoint.Token / AdapterToken           grants/endpoint.go
//	      1. grant_type known                          Endpoint.grant
//	      2. client authenticated (RFC 6749 §2.3)      clients.Authenticator (clients/authenticate.go)
//	      3. grant on the client's allow-list          Endpoint.token
//	      4. the grant's Run:
//	         password            grants/password.go   first-party only; login.Checker (rate limit, then
//	                                                  password, customers.Authenticator); Families.CreateRefreshToken
//	         refresh_token       grants/refresh.go    RefreshPolicy.Judge (policy.go); Store.RotateRefreshToken,
//	                                                  a retry within the grace: successor opened from its seal,
//	                                                  Store.AttachAccessToken (atomic with the family being live);
//	                                                  reuse: Store.RevokeRefreshFamily
//	         authorization_code  grants/authorization_code.go  Codes.RedeemAuthorizationCode (replay:
//	                                                  RevokeAuthorizationCode), codeMatches (redirect URI, PKCE),
//	                                                  Codes.IssueCodeTokens
//	         client_credentials  grants/client_credentials.go  confidential, non-numeric id, no customer scopes
//	      every access and ID token: tokens.Minter.Mint (tokens/minter.go)
//	      every refresh-token row:   RefreshPolicy.Row (grants/policy.go)
//	      refresh-token secrets:     tokens.RefreshSecrets (tokens/refresh.go)
//
// # Other endpoints
//
//	POST /oauth2/revoke          revocation.Endpoint          revocation/endpoint.go
//	DELETE /refresh-tokens/…     revocation.Customer          revocation/customer.go (Spryker)
//	POST /oauth2/introspect      introspection.Endpoint       introspection/introspection.go
//	GET|POST /userinfo           userinfo.Endpoint            userinfo/userinfo.go
//	/oauth2/authorize, /login,   authorize.Endpoint           authorize/authorize.go: validate (redirect URI exact,
//	/consent                                                  PKCE S256), session, consent, issueCode
//	/oauth2/logout               authorize.Logout             authorize/logout.go (ends the session's families)
//	/api/v1/{shop}/customers/…   shopsession.Sessions         shopsession/shopsession.go (shop, token, exchange,
//	                                                          logout ends the token's family)
//	every customer-facing route  customertoken.Checker        customertoken/customertoken.go: the dialect's client
//	(shopKey, Glue)                                           or one configured for it (aud), scope customer, the shop
//	/admin/v1/…                  admin.Service                admin/ (shops, customers, clients, consents,
//	(and the admin CLI)                                       keys, audit; one set of rules, every change
//	                                                          audited in its own transaction; docs/admin.md)
//	(background)                 Sweeper                      sweeper.go
//
// Access tokens are checked by tokens.Verifier (signature, typ, iss, time
// claims, revocation list); a token's customer must still be allowed in
// (customers.Live).
//
// # Refusals
//
// The core says no with a refusal.Error (refusal/refusal.go): BadCredentials,
// NotVerified, Throttled and Unavailable with a retry-after, InvalidGrant,
// InvalidToken, … Anything else is a fault. storage.ErrUnavailable is
// classified Unavailable wherever it surfaces. Each dialect has one table to
// its wire: oautherr.From (OAuth JSON, Bearer challenges, the authorization
// endpoint's redirects), web/spryker problemOf and formGrantError,
// web/shopkey fail, web/hosted problemPage.
//
// # Storage
//
// The store contract is storage.Store (storage/store.go); each service
// declares the few methods it uses next to its code. Every state change
// that must be atomic is one storage operation.
//
// go-oauth2 supplies only the vocabulary constants and the S256 transform
// (goauth2.go); docs/go-oauth2.md says why not more.
package server
