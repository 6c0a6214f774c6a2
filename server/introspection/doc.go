// Package introspection tells a confidential client whether a token is
// active (RFC 7662).
package introspection
