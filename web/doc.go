// Package web is shopauth's HTTP face (gin): the OAuth 2.0 / OIDC endpoints,
// discovery, JWKS, health, and the middleware every route shares. Handlers
// only translate: decode, call server/, encode. The legacy dialects live in
// web/spryker and web/shopkey.
package web
