package ratelimit

import (
	"errors"
	"net/netip"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/shopauth/shopauth/server/refusal"
)

// DefaultMaxKeys is how many addresses are tracked at once. An address
// pushed out starts again with a full bucket, which only helps an attacker
// who already controls this many addresses.
const DefaultMaxKeys = 100_000

// Config is a Limiter's policy.
type Config struct {
	// PerMinute is the sustained rate; Burst how many attempts may come at
	// once. Both must be positive.
	PerMinute, Burst int
	// MaxKeys bounds the addresses tracked (0: DefaultMaxKeys).
	MaxKeys int
	Now     func() time.Time
}

// Limiter is a per-key token bucket.
type Limiter struct {
	buckets *lru.Cache[string, *rate.Limiter]
	limit   rate.Limit
	burst   int
	now     func() time.Time
}

// New returns a Limiter for cfg.
func New(cfg Config) (*Limiter, error) {
	if cfg.PerMinute <= 0 || cfg.Burst <= 0 {
		return nil, errors.New("ratelimit: rate and burst must be positive")
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	buckets, err := lru.New[string, *rate.Limiter](cfg.MaxKeys)
	if err != nil {
		return nil, err
	}
	return &Limiter{
		buckets: buckets,
		limit:   rate.Limit(float64(cfg.PerMinute) / 60),
		burst:   cfg.Burst,
		now:     cfg.Now,
	}, nil
}

// Allow takes one token from the bucket of clientIP. Without one it
// returns a Throttled refusal (429) with Retry-After set to the whole
// seconds until the next token; the refused attempt costs nothing.
func (l *Limiter) Allow(clientIP string) error {
	key := Key(clientIP)
	bucket, ok := l.buckets.Get(key)
	if !ok {
		// PeekOrAdd keeps the bucket a concurrent caller may have added.
		fresh := rate.NewLimiter(l.limit, l.burst)
		if prev, found, _ := l.buckets.PeekOrAdd(key, fresh); found {
			bucket = prev
		} else {
			bucket = fresh
		}
	}
	now := l.now()
	r := bucket.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	r.CancelAt(now)
	return refusal.ErrThrottled.WithRetryAfter(delay)
}

// Key is the bucket of an address: IPv4 addresses alone, IPv6 addresses by
// their /64, which one subscriber usually holds whole. Anything else
// (empty, unparsable) shares one bucket of its own spelling.
func Key(clientIP string) string {
	addr, err := netip.ParseAddr(clientIP)
	if err != nil {
		return clientIP
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.WithZone("").Prefix(64)
	if err != nil {
		return clientIP
	}
	return p.String()
}
