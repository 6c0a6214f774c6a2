package customers

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// BenchmarkUnknownEmailVsWrongPassword measures, at the default argon2id
// parameters, the median time of a login with an unknown e-mail and of one
// with a wrong password, interleaved so both see the same machine load,
// and fails when they differ by more than 10 %.
//
//	go test -run '^$' -bench UnknownEmailVsWrongPassword -benchtime 40x ./server/customers
func BenchmarkUnknownEmailVsWrongPassword(b *testing.B) {
	hasher, err := NewHasher(DefaultArgon2Params)
	require.NoError(b, err)
	store := newFakeStore()
	now := time.Now()
	hash, err := hasher.Hash("change123")
	require.NoError(b, err)
	store.add(storage.Customer{ID: 1, ShopKey: "acme", Email: "sonia@spryker.com", PasswordHash: hash, EmailVerifiedAt: &now})
	// A lockout that never triggers: only the hashing is measured.
	auth, err := NewAuthenticator(Config{Store: store, Hasher: hasher,
		Lockout: storage.LockoutPolicy{Threshold: 1 << 30, Window: time.Minute, FirstLock: time.Minute, MaxLock: time.Hour}})
	require.NoError(b, err)
	ctx := context.Background()
	var unknown, wrong []time.Duration
	for b.Loop() {
		start := time.Now()
		_, err := auth.Authenticate(ctx, "acme", "nobody@spryker.com", "guess")
		unknown = append(unknown, time.Since(start))
		require.ErrorIs(b, err, ErrInvalidCredentials)

		start = time.Now()
		_, err = auth.Authenticate(ctx, "acme", "sonia@spryker.com", "guess")
		wrong = append(wrong, time.Since(start))
		require.ErrorIs(b, err, ErrInvalidCredentials)
	}
	mu, mw := median(unknown), median(wrong)
	b.ReportMetric(float64(mu.Microseconds()), "unknown-median-µs")
	b.ReportMetric(float64(mw.Microseconds()), "wrong-median-µs")
	diff := float64(mu-mw) / float64(mw)
	b.ReportMetric(diff*100, "diff-%")
	if len(unknown) >= 10 && (diff > 0.10 || diff < -0.10) {
		b.Fatalf("unknown e-mail median %v, wrong password median %v: %.1f %% apart", mu, mw, diff*100)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkThousandSimultaneousLogins starts 1,000 logins at once at the
// default argon2id parameters and samples the heap while they run. The
// hashing slots keep at most GOMAXPROCS argon2 buffers (19 MiB each)
// alive; the rest wait, or get 503 after 2 s. It fails when the peak heap
// exceeds concurrency × argon2 memory + 100 MiB.
//
//	go test -run '^$' -bench ThousandSimultaneousLogins -benchtime 1x ./server/customers
func BenchmarkThousandSimultaneousLogins(b *testing.B) {
	hasher, err := NewHasher(DefaultArgon2Params)
	require.NoError(b, err)
	store := newFakeStore()
	now := time.Now()
	hash, err := hasher.Hash("change123")
	require.NoError(b, err)
	store.add(storage.Customer{ID: 1, ShopKey: "acme", Email: "sonia@spryker.com", PasswordHash: hash, EmailVerifiedAt: &now})
	concurrency := runtime.GOMAXPROCS(0)
	auth, err := NewAuthenticator(Config{Store: store, Hasher: hasher, HashConcurrency: concurrency,
		Lockout: storage.LockoutPolicy{Threshold: 1 << 30, Window: time.Minute, FirstLock: time.Minute, MaxLock: time.Hour}})
	require.NoError(b, err)

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	for b.Loop() {
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		var ok, busy atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 1000 {
			wg.Go(func() {
				<-start
				pw := "wrong"
				if i%10 == 0 {
					pw = "change123"
				}
				_, err := auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", pw)
				if err == errHashingBusy {
					busy.Add(1)
				} else {
					ok.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		close(stop)
		<-sampled
		b.ReportMetric(float64(ok.Load()), "answered")
		b.ReportMetric(float64(busy.Load()), "503s")
	}
	growth := float64(peak.Load()-min(peak.Load(), base.HeapInuse)) / (1 << 20)
	b.ReportMetric(growth, "peak-heap-growth-MiB")
	limit := float64(concurrency)*float64(DefaultArgon2Params.MemoryKiB)/1024 + 100
	b.ReportMetric(limit, "limit-MiB")
	if growth > limit {
		b.Fatalf("heap grew %.0f MiB, more than %.0f MiB", growth, limit)
	}
}
