// Package tlsreload serves a TLS certificate and key from two files and
// takes up any change of their content while the server runs — a renewal
// as well as a restore with old modification times — but never a pair
// caught half-written: the previous certificate is served until the new
// content has stayed the same for a whole check interval and parses as a
// matching pair.
package tlsreload
