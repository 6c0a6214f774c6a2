// Package attack is the standing adversarial suite: black-box tests that
// attack the server over HTTP (through e2e/harness) the way an outside
// reviewer did, one file per hole, named by the hole (ratelimit_test.go,
// csrf_test.go, …). Each test names the defect it catches; a test that
// fails here means a security promise of docs/security.md broke. Tests
// touching storage run on SQLite, and on MySQL when
// SHOPAUTH_TEST_MYSQL_DSN is set. Timing is measured by benchmarks only
// (login_timing_bench_test.go).
package attack
