package fuzzdeadline

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// PerInput is how long one input may take. Every target here decodes a
// small input in microseconds; the margin is for -race on a loaded
// machine. It is below the 10 s after which Go's fuzzing worker panics on
// its own ("deadlocked!", in a process whose output nobody reads, so the
// report says only "fuzzing process hung or terminated unexpectedly"); the
// seed-corpus run of a plain `go test` has no such limit at all.
const PerInput = 5 * time.Second

// Run calls fn, the work of one fuzz input, and fails t when fn has not
// returned within PerInput; the failure shows every goroutine's stack, the
// hung one's among them. fn runs on its own goroutine, which is abandoned
// when it hangs (a goroutine cannot be stopped): the engine then writes the
// input under testdata/fuzz ("Failing input written to") and stops.
//
// fn may use t as the fuzz function would: a panic in fn is raised again on
// the test goroutine, so the engine reports it with fn's stack, and
// t.FailNow or t.SkipNow in fn end the test goroutine too.
func Run(t testing.TB, fn func()) {
	t.Helper()
	within(t, PerInput, fn)
}

func within(t testing.TB, limit time.Duration, fn func()) {
	t.Helper()
	var (
		done     = make(chan struct{})
		returned bool
		panicked any
		stack    []byte
	)
	go func() {
		defer close(done)
		defer func() {
			if panicked = recover(); panicked != nil {
				stack = debug.Stack()
			}
		}()
		fn()
		returned = true
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-timer.C:
		stacks := make([]byte, 64<<10)
		stacks = stacks[:runtime.Stack(stacks, true)]
		t.Fatalf("input still running after %v (a hang); goroutines:\n%s", limit, stacks)
	case <-done:
	}
	switch {
	case panicked != nil:
		panic(fmt.Sprintf("%v\n\ngoroutine running the input:\n%s", panicked, stack))
	case returned:
	case t.Skipped():
		t.SkipNow()
	default: // fn called t.FailNow
		t.FailNow()
	}
}
