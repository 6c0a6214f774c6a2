package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// fakeStore is an in-memory Store that enforces the same uniqueness rules
// as the real one: kid and generation.
type fakeStore struct {
	mu      sync.Mutex
	keys    []storage.SigningKey
	listErr error
	lists   int
	sets    int // SetSigningKeySchedule calls
}

var _ Store = (*fakeStore)(nil)

func (s *fakeStore) ListSigningKeys(context.Context) ([]storage.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if s.listErr != nil {
		return nil, s.listErr
	}
	out := slices.Clone(s.keys)
	slices.SortFunc(out, func(a, b storage.SigningKey) int { return cmpInt64(a.Generation, b.Generation) })
	return out, nil
}

func (s *fakeStore) CreateSigningKey(_ context.Context, k storage.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.keys {
		if e.KID == k.KID || e.Generation == k.Generation {
			return storage.ErrConflict
		}
	}
	s.keys = append(s.keys, k)
	return nil
}

func (s *fakeStore) SetSigningKeySchedule(_ context.Context, kid string, retireAfter, removeAfter *time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		if s.keys[i].KID == kid {
			s.keys[i].RetireAfter, s.keys[i].RemoveAfter = retireAfter, removeAfter
			s.sets++
			return nil
		}
	}
	return storage.ErrNotFound
}

// update changes a stored key in place, standing in for `keys retire`.
func (s *fakeStore) update(kid string, f func(*storage.SigningKey)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		if s.keys[i].KID == kid {
			f(&s.keys[i])
		}
	}
}

func (s *fakeStore) snapshot() []storage.SigningKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys)
}

func (s *fakeStore) setListErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listErr = err
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testKEK(t testing.TB) []byte {
	t.Helper()
	kek, err := GenerateKEK()
	require.NoError(t, err)
	return kek
}

func newManager(t testing.TB, store Store, kek []byte, clk *clock) *Manager {
	t.Helper()
	m, err := New(t.Context(), Config{Store: store, KEK: kek, Now: clk.Now})
	require.NoError(t, err)
	return m
}

func ptr[T any](v T) *T { return &v }

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func contextWithCancel(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func errorIsAny(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// createTestKey makes an RS256 key valid from notBefore, standing in for
// another replica's rotator.
func (m *Manager) createTestKey(t testing.TB, notBefore time.Time) error {
	t.Helper()
	require.NoError(t, m.Reload(t.Context()))
	_, err := m.createKey(t.Context(), m.snap.Load().rows, RS256, notBefore)
	return err
}
