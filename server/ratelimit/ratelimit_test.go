package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/refusal"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestAllowBurstThenRate(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	l, err := New(Config{PerMinute: 20, Burst: 10, Now: c.Now})
	require.NoError(t, err)

	for i := range 10 {
		require.NoError(t, l.Allow("203.0.113.7"), "attempt %d of the burst", i+1)
	}
	err = l.Allow("203.0.113.7")
	require.ErrorIs(t, err, refusal.ErrThrottled)
	e := oautherr.From(err)
	require.Equal(t, 429, e.Status)
	require.Equal(t, 3, e.RetryAfter, "one token every 3 s at 20/min")

	// Another address has its own bucket.
	require.NoError(t, l.Allow("203.0.113.8"))

	// Refused attempts do not push the next token further away.
	for range 5 {
		require.Error(t, l.Allow("203.0.113.7"))
	}
	c.Advance(3 * time.Second)
	require.NoError(t, l.Allow("203.0.113.7"))
	require.Error(t, l.Allow("203.0.113.7"))

	// A full minute refills 20 tokens, capped at the burst.
	c.Advance(time.Minute)
	for range 10 {
		require.NoError(t, l.Allow("203.0.113.7"))
	}
	require.Error(t, l.Allow("203.0.113.7"))
}

func TestAllowConcurrentNeverExceedsBurst(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	l, err := New(Config{PerMinute: 20, Burst: 10, Now: c.Now})
	require.NoError(t, err)
	allowed := 0
	for _, err := range racer.Run(200, func(int) error { return l.Allow("198.51.100.1") }) {
		if err == nil {
			allowed++
		}
	}
	require.Equal(t, 10, allowed)
}

func TestKeysAreBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	l, err := New(Config{PerMinute: 1, Burst: 1, MaxKeys: 100, Now: c.Now})
	require.NoError(t, err)
	for i := range 10_000 {
		require.NoError(t, l.Allow(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)))
	}
	require.Equal(t, 100, l.buckets.Len())
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"":                     "",
		"not-an-ip":            "not-an-ip",
	} {
		require.Equal(t, want, Key(in), in)
	}
	// Two addresses of one /64 share a bucket.
	c := &clock{t: time.Unix(1_000_000, 0)}
	l, err := New(Config{PerMinute: 1, Burst: 1, Now: c.Now})
	require.NoError(t, err)
	require.NoError(t, l.Allow("2001:db8::1"))
	require.Error(t, l.Allow("2001:db8::2"))
}

func TestNewRejectsZero(t *testing.T) {
	_, err := New(Config{PerMinute: 0, Burst: 10})
	require.Error(t, err)
	_, err = New(Config{PerMinute: 20, Burst: 0})
	require.Error(t, err)
}
