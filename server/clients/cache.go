package clients

import (
	"context"
	"sync"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// Store reads client registrations.
type Store interface {
	GetClient(ctx context.Context, id string) (storage.Client, error)
}

// Cache keeps client registrations for a short time, so that the token,
// introspection and revocation endpoints do not read the same row on every
// request (a fifth of an introspection's CPU on SQLite). A change made
// elsewhere (the admin CLI, another replica) is seen within the TTL: a
// deleted client or a replaced secret keeps working that long.
//
// Only registered clients are kept, and they are few, so the map needs no
// size bound; unknown ids always go to the store. golang-lru's expirable
// cache was not used: each one runs a goroutine that cannot be stopped and
// reads the wall clock, which the tests' fake clock cannot move.
type Cache struct {
	store Store
	ttl   time.Duration
	now   func() time.Time

	mu      sync.RWMutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	client  storage.Client
	expires time.Time
}

// NewCache returns a cache in front of store; now is the clock.
func NewCache(store Store, ttl time.Duration, now func() time.Time) *Cache {
	return &Cache{store: store, ttl: ttl, now: now, entries: map[string]cacheEntry{}}
}

// GetClient returns the client, from the cache while it is fresh. The
// returned value shares its slices with the cache: callers must not
// modify them.
func (c *Cache) GetClient(ctx context.Context, id string) (storage.Client, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.client, nil
	}
	client, err := c.store.GetClient(ctx, id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.entries, id) // gone or unreadable: never serve the old row
		return storage.Client{}, err
	}
	c.entries[id] = cacheEntry{client: client, expires: now.Add(c.ttl)}
	return client, nil
}
