// Package keys owns shopauth's token signing keys: RSA key generation,
// encryption of private keys at rest under the key encryption key (KEK),
// the choice of the current signing key and the published set, the JWKS
// document, and signing and verifying compact JWS.
package keys
