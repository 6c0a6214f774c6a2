package bench

import (
	"math/bits"
	"time"
)

// histogram records latencies in logarithmic buckets with 32 linear
// sub-buckets each (about 3 % precision) in fixed memory, so recording
// allocates nothing while the load runs. Values are microseconds.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	subBits     = 5
	subBuckets  = 1 << subBits // per power of two
	linearUpTo  = 2 * subBuckets
	histBuckets = linearUpTo + 40*subBuckets // up to 2^45 µs
)

func bucketOf(us uint64) int {
	if us < linearUpTo {
		return int(us)
	}
	shift := bits.Len64(us) - subBits - 1 // ≥ 1
	i := linearUpTo + (shift-1)*subBuckets + int(us>>shift) - subBuckets
	return min(i, histBuckets-1)
}

// upperBound is the largest value bucket i holds.
func upperBound(i int) uint64 {
	if i < linearUpTo {
		return uint64(i)
	}
	shift := (i-linearUpTo)/subBuckets + 1
	mantissa := uint64((i-linearUpTo)%subBuckets + subBuckets)
	return (mantissa+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of the samples
// fall, never above the maximum seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(upperBound(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}
