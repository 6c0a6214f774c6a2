// Package harness is the one test harness of the end-to-end suites (e2e/)
// and the adversarial suite (attack/): the wired server on SQLite or MySQL
// with a fake clock (NewTestServer), clients of each dialect (OAuth token
// endpoint, Spryker Glue, shopKey), and `shopauth serve` replica processes
// on one database (StartReplica). Only tests import it.
package harness
