// Package refusal is the core's one classification of why it says no: a
// Kind (BadCredentials, NotVerified, Throttled, Unavailable, InvalidToken,
// …) with, where it matters, when to try again. The core returns these;
// each dialect has one table from Kind to its wire form (web/oauthjson.go
// through oautherr.From, web/spryker, web/shopkey, web/hosted). Anything
// that is not a refusal is a fault: logged once at the edge, answered 500.
package refusal
