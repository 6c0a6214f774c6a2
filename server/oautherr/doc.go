// Package oautherr is the OAuth dialect's wire form of a refusal: the RFC
// 6749 §5.2 error type, its predeclared values, and the one table (From)
// from the core's refusal kinds to codes, statuses and Retry-After, read by
// the token endpoint's JSON, the Bearer challenges and the authorization
// endpoint's redirects. The cause of an error is never sent to the caller.
package oautherr
