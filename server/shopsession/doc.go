// Package shopsession is the core of the shopKey dialect's sessions, which
// have access tokens and no refresh tokens: it resolves a path's shop,
// checks an access token for that shop, loads its customer, renews the
// token (exchange) and ends it (logout).
package shopsession
