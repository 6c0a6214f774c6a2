package customers

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Failed logins are paced so that their timing does not tell which
// e-mail addresses belong to customers, and with which kind of hash.
//
// A wrong password costs what the customer's stored hash costs to verify:
// phpass about 1 ms, argon2id at current parameters ~25 ms, bcrypt 10
// ~60 ms, PHP's argon2id defaults (64 MiB, t=4) ~150 ms, bcrypt 12
// ~250 ms. An unknown address costs one verification of a dummy hash at
// current parameters. Without pacing, a failed login's time names the
// hash class of the address, and whether it has one at all.
//
// So every failed login that reached the hashing step is answered no
// sooner than a floor after its verification began: the slowest hash
// class this replica has verified (a moving average per class, so the
// floor follows the machine's load), plus a margin, so that a
// verification of the slowest class itself is seldom longer than the
// floor. The wait is a sleep after the hashing slot has been given back:
// it costs no CPU and holds no slot, so the hashing pool, its queue
// timeout and its 503 work as before, and pacing cannot be used to make
// the server compute more. A client that goes away ends its wait.
// Successful logins are not paced (whoever knows the password knows the
// account exists).
//
// What holds: once a replica has verified a hash class, failures against
// every class (and unknown addresses) take the same time, up to
// maxFailureFloor. The first verification of a class slower than any
// seen before on a replica is not hidden; it raises the floor for every
// failure after it. docs/security.md has the reasoning and the benchmark.

// failureFloorMargin is how far above the slowest class's average the
// floor lies.
const failureFloorMargin = 1.25

// maxFailureFloor bounds the floor: bcrypt at the highest cost accepted
// (14) takes about a second; a costlier stored hash (a hostile or corrupt
// import) stands out rather than slowing every failed login down.
const maxFailureFloor = 2 * time.Second

// dummyClass is the class of the dummy verifications (unknown, locked and
// impossible addresses): current argon2id parameters, averaged apart.
const dummyClass = "dummy"

// maxHashClasses bounds the classes tracked; beyond it they share one.
const maxHashClasses = 64

// pacer learns how long each hash class takes to verify.
type pacer struct {
	mu    sync.Mutex
	costs map[string]time.Duration // moving average per class
	floor time.Duration
}

func newPacer() *pacer { return &pacer{costs: map[string]time.Duration{}} }

// observe records one verification of class that took d.
func (p *pacer) observe(class string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.costs[class]; !ok && len(p.costs) >= maxHashClasses {
		class = "other"
	}
	avg, ok := p.costs[class]
	if !ok {
		avg = d
	}
	// An exponential moving average, a quarter weight for the newest.
	avg += (d - avg) / 4
	p.costs[class] = avg
	p.floor = 0
	for _, c := range p.costs {
		p.floor = max(p.floor, c)
	}
	p.floor = min(time.Duration(float64(p.floor)*failureFloorMargin), maxFailureFloor)
}

// failureFloor is the least time a failed login takes from the start of
// its verification.
func (p *pacer) failureFloor() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.floor
}

// hashClass names what verifying stored costs: its algorithm and cost
// parameters ("" for a hash no verifier reads). Hashes of one class take
// the same time to verify, whatever the password.
func hashClass(stored string) string {
	switch {
	case strings.HasPrefix(stored, "$argon2id$"), strings.HasPrefix(stored, "$argon2i$"):
		// $argon2id$v=19$m=19456,t=2,p=1$salt$key: up to the salt.
		parts := strings.SplitN(stored, "$", 5)
		if len(parts) < 5 {
			return ""
		}
		return strings.Join(parts[1:4], "$")
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		// $2y$10$…: the variants are one algorithm.
		if len(stored) < 7 {
			return ""
		}
		return "bcrypt$" + stored[4:6]
	case strings.HasPrefix(stored, "$P$"), strings.HasPrefix(stored, "$H$"):
		// The fourth character is the log2 of the rounds.
		if len(stored) < 4 {
			return ""
		}
		return "phpass$" + stored[3:4]
	}
	return ""
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
