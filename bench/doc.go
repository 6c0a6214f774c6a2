// Package bench is shopauth's load generator and the `shopauth bench`
// harness: it drives workloads with a fixed number of concurrent workers
// for a fixed time and reports throughput, latency percentiles and errors
// by status.
//
// The load generator (run.go, http.go, report.go) speaks only HTTP to the
// server (Target), so it measures a running server exactly as a client
// would. Measure (command.go) sets the stage: it starts shopauth in-process
// through package app, or opens the database of a running one (--target),
// seeds the bench's customers and client, and builds the ceilings — the
// machine's own limits, such as password hashes or RSA signatures per
// second — from the server's packages; they run through the same Run with
// the same parallelism.
package bench
