// Package keys owns shopauth's token signing keys: key generation (RS256
// always, ES256 and EdDSA when enabled), encryption of private keys at rest
// under the key encryption key (KEK), the rotation schedule that takes
// every key through next → current → retired → gone on any number of
// replicas sharing one database, the JWKS document and its cache lifetime,
// and signing and verifying compact JWS.
//
// go-jose (github.com/go-jose/go-jose/v4) does the JOSE work: it is what
// the Go OIDC libraries (go-oidc, Dex, Fosite) build on.
package keys
