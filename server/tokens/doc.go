// Package tokens mints and verifies shopauth's tokens: RFC 9068 JWT access
// tokens and OIDC ID tokens (Minter.Mint, the one typed minting call), the
// Verifier every route checks access tokens with, and opaque refresh
// tokens whose successors are derived and sealed under their predecessor,
// so a retried rotation returns the same one on any replica.
package tokens
