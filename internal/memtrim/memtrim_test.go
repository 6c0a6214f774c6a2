package memtrim

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestTrimWaitsForQuietAfterWork(t *testing.T) {
	clock := time.Unix(1_000_000, 0)
	frees := 0
	tr := New(2*time.Second, func() { frees++ }, func() time.Time { return clock })
	if tr.Trim() || frees != 0 {
		t.Fatal("freed before any work ran")
	}
	end := tr.Begin()
	clock = clock.Add(time.Minute)
	if tr.Trim() {
		t.Fatal("freed while work runs")
	}
	end()
	if tr.Trim() {
		t.Fatal("freed the moment work ended, before the quiet period")
	}
	clock = clock.Add(2*time.Second - time.Nanosecond)
	if tr.Trim() {
		t.Fatal("freed before the quiet period was over")
	}
	clock = clock.Add(time.Nanosecond)
	if !tr.Trim() || frees != 1 {
		t.Fatalf("not freed after the quiet period (frees %d)", frees)
	}
	clock = clock.Add(time.Hour)
	if tr.Trim() || frees != 1 {
		t.Fatal("freed again with no work since")
	}
	// Overlapping work: freed only after the last ends.
	endA, endB := tr.Begin(), tr.Begin()
	endA()
	clock = clock.Add(time.Hour)
	if tr.Trim() {
		t.Fatal("freed while one of two runs")
	}
	endB()
	clock = clock.Add(2 * time.Second)
	if !tr.Trim() || frees != 2 {
		t.Fatalf("not freed after both ended (frees %d)", frees)
	}
}

func TestRunTrimsOnItsOwnAndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var frees atomic.Int64
		tr := New(2*time.Second, func() { frees.Add(1) }, nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { tr.Run(ctx); close(done) }()

		tr.Begin()()
		time.Sleep(time.Second)
		synctest.Wait()
		if frees.Load() != 0 {
			t.Fatalf("freed %d times one second after work, want 0", frees.Load())
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if frees.Load() != 1 {
			t.Fatalf("freed %d times three seconds after work, want 1", frees.Load())
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if frees.Load() != 1 {
			t.Fatalf("freed %d times with no work since, want 1", frees.Load())
		}
		cancel()
		<-done
	})
}
