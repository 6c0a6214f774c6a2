package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// testBcrypt is a PHP bcrypt hash of "rasmuslerdorf", as a legacy shop
// exports it.
const testBcrypt = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"

// BenchmarkImport100k imports 100,000 customers (hashes pre-made in the
// file, as exported by a legacy shop) into a fresh SQLite file, reports
// the time and the peak heap, and fails over 60 s.
//
//	go test -run '^$' -bench Import100k -benchtime 1x ./cli
func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "customers.csv")
	f, err := os.Create(path)
	require.NoError(b, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,name,password_hash,verified,customer_id,account_id,customer_reference,company_user_id")
	for i := range n {
		fmt.Fprintf(w, "customer%d@example.com,Customer %d,%s,1,%d,%d,DE--%d,\n", i, i, testBcrypt, i+1, i+1, i+1)
	}
	require.NoError(b, w.Flush())
	require.NoError(b, f.Close())

	for b.Loop() {
		b.StopTimer()
		store := sqlstoretest.OpenSQLite(b)
		require.NoError(b, store.CreateShop(b.Context(), storage.Shop{Key: "bench", Name: "Bench", Locale: "en", Active: true, CreatedAt: time.Now()}))
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()

		start := time.Now()
		sum, err := importCustomers(b.Context(), store, importOptions{shopKey: "bench", file: path}, io.Discard, io.Discard, nil)
		elapsed := time.Since(start)

		b.StopTimer()
		close(stop)
		<-done
		require.NoError(b, err)
		require.Equal(b, n, sum.Inserted)
		b.ReportMetric(elapsed.Seconds(), "s/import")
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-growth-MiB")
		if elapsed > time.Minute {
			b.Fatalf("100,000 customers took %v, over 60 s", elapsed)
		}
		b.StartTimer()
	}
}
