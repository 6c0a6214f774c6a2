// Package spryker is the Spryker Glue dialect (docs/spryker.md): the JSON:API
// routes POST /access-tokens, POST /refresh-tokens, DELETE
// /refresh-tokens/{refreshToken|mine} and Spryker's OAuth form endpoint
// POST /token, as a Spryker storefront or app sends and expects them.
//
// It only translates: each request becomes a password or refresh_token grant
// of the configured client, run by the same server.Authority (and so the same
// go-oauth2 server) as /oauth2/token, and the answer is written back in
// Spryker's words. Rotation, reuse detection, lockout and hashing are the
// core's. The JSON decoder is hand-checked rather than bound with gin: member
// names are case-sensitive, duplicate members are refused, and every way a
// body can be wrong maps to one of the documented JSON:API errors.
package spryker
