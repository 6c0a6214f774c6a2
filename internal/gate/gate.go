package gate

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// Gate holds each caller of Pass until Release lets one out or Open lets
// all out. The zero value is not usable; call New.
type Gate struct {
	release  chan struct{}
	open     chan struct{}
	openOnce sync.Once
	inside   atomic.Int64
	peak     atomic.Int64
	passed   atomic.Int64
}

// New returns a closed gate.
func New() *Gate {
	return &Gate{release: make(chan struct{}), open: make(chan struct{})}
}

// Pass counts the caller in, waits to be let out, and counts it out.
func (g *Gate) Pass() {
	n := g.inside.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	select {
	case <-g.release:
	case <-g.open:
	}
	g.inside.Add(-1)
	g.passed.Add(1)
}

// Release lets exactly one held caller out, waiting for one to arrive.
func (g *Gate) Release() { g.release <- struct{}{} }

// Open lets every caller through from now on. Defer it in tests so a
// failed assertion does not leave callers blocked.
func (g *Gate) Open() { g.openOnce.Do(func() { close(g.open) }) }

// Inside is how many callers are held now.
func (g *Gate) Inside() int { return int(g.inside.Load()) }

// Peak is the most callers ever held at once.
func (g *Gate) Peak() int { return int(g.peak.Load()) }

// Passed is how many callers have been let out.
func (g *Gate) Passed() int { return int(g.passed.Load()) }

// RequireBound checks a bound on callers (all started, none let out yet)
// inside a synctest bubble: exactly bound of them are held at the gate, and
// each one let out admits exactly one more until all have passed. It fails
// t at the first step that breaks the bound.
func (g *Gate) RequireBound(t testing.TB, bound, callers int) {
	t.Helper()
	synctest.Wait()
	if got := g.Inside(); got != min(bound, callers) {
		t.Fatalf("%d inside at once, want %d", got, min(bound, callers))
	}
	for done := 1; done <= callers; done++ {
		g.Release()
		synctest.Wait()
		if got, want := g.Inside(), min(bound, callers-done); got != want {
			t.Fatalf("%d inside after %d passed, want %d", got, done, want)
		}
	}
	if g.Peak() != min(bound, callers) {
		t.Fatalf("peak %d inside at once, want %d", g.Peak(), min(bound, callers))
	}
}
