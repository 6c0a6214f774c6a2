// Package revocation ends tokens: the revocation endpoint for clients
// (RFC 7009) and revocation on a customer's behalf (the Spryker dialect's
// DELETE /refresh-tokens routes).
package revocation
