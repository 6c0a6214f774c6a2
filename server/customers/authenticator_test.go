package customers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/gate"
	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

// fakeStore keeps customers and failure records in memory; the lockout
// transition is storage.LockoutPolicy.Attempt under one mutex, as the SQL
// store runs it under a row lock.
type fakeStore struct {
	mu        sync.Mutex
	customers map[string]storage.Customer // by shop + "/" + normalized e-mail
	failures  map[string]storage.LoginFailures
	attempts  int
	// onClear, when set, runs inside ClearLoginFailures.
	onClear func()
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{customers: map[string]storage.Customer{}, failures: map[string]storage.LoginFailures{}}
}

func (s *fakeStore) add(c storage.Customer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.EmailNormalized = NormalizeEmail(c.Email)
	s.customers[c.ShopKey+"/"+c.EmailNormalized] = c
}

func (s *fakeStore) GetCustomerByEmail(_ context.Context, shopKey, email string) (storage.Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[shopKey+"/"+email]
	if !ok {
		return storage.Customer{}, storage.ErrNotFound
	}
	return c, nil
}

func (s *fakeStore) UpdatePasswordHash(_ context.Context, id uint64, oldHash, newHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.customers {
		if c.ID == id {
			if c.PasswordHash != oldHash {
				return storage.ErrConflict
			}
			c.PasswordHash = newHash
			s.customers[k] = c
			return nil
		}
	}
	return storage.ErrNotFound
}

func (s *fakeStore) RecordLoginAttempt(_ context.Context, shopKey, email string, now time.Time, p storage.LockoutPolicy) (storage.LoginFailures, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	next, ok := p.Attempt(s.failures[shopKey+"/"+email], now)
	s.failures[shopKey+"/"+email] = next
	return next, ok, nil
}

func (s *fakeStore) ClearLoginFailures(_ context.Context, shopKey, email string) error {
	if s.onClear != nil {
		s.onClear()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.failures, shopKey+"/"+email)
	return nil
}

func (s *fakeStore) hashOf(shopKey, email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.customers[shopKey+"/"+NormalizeEmail(email)].PasswordHash
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	store  *fakeStore
	hasher *Hasher
	clock  *testClock
	auth   *Authenticator
}

func newFixture(t testing.TB, mutate func(*Config)) *fixture {
	t.Helper()
	f := &fixture{store: newFakeStore(), hasher: testHasher(t), clock: &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	verified := f.clock.Now()
	hash, err := f.hasher.Hash("change123")
	require.NoError(t, err)
	f.store.add(storage.Customer{ID: 21, ShopKey: "acme", Email: "Sonia@Spryker.com", PasswordHash: hash, EmailVerifiedAt: &verified})
	cfg := Config{Store: f.store, Hasher: f.hasher, Lockout: storage.LockoutPolicy{Threshold: 3, Window: 15 * time.Minute, FirstLock: time.Minute, MaxLock: time.Hour}, Now: f.clock.Now}
	if mutate != nil {
		mutate(&cfg)
	}
	f.auth, err = NewAuthenticator(cfg)
	require.NoError(t, err)
	return f
}

func TestAuthenticateLockout(t *testing.T) {
	ctx := context.Background()
	for _, email := range []string{"sonia@spryker.com", "nobody@spryker.com"} {
		t.Run(email, func(t *testing.T) {
			f := newFixture(t, nil)
			for i := range 3 {
				_, err := f.auth.Authenticate(ctx, "acme", email, "wrong")
				require.ErrorIs(t, err, ErrInvalidCredentials, "attempt %d", i+1)
				require.NotErrorIs(t, err, ErrLocked, "attempt %d", i+1)
			}
			// Locked: even the right password is refused, as a wrong one is.
			_, err := f.auth.Authenticate(ctx, "acme", email, "change123")
			require.ErrorIs(t, err, ErrLocked)
			require.ErrorIs(t, err, ErrInvalidCredentials)

			f.clock.Advance(time.Minute)
			_, err = f.auth.Authenticate(ctx, "acme", email, "change123")
			if email == "nobody@spryker.com" {
				require.ErrorIs(t, err, ErrInvalidCredentials)
				require.NotErrorIs(t, err, ErrLocked)
				return
			}
			require.NoError(t, err)
			// Success reset the count: three more failures are needed.
			for range 2 {
				_, err = f.auth.Authenticate(ctx, "acme", email, "wrong")
				require.NotErrorIs(t, err, ErrLocked)
			}
			_, err = f.auth.Authenticate(ctx, "acme", email, "change123")
			require.NoError(t, err)
		})
	}
}

func TestAuthenticateParallelGuessesNeverPassThreshold(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.HashConcurrency = 8 })
	checked := 0
	for _, err := range racer.Run(50, func(int) error {
		_, err := f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "wrong")
		return err
	}) {
		require.ErrorIs(t, err, ErrInvalidCredentials)
		if !errors.Is(err, ErrLocked) {
			checked++
		}
	}
	require.Equal(t, 3, checked, "exactly threshold guesses were checked")
	// The right password is refused now too.
	_, err := f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "change123")
	require.ErrorIs(t, err, ErrLocked)
}

func TestAuthenticateRefusesBeforeHashing(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.HashConcurrency = 1; c.HashQueueTimeout = time.Hour })
	// Every slot is taken: anything that waited for one would hang.
	release, err := f.auth.acquireSlot(context.Background())
	require.NoError(t, err)
	defer release()
	for _, pw := range []string{"", strings.Repeat("p", MaxPasswordBytes+1)} {
		_, err := f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", pw)
		require.ErrorIs(t, err, ErrInvalidCredentials)
	}
	require.Zero(t, f.store.attempts, "nothing was counted or looked up")
}

func TestAuthenticateLongestPasswordWorks(t *testing.T) {
	f := newFixture(t, nil)
	pw := strings.Repeat("é", MaxPasswordBytes/2)
	hash, err := f.hasher.Hash(pw)
	require.NoError(t, err)
	now := f.clock.Now()
	f.store.add(storage.Customer{ID: 22, ShopKey: "acme", Email: "long@example.com", PasswordHash: hash, EmailVerifiedAt: &now})
	_, err = f.auth.Authenticate(context.Background(), "acme", "long@example.com", pw)
	require.NoError(t, err)
}

func TestAuthenticateOddEmails(t *testing.T) {
	f := newFixture(t, nil)
	for _, email := range []string{strings.Repeat("a", MaxEmailBytes) + "@x.com", "bad\xffutf8@example.com"} {
		_, err := f.auth.Authenticate(context.Background(), "acme", email, "change123")
		require.ErrorIs(t, err, ErrInvalidCredentials)
	}
	// The overlong one is never counted (the lockout table cannot key it);
	// normalizing turned the invalid byte into U+FFFD, a valid key.
	require.Equal(t, 1, f.store.attempts)
}

func TestAuthenticateBusyAnswers503(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.HashConcurrency = 1; c.HashQueueTimeout = 20 * time.Millisecond })
	release, err := f.auth.acquireSlot(context.Background())
	require.NoError(t, err)
	_, err = f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "change123")
	require.ErrorIs(t, err, refusal.ErrUnavailable)
	e := oautherr.From(err)
	require.Equal(t, 503, e.Status)
	require.Equal(t, 1, e.RetryAfter)
	require.Zero(t, f.store.attempts, "a 503 is not a failed login")
	release()
	_, err = f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "change123")
	require.NoError(t, err)
}

// TestDeadlineInHashQueueAnswers503: the request's deadline
// (SHOPAUTH_REQUEST_TIMEOUT) passes while a login or a new password waits
// for a hashing slot, before the queue timeout: that is the unavailable
// refusal with Retry-After, never the context's bare error (a 500).
func TestDeadlineInHashQueueAnswers503(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.HashConcurrency = 1; c.HashQueueTimeout = time.Hour })
	release, err := f.auth.acquireSlot(context.Background())
	require.NoError(t, err)
	defer release()
	for name, call := range map[string]func(ctx context.Context) error{
		"login": func(ctx context.Context) error {
			_, err := f.auth.Authenticate(ctx, "acme", "sonia@spryker.com", "change123")
			return err
		},
		"new password": func(ctx context.Context) error {
			_, err := f.auth.HashPassword(ctx, "a new password")
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := call(ctx)
			require.Less(t, time.Since(start), 10*time.Second, "the deadline ends the wait")
			require.ErrorIs(t, err, refusal.ErrUnavailable)
			require.ErrorIs(t, err, context.DeadlineExceeded, "the cause stays for the log")
			e := oautherr.From(err)
			require.Equal(t, 503, e.Status)
			require.Equal(t, 1, e.RetryAfter)
		})
	}
	require.Zero(t, f.store.attempts, "a 503 is not a failed login")
}

// TestAuthenticateBoundsConcurrentHashing: of 32 logins at once, each for
// its own e-mail, exactly HashConcurrency are hashing at any time, each
// finished hash admits exactly one more, and every login gets its own
// answer. Known customers (right and wrong passwords) are checked with
// Verify, unknown addresses with VerifyDummy; each path is raced alone, so
// a slot handling mistake in one cannot hide behind the other, and mixed.
//
// Every Verify and VerifyDummy waits at a gate; in a synctest bubble,
// synctest.Wait returns once every login is blocked at the gate or waiting
// for a slot, so the count is exact.
//
// Mutants (server/customers/authenticator.go, Authenticate):
//   - call releaseOnce() just before a.hasher.Verify(c.PasswordHash, …),
//     giving the slot back before the hash is checked: "known customers"
//     has all 32 hashing at once (want 2);
//   - call releaseOnce() before the VerifyDummy of an unknown e-mail:
//     "unknown addresses" has 32 at once;
//   - delete the acquireSlot call: every case has 32 at once.
func TestAuthenticateBoundsConcurrentHashing(t *testing.T) {
	const slots, logins = 2, 32
	for _, tc := range []struct {
		name  string
		known func(i int) bool // whether login i is for a stored customer
	}{
		{"known customers", func(int) bool { return true }},
		{"unknown addresses", func(int) bool { return false }},
		{"mixed", func(i int) bool { return i%2 == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := gate.New()
				defer g.Open() // a failed assertion must not leave logins blocked
				f := newFixture(t, func(c *Config) {
					c.HashConcurrency = slots
					c.HashQueueTimeout = time.Hour
					c.Hasher = gatedHasher{c.Hasher, g}
				})
				hash, err := f.hasher.Hash("change123")
				require.NoError(t, err)
				verified := f.clock.Now()
				email := func(i int) string { return fmt.Sprintf("c%d@example.com", i) }
				right := func(i int) bool { return i%3 == 0 }
				for i := range logins {
					if tc.known(i) {
						f.store.add(storage.Customer{ID: uint64(100 + i), ShopKey: "acme", Email: email(i), PasswordHash: hash, EmailVerifiedAt: &verified})
					}
				}

				errs := make([]error, logins)
				var wg sync.WaitGroup
				for i := range logins {
					wg.Go(func() {
						pw := "wrong"
						if right(i) {
							pw = "change123"
						}
						_, errs[i] = f.auth.Authenticate(context.Background(), "acme", email(i), pw)
					})
				}
				g.RequireBound(t, slots, logins)
				wg.Wait()
				require.Equal(t, logins, g.Passed(), "one hash per login")
				for i, err := range errs {
					if tc.known(i) && right(i) {
						require.NoError(t, err, "login %d", i)
					} else {
						require.ErrorIs(t, err, ErrInvalidCredentials, "login %d", i)
					}
				}
			})
		})
	}
}

// gatedHasher holds every password check at a gate.
type gatedHasher struct {
	PasswordHasher
	gate *gate.Gate
}

func (h gatedHasher) Verify(stored, password string) (bool, bool, error) {
	h.gate.Pass()
	return h.PasswordHasher.Verify(stored, password)
}

func (h gatedHasher) VerifyDummy(password string) {
	h.gate.Pass()
	h.PasswordHasher.VerifyDummy(password)
}

// TestAuthenticateUpgradesLegacyHashes: after a successful login a hash
// in any other format, or with weaker parameters, is argon2id with the
// current parameters, written in the same request.
func TestAuthenticateUpgradesLegacyHashes(t *testing.T) {
	// Current parameters above those of every PHP vector (m=1024, t=2).
	current, err := NewHasher(Argon2Params{MemoryKiB: 2048, Iterations: 2, Parallelism: 1})
	require.NoError(t, err)
	f := newFixture(t, func(c *Config) { c.Hasher = current })
	f.hasher = current
	now := f.clock.Now()
	weak, err := NewHasher(Argon2Params{MemoryKiB: 32, Iterations: 1, Parallelism: 1})
	require.NoError(t, err)
	weakHash, err := weak.Hash("weak-pass")
	require.NoError(t, err)
	cases := []phpVector{{Format: "argon2id-weaker", Password: "weak-pass", Hash: weakHash}}
	seen := map[string]bool{}
	for _, v := range loadPHPVectors(t) {
		if !seen[v.Format] && len(v.Password) <= bcryptMaxPassword {
			seen[v.Format] = true
			cases = append(cases, v)
		}
	}
	for i, v := range cases {
		t.Run(v.Format, func(t *testing.T) {
			email := v.Format + "@example.com"
			f.store.add(storage.Customer{ID: uint64(100 + i), ShopKey: "acme", Email: email, PasswordHash: v.Hash, EmailVerifiedAt: &now})
			c, err := f.auth.Authenticate(context.Background(), "acme", email, v.Password)
			require.NoError(t, err)
			stored := f.store.hashOf("acme", email)
			require.Equal(t, stored, c.PasswordHash)
			require.True(t, strings.HasPrefix(stored, "$argon2id$v=19$m=2048,t=2,p=1$"), stored)
			ok, rehash, err := f.hasher.Verify(stored, v.Password)
			require.NoError(t, err)
			require.True(t, ok)
			require.False(t, rehash)
		})
	}
	require.Len(t, seen, 7)
}

func TestAuthenticateCurrentHashIsKept(t *testing.T) {
	f := newFixture(t, nil)
	before := f.store.hashOf("acme", "sonia@spryker.com")
	_, err := f.auth.Authenticate(context.Background(), "acme", "SONIA@spryker.com ", "change123")
	require.NoError(t, err)
	require.Equal(t, before, f.store.hashOf("acme", "sonia@spryker.com"))
}

func TestAuthenticateNotVerifiedAndDisabled(t *testing.T) {
	f := newFixture(t, nil)
	hash, err := f.hasher.Hash("pw")
	require.NoError(t, err)
	now := f.clock.Now()
	f.store.add(storage.Customer{ID: 30, ShopKey: "acme", Email: "new@example.com", PasswordHash: hash})
	f.store.add(storage.Customer{ID: 31, ShopKey: "acme", Email: "gone@example.com", PasswordHash: hash, EmailVerifiedAt: &now, DisabledAt: &now})
	_, err = f.auth.Authenticate(context.Background(), "acme", "new@example.com", "pw")
	require.ErrorIs(t, err, ErrNotVerified)
	_, err = f.auth.Authenticate(context.Background(), "acme", "new@example.com", "nope")
	require.ErrorIs(t, err, ErrInvalidCredentials)
	_, err = f.auth.Authenticate(context.Background(), "acme", "gone@example.com", "pw")
	require.ErrorIs(t, err, ErrInvalidCredentials)
}

type waitRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *waitRecorder) HashWaited(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
}

// TestAuthenticateReportsQueue: the queue length counts logins waiting for
// a slot, and every login's wait reaches the observer, the ones that timed
// out included.
func TestAuthenticateReportsQueue(t *testing.T) {
	rec := &waitRecorder{}
	f := newFixture(t, func(c *Config) {
		c.HashConcurrency = 1
		c.HashQueueTimeout = 200 * time.Millisecond
		c.Observer = rec
	})
	release, err := f.auth.acquireSlot(context.Background())
	require.NoError(t, err)
	require.Zero(t, f.auth.QueueLength())

	done := make(chan error, 1)
	go func() {
		_, err := f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "change123")
		done <- err
	}()
	require.Eventually(t, func() bool { return f.auth.QueueLength() == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	release()
	require.NoError(t, <-done)
	require.Zero(t, f.auth.QueueLength())

	_, err = f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "change123")
	require.NoError(t, err)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.waits, 3, "the slot taken by the test, the queued login and the free one")
	require.Zero(t, rec.waits[0])
	require.GreaterOrEqual(t, rec.waits[1], 20*time.Millisecond)
	require.Zero(t, rec.waits[2])
}

// TestSlotReleasedBeforeTheWrites: a right password gives its hashing slot
// back before the failure count is cleared, so a slow commit (MySQL)
// keeps no login waiting.
func TestSlotReleasedBeforeTheWrites(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.HashConcurrency = 1 })
	inUse := -1
	f.store.onClear = func() { inUse = len(f.auth.slots) }
	_, err := f.auth.Authenticate(context.Background(), "acme", "sonia@spryker.com", "change123")
	require.NoError(t, err)
	require.Equal(t, 0, inUse, "no slot held while clearing the count")
	require.Zero(t, len(f.auth.slots), "and none after")
}
