// Package clients holds OAuth client policy: client authentication (the
// one step every client-facing endpoint takes first), secret hashing and
// constant-time verification, and the grant and scope allow-lists.
package clients
