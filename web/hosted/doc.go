// Package hosted serves the pages shopauth shows to customers' browsers:
// the authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1), the hosted
// login and consent pages, and RP-initiated logout. Pages are server-side
// html/template with assets embedded in the binary and need no JavaScript;
// every decision is the core's (server/authorize: Endpoint.Authorize,
// Login, Consent; Logout.EndSession).
package hosted
