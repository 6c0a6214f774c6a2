// Package faults is shopauth's fault suite (its tests only): real replica
// processes against a MariaDB that is killed, frozen and restarted, a
// three-node Galera cluster on loopback, and SQLite on a filesystem that
// fills up. `faults/run` prepares the databases and runs it; plain
// `go test ./...` skips it. See docs/operations.md, "Faults and recovery".
package faults
