// Package login is the one password check of every login surface (the
// password grant, which both legacy dialects use, and the hosted login
// page): the per-address rate limit first, before any hashing, then the
// customer's password, answered as refusals.
package login
