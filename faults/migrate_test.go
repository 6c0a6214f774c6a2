package faults_test

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMigrateThroughEveryGaleraNode: six `shopauth migrate` processes, two
// per node of the cluster, started together on a new database, all exit
// 0 and every schema version is recorded once. GET_LOCK is local to a
// Galera node (two nodes both hold it), so with it alone migrators on two
// nodes ran a step together and one failed (Duplicate entry in
// schema_migrations, Table already exists); the lock row of
// storage/sqlstore/migrate_lock.go is certified cluster-wide.
func TestMigrateThroughEveryGaleraNode(t *testing.T) {
	dsns := strings.Split(needs(t, envGalera), ",")
	require.Len(t, dsns, 3)
	const name = "faults_migrate"
	firstURL, db := database(t, dsns[0], name)
	urls := []string{firstURL}
	for _, dsn := range dsns[1:] {
		urls = append(urls, "mysql://"+strings.Replace(dsn, ")/", ")/"+name, 1))
	}
	outs := make([][]byte, 2*len(urls))
	errs := make([]error, len(outs))
	race(len(outs), func(i int) {
		cmd := exec.Command(bin, "migrate")
		cmd.Env = replicaEnv(urls[i%len(urls)])
		outs[i], errs[i] = cmd.CombinedOutput()
	})
	for i := range outs {
		require.NoError(t, errs[i], "migrator %d: %s", i, outs[i])
	}
	var versions, distinct int
	require.NoError(t, db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations").Scan(&versions, &distinct))
	require.Equal(t, distinct, versions)
	total := 0
	for i, out := range outs {
		m := regexp.MustCompile(`applied (\d+) migration`).FindSubmatch(out)
		require.Len(t, m, 2, "migrator %d: %s", i, out)
		n, err := strconv.Atoi(string(m[1]))
		require.NoError(t, err)
		total += n
	}
	require.Equal(t, versions, total, "each version applied by exactly one migrator")
}
