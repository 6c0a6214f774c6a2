package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one unit of work of one worker: one HTTP request, or one hash or
// signature for a ceiling. status is the HTTP status (0 for work that is
// not HTTP); err is a failure without a status (transport, decoding).
type Op func(ctx context.Context) (status int, err error)

// Kinds of workload.
const (
	KindScenario = "scenario"
	KindCeiling  = "ceiling"
)

// Workload is a named load. Worker prepares the Op of worker i, with state
// of its own (a refresh-token chain); preparing is not timed.
type Workload struct {
	Name string
	Kind string
	// Ceiling, for a scenario, names the ceiling its throughput is held
	// against; empty for none.
	Ceiling string
	Worker  func(ctx context.Context, i int) (Op, error)
}

// Options are how hard and how long a workload is driven.
type Options struct {
	Duration    time.Duration
	Concurrency int
	// Warmup runs the workers this long before Duration starts, unrecorded:
	// first connections, cold caches and the first page faults of the
	// hash's memory are not what a server spends its day on.
	Warmup time.Duration
	// Progress, when set, is called about twice a second while running.
	Progress func(Progress)
	// MinOps, when positive, keeps the workload running past Duration
	// until it has recorded that many ops, for at most MaxOvertime more
	// (0: a minute): a smoke run on a loaded machine, where one op may
	// take longer than the whole Duration, still measures something.
	// Seconds and PerSecond are then over the time actually run.
	MinOps      int64
	MaxOvertime time.Duration
}

// Progress is a running workload's state, for a live progress line.
type Progress struct {
	Name              string
	Elapsed, Duration time.Duration
	Requests, Errors  int64
}

// Latency percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Result is one workload's outcome.
type Result struct {
	Name        string  `json:"name"`
	Kind        string  `json:"kind"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	// Requests counts every completed op; PerSecond only the successful ones.
	Requests  int64   `json:"requests"`
	PerSecond float64 `json:"per_second"`
	Latency   Latency `json:"latency"`
	// Errors counts failed ops by HTTP status (a success status when the
	// answer was not the expected one), or "transport".
	Errors map[string]int64 `json:"errors,omitempty"`
	// ServerRSSMiB is the server's resident memory right after the run,
	// from its /metrics (in-process: the whole process, load generator
	// included); 0 when unknown.
	ServerRSSMiB float64 `json:"server_rss_mib,omitempty"`
	// Ceiling names the ceiling; OfCeiling is PerSecond as a fraction of it.
	Ceiling          string  `json:"ceiling,omitempty"`
	CeilingPerSecond float64 `json:"ceiling_per_second,omitempty"`
	OfCeiling        float64 `json:"of_ceiling,omitempty"`
}

// ErrorCount is the number of failed ops.
func (r Result) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// Run prepares opts.Concurrency workers, drives them for opts.Duration and
// reports. An error means the workload could not start (a worker failed to
// prepare); failures while running are counted in the Result.
func Run(ctx context.Context, w Workload, opts Options) (Result, error) {
	if opts.Concurrency <= 0 || opts.Duration <= 0 {
		return Result{}, errors.New("bench: concurrency and duration must be positive")
	}
	ops, err := prepare(ctx, w, opts.Concurrency)
	if err != nil {
		return Result{}, err
	}
	start := time.Now().Add(opts.Warmup)
	var requests, failures atomic.Int64
	runCtx, cancel := context.WithDeadline(ctx, start.Add(opts.Duration))
	defer cancel()
	runFor := opts.Duration
	var stopped chan time.Time
	if opts.MinOps > 0 {
		overtime := cmp.Or(opts.MaxOvertime, time.Minute)
		runCtx, cancel = context.WithDeadline(ctx, start.Add(opts.Duration+overtime))
		defer cancel()
		stopped = make(chan time.Time, 1)
		go func() {
			t := time.NewTimer(time.Until(start.Add(opts.Duration)))
			defer t.Stop()
			select {
			case <-runCtx.Done():
				stopped <- time.Now()
				return
			case <-t.C:
			}
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for requests.Load() < opts.MinOps {
				select {
				case <-runCtx.Done():
					stopped <- time.Now()
					return
				case <-tick.C:
				}
			}
			stopped <- time.Now()
			cancel()
		}()
	}

	stats := make([]workerStats, opts.Concurrency)
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() { stats[i].drive(runCtx, op, start, &requests, &failures) })
	}
	done := make(chan struct{})
	var reporter sync.WaitGroup
	if opts.Progress != nil {
		reporter.Go(func() {
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					opts.Progress(Progress{Name: w.Name, Elapsed: max(time.Since(start), 0), Duration: opts.Duration,
						Requests: requests.Load(), Errors: failures.Load()})
				}
			}
		})
	}
	wg.Wait()
	if stopped != nil {
		runFor = (<-stopped).Sub(start)
	}
	// Ops still running at the deadline are not counted, so neither is the
	// time they overran it.
	elapsed := min(time.Since(start), runFor)
	close(done)
	reporter.Wait() // no progress call after Run returns
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return summarize(w, opts.Concurrency, elapsed, stats), nil
}

// prepare builds every worker's Op concurrently: a scenario may log each
// worker in first, and that costs a password hash apiece.
func prepare(ctx context.Context, w Workload, n int) ([]Op, error) {
	ops := make([]Op, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ops[i], errs[i] = w.Worker(ctx, i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bench: prepare %s: %w", w.Name, err)
	}
	return ops, nil
}

// workerStats is one worker's tally; only that worker writes it.
type workerStats struct {
	latency  histogram
	ok       int64
	byStatus map[int]int64
	failed   int64 // without a status
}

// drive runs op until ctx ends, recording the ops that start at or after
// from (the warm-up's are run, not counted).
func (s *workerStats) drive(ctx context.Context, op Op, from time.Time, requests, failures *atomic.Int64) {
	s.byStatus = map[int]int64{}
	for ctx.Err() == nil {
		t0 := time.Now()
		status, err := op(ctx)
		d := time.Since(t0)
		if ctx.Err() != nil {
			return // cut off by the deadline: neither a success nor a failure
		}
		if t0.Before(from) {
			continue
		}
		s.latency.record(d)
		requests.Add(1)
		switch {
		case err != nil && status == 0:
			s.failed++
			failures.Add(1)
		case err != nil || status >= 400:
			// A status with an error is an answer that was not the one
			// expected (a 200 saying "inactive"): counted by its status.
			s.byStatus[status]++
			failures.Add(1)
		default:
			s.ok++
		}
	}
}

func summarize(w Workload, concurrency int, elapsed time.Duration, stats []workerStats) Result {
	r := Result{Name: w.Name, Kind: w.Kind, Ceiling: w.Ceiling, Concurrency: concurrency, Seconds: elapsed.Seconds()}
	var all histogram
	var ok int64
	for i := range stats {
		s := &stats[i]
		all.merge(&s.latency)
		ok += s.ok
		for status, n := range s.byStatus {
			r.addError(strconv.Itoa(status), n)
		}
		r.addError("transport", s.failed)
	}
	r.Requests = int64(all.n)
	r.PerSecond = float64(ok) / elapsed.Seconds()
	r.Latency = Latency{
		P50: ms(all.quantile(0.50)), P90: ms(all.quantile(0.90)), P99: ms(all.quantile(0.99)), Max: ms(all.max),
	}
	return r
}

func (r *Result) addError(key string, n int64) {
	if n == 0 {
		return
	}
	if r.Errors == nil {
		r.Errors = map[string]int64{}
	}
	r.Errors[key] += n
}

// WithCeilings sets each scenario's ceiling figures from the ceilings among
// results, by name.
func WithCeilings(results []Result) []Result {
	ceilings := map[string]float64{}
	for _, r := range results {
		if r.Kind == KindCeiling {
			ceilings[r.Name] = r.PerSecond
		}
	}
	out := make([]Result, len(results))
	for i, r := range results {
		if c, ok := ceilings[r.Ceiling]; ok && r.Kind == KindScenario && c > 0 {
			r.CeilingPerSecond = c
			r.OfCeiling = math.Round(r.PerSecond/c*1000) / 1000
		}
		out[i] = r
	}
	return out
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
