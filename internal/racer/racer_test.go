package racer

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRun: all racers run at once (each waits for all the others to
// arrive, which would hang if they ran one after another) and each racer's
// error lands at its index.
func TestRun(t *testing.T) {
	var (
		arrived   atomic.Int32
		allIn     = make(chan struct{})
		closeOnce sync.Once
	)
	errs := Run(N, func(i int) error {
		if arrived.Add(1) == N {
			closeOnce.Do(func() { close(allIn) })
		}
		<-allIn
		if i%2 == 1 {
			return fmt.Errorf("racer %d", i)
		}
		return nil
	})
	if len(errs) != N {
		t.Fatalf("%d errors, want %d", len(errs), N)
	}
	for i, err := range errs {
		want := ""
		if i%2 == 1 {
			want = fmt.Sprintf("racer %d", i)
		}
		if got := fmt.Sprint(err); err == nil && want != "" || err != nil && got != want {
			t.Errorf("errs[%d] = %v, want %q", i, err, want)
		}
	}
}
