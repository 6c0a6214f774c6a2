// Package demo serves the pages `serve --demo` adds, and production never
// mounts: /demo, an app of the demo shop that signs its customers in with
// the hosted pages (authorization code + PKCE), shows who signed in and
// links to the account pages (docs/accounts.md).
package demo
