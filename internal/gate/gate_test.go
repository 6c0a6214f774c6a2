package gate

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
)

func TestGateCountsHeldCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New()
		defer g.Open()
		// Three callers, of which at most two pass at once.
		slots := make(chan struct{}, 2)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				slots <- struct{}{}
				g.Pass()
				<-slots
			})
		}
		synctest.Wait()
		if g.Inside() != 2 || g.Peak() != 2 || g.Passed() != 0 {
			t.Fatalf("inside %d, peak %d, passed %d; want 2, 2, 0", g.Inside(), g.Peak(), g.Passed())
		}
		g.Release()
		synctest.Wait()
		if g.Inside() != 2 || g.Passed() != 1 {
			t.Fatalf("after one release: inside %d, passed %d; want 2, 1", g.Inside(), g.Passed())
		}
		g.Open()
		wg.Wait()
		if g.Inside() != 0 || g.Peak() != 2 || g.Passed() != 3 {
			t.Fatalf("after open: inside %d, peak %d, passed %d; want 0, 2, 3", g.Inside(), g.Peak(), g.Passed())
		}
	})
}

// TestRequireBound: a path that admits two callers at a time passes; one
// that admits everybody fails at the first step.
func TestRequireBound(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slots int // 0: no bound at all
		want  string
	}{
		{"bounded", 2, ""},
		{"unbounded", 0, "5 inside at once, want 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := New()
				defer g.Open()
				var slots chan struct{}
				if tc.slots > 0 {
					slots = make(chan struct{}, tc.slots)
				}
				var wg sync.WaitGroup
				for range 5 {
					wg.Go(func() {
						if slots != nil {
							slots <- struct{}{}
							defer func() { <-slots }()
						}
						g.Pass()
					})
				}
				rec := &recordingTB{TB: t}
				done := make(chan struct{})
				go func() {
					defer close(done)
					g.RequireBound(rec, 2, 5)
				}()
				<-done
				if rec.failure != tc.want {
					t.Fatalf("RequireBound failed with %q, want %q", rec.failure, tc.want)
				}
				g.Open()
				wg.Wait()
			})
		})
	}
}

// recordingTB records the first Fatalf and ends the goroutine, as
// testing.T does, without failing the test.
type recordingTB struct {
	testing.TB
	failure string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
