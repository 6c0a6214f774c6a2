// Package server is shopauth's authorization core, free of HTTP types: it
// authenticates clients and customers, runs grants through go-oauth2's
// server with shopauth's own Manager, and mints, rotates and verifies
// tokens. Every dialect (the OAuth endpoints and both legacy adapters) calls
// the same Authority.Token, so there is one path that issues tokens.
package server
