// Package ratelimit limits login attempts per client IP address: a token
// bucket per address (golang.org/x/time/rate, the Go team's limiter), kept
// in a bounded LRU (hashicorp/golang-lru/v2) so a flood of distinct
// addresses cannot grow memory. Limits are per replica; the per-account
// lockout in storage is what all replicas share.
package ratelimit
