// Package authorize is the core of the browser flows: the authorization
// endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) with the hosted login and
// consent pages and their browser sessions, and RP-initiated logout. It
// issues authorization codes; the token endpoint redeems them
// (grants.AuthorizationCode).
package authorize
