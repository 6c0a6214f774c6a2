// Package tokens mints and verifies shopauth's tokens: RFC 9068 JWT access
// tokens (as go-oauth2's AccessGenerate), and opaque refresh tokens whose
// successors are derived, so a retried rotation returns the same one.
package tokens
