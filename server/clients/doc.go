// Package clients holds OAuth client policy: secret hashing and constant-time
// verification, grant and scope allow-lists, and the adapter that presents a
// storage.Client to go-oauth2 as its ClientInfo.
package clients
