// Package racer starts goroutines at one instant behind a start barrier,
// for tests of a concurrency claim: of many callers at once exactly one
// wins, or none breaks a bound. Without the barrier the goroutines start
// one after another and a check-then-write race is rarely hit.
package racer
