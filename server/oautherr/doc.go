// Package oautherr holds the RFC 6749 §5.2 error type and its predeclared
// values. Each dialect has exactly one writer that turns these into a
// response; the cause of an error is never sent to the caller.
package oautherr
