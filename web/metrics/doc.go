// Package metrics exposes shopauth's Prometheus metrics: request latency by
// route (a gin middleware), grant outcomes (a grants.Observer), and values
// read at scrape time (database pool, age of the signing key, the
// password-hashing queue). Everything registers on the registry the caller
// builds; the process-wide default registry is never touched.
//
// It uses github.com/prometheus/client_golang, the reference client: its
// exposition format, histograms and Go/process collectors are what every
// Prometheus server and dashboard expects.
package metrics
