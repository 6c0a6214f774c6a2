package racer

import "sync"

// N is the least number of racers a concurrency claim is tested with.
const N = 16

// Run calls fn(i) for i in [0, n) on n goroutines, releases them together
// once all are started, and returns their errors by index.
func Run(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, start sync.WaitGroup
	ready.Add(n)
	start.Add(1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ready.Done()
			start.Wait()
			errs[i] = fn(i)
		})
	}
	ready.Wait()
	start.Done()
	wg.Wait()
	return errs
}
