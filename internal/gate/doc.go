// Package gate holds the callers of a code path at one point so a test can
// count how many are inside at once and let them out one by one: the
// measuring half of a concurrency bound's test (a hashing or signing slot).
//
// Pair it with testing/synctest: after synctest.Wait every caller is either
// held by the gate or blocked before it, so Inside is exact, not a guess
// from timing.
package gate
