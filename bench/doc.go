// Package bench is shopauth's load generator: it drives workloads with a
// fixed number of concurrent workers for a fixed time and reports
// throughput, latency percentiles and errors by status.
//
// It speaks only HTTP to the server (Target) and imports nothing of it, so
// it measures a running server exactly as a client would. Ceilings — the
// machine's own limits, such as password hashes or RSA signatures per
// second — are workloads too: package main builds them from the server's
// packages and runs them through the same Run with the same parallelism.
package bench
