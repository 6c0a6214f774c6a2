// Package memtrim gives the Go heap's free pages back to the operating
// system once a burst of memory-hungry work has ended.
//
// Every argon2id hash allocates its memory (19 MiB by default) and drops
// it. The soft memory limit lets a few such sets stay in the heap while
// logins run, which keeps them fast (docs/performance.md), but after the
// last login of a burst the runtime's background scavenger returns those
// pages only slowly: a server measured 100–140 MiB resident for minutes
// after a burst of logins, against 47 MiB before it. A Trimmer is told
// when such work begins and ends, and once none has run for its quiet
// period it returns the free pages at once (runtime/debug.FreeOSMemory).
// Under steady logins it never fires, so the pages the next hash needs
// are not returned and faulted in again.
package memtrim

import (
	"context"
	"sync"
	"time"
)

// Trimmer calls free once work has been quiet for a while after running.
// The zero value is not usable; call New.
type Trimmer struct {
	quiet time.Duration
	free  func()
	now   func() time.Time

	mu      sync.Mutex
	running int       // work begun and not ended
	dirty   bool      // work has run since the last free
	ended   time.Time // when the last work ended
}

// New returns a Trimmer that calls free (debug.FreeOSMemory in a server)
// once no work has run for quiet. now is the clock (nil: time.Now).
func New(quiet time.Duration, free func(), now func() time.Time) *Trimmer {
	if now == nil {
		now = time.Now
	}
	return &Trimmer{quiet: quiet, free: free, now: now}
}

// Begin records that work starts; the returned func records its end.
func (t *Trimmer) Begin() (end func()) {
	t.mu.Lock()
	t.running++
	t.dirty = true
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		t.running--
		t.ended = t.now()
		t.mu.Unlock()
	}
}

// Trim calls free if work has run since the last call to free, none runs
// now, and the last ended at least the quiet period ago; it reports
// whether it did.
func (t *Trimmer) Trim() bool {
	t.mu.Lock()
	due := t.dirty && t.running == 0 && t.now().Sub(t.ended) >= t.quiet
	if due {
		t.dirty = false
	}
	t.mu.Unlock()
	if due {
		t.free()
	}
	return due
}

// Run calls Trim every half quiet period until ctx ends.
func (t *Trimmer) Run(ctx context.Context) {
	tick := time.NewTicker(t.quiet / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.Trim()
		}
	}
}
