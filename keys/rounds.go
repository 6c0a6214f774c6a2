package keys

import "sync"

// rounds runs a function for callers that need a run which starts after
// they asked: a caller joins the next round that has not started yet, or
// queues a new one behind the round in flight. One round runs at a time
// and every round serves all who joined it, so however many callers
// arrive, there is a round in flight and at most one waiting, and a
// caller waits at most for the end of the round in flight plus its own.
//
// Verify uses it for reloads on an unknown kid: a flood of garbage kids
// costs the store one reload at a time, never one per token, and a
// genuine new kid is found by the first reload that starts after it was
// seen. (A plain singleflight would hand a late caller the result of a
// reload that read the store before the new key was there; a rate limit
// would let a garbage kid spend the reload a genuine one needs.)
type rounds struct {
	mu      sync.Mutex
	running *round // in flight; nil when idle
	next    *round // waiting for running to end; nil when none
}

type round struct {
	done    chan struct{}
	callers int // how many share it (tests)
	err     error
}

// do runs fn in a round that starts after the call and returns its error.
func (g *rounds) do(fn func() error) error {
	g.mu.Lock()
	if r := g.next; r != nil {
		r.callers++
		g.mu.Unlock()
		<-r.done
		return r.err
	}
	r := &round{done: make(chan struct{}), callers: 1}
	g.next = r
	prev := g.running
	g.mu.Unlock()

	if prev != nil {
		<-prev.done
	}
	g.mu.Lock()
	g.next, g.running = nil, r // from now on callers queue behind r
	g.mu.Unlock()

	r.err = fn()
	g.mu.Lock()
	g.running = nil
	g.mu.Unlock()
	close(r.done)
	return r.err
}

// queued is how many callers wait for the round that has not started.
func (g *rounds) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.next == nil {
		return 0
	}
	return g.next.callers
}
