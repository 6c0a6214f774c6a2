// Package customers authenticates a shop's customers: password hashing and
// verification, e-mail normalisation, and the account checks (verified,
// disabled) that decide whether a correct password may sign in.
package customers
