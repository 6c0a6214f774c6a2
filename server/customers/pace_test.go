package customers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/shopauth/shopauth/storage"
)

func TestHashClass(t *testing.T) {
	for stored, want := range map[string]string{
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5":  "argon2id$v=19$m=19456,t=2,p=1",
		"$argon2id$v=19$m=65536,t=4,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5":  "argon2id$v=19$m=65536,t=4,p=1",
		"$argon2i$v=19$m=65536,t=4,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5":   "argon2i$v=19$m=65536,t=4,p=1",
		"$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a": "bcrypt$10",
		"$2a$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a": "bcrypt$10",
		"$2b$12$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a": "bcrypt$12",
		"$P$BlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0":                           "phpass$B",
		"$H$BlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0":                           "phpass$B",
		"$P$DlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0":                           "phpass$D",
		"$argon2id$v=19":                                               "",
		"$2y$1":                                                        "",
		"$P$":                                                          "",
		"plaintext":                                                    "",
		"":                                                             "",
	} {
		require.Equal(t, want, hashClass(stored), stored)
	}
}

// TestPacerFloor: the floor is the slowest class's moving average plus the
// margin, follows that average, and is capped.
func TestPacerFloor(t *testing.T) {
	ms := time.Millisecond
	steps := []struct {
		class string
		took  time.Duration
		floor time.Duration
	}{
		{"argon2id", 20 * ms, 25 * ms},
		{"phpass", 1 * ms, 25 * ms},                     // faster classes do not lower it
		{"bcrypt$12", 240 * ms, 300 * ms},               // a slower one raises it at once
		{"argon2id", 20 * ms, 300 * ms},                 // and it stays while others are seen
		{"bcrypt$12", 400 * ms, 350 * ms},               // the average moves a quarter: 280 ms
		{"bcrypt$14", 5 * time.Second, 2 * time.Second}, // capped
	}
	p := newPacer()
	require.Zero(t, p.failureFloor(), "nothing seen, nothing to hide")
	for i, s := range steps {
		p.observe(s.class, s.took)
		require.Equal(t, s.floor, p.failureFloor(), "step %d", i)
	}

	t.Run("classes beyond the bound share one", func(t *testing.T) {
		p := newPacer()
		for i := range maxHashClasses + 10 {
			p.observe(fmt.Sprintf("c%d", i), ms)
		}
		require.Len(t, p.costs, maxHashClasses+1)
		p.observe("one too many", 100*ms)
		require.NotContains(t, p.costs, "one too many")
		require.Len(t, p.costs, maxHashClasses+1)
		// "other" averaged 1 ms, moves a quarter of the way to 100 ms.
		require.Equal(t, 32187500*time.Nanosecond, p.failureFloor(), "25.75 ms and the margin")
	})
}

// recordedSleeps stands in for the pacing sleep: it records what was asked
// and, when hold is set, blocks until it is closed.
type recordedSleeps struct {
	mu    sync.Mutex
	asked []time.Duration
	hold  chan struct{}
}

func (r *recordedSleeps) sleep(ctx context.Context, d time.Duration) {
	r.mu.Lock()
	r.asked = append(r.asked, d)
	hold := r.hold
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
}

func (r *recordedSleeps) take() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.asked
	r.asked = nil
	return out
}

// TestAuthenticatePacesFailures: once a slow class has been verified, every
// failed login (wrong password, unknown address, locked account, disabled
// account, a fast legacy hash) waits out the floor from the start of its
// verification; a success does not wait. Issue 13 item 3: without the
// pacing a wrong password for a phpass customer took ~1 ms and an unknown
// address a full argon2id verification.
func TestAuthenticatePacesFailures(t *testing.T) {
	sleeps := &recordedSleeps{}
	f := newFixture(t, func(c *Config) { c.Sleep = sleeps.sleep })
	verified := f.clock.Now()
	f.store.add(storage.Customer{ID: 22, ShopKey: "acme", Email: "wp@example.com", PasswordHash: "$P$BlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0", EmailVerifiedAt: &verified})
	disabledAt := f.clock.Now()
	f.store.add(storage.Customer{ID: 23, ShopKey: "acme", Email: "gone@example.com", PasswordHash: f.store.hashOf("acme", "sonia@spryker.com"), EmailVerifiedAt: &verified, DisabledAt: &disabledAt})
	ctx := context.Background()

	// A bcrypt customer: its verification is the slowest class seen.
	slow, err := bcrypt.GenerateFromPassword([]byte("secret"), 8)
	require.NoError(t, err)
	f.store.add(storage.Customer{ID: 24, ShopKey: "acme", Email: "old@example.com", PasswordHash: "$2y$" + string(slow[4:]), EmailVerifiedAt: &verified})
	_, err = f.auth.Authenticate(ctx, "acme", "old@example.com", "wrong")
	require.ErrorIs(t, err, ErrInvalidCredentials)
	floor := f.auth.pacer.failureFloor()
	require.Positive(t, floor)
	bcryptCost := f.auth.pacer.costs["bcrypt$08"]
	require.Equal(t, min(time.Duration(float64(bcryptCost)*failureFloorMargin), maxFailureFloor), floor,
		"bcrypt 8 is the slowest class here (capped on a machine slow enough)")
	sleeps.take()

	failures := []struct{ name, email, password string }{
		{"wrong password, current argon2id", "sonia@spryker.com", "wrong"},
		{"wrong password, phpass", "wp@example.com", "wrong"},
		{"unknown address", "nobody@example.com", "wrong"},
		{"disabled account, right password", "gone@example.com", "change123"},
		{"address no customer can have", string(make([]byte, MaxEmailBytes+1)), "wrong"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			_, err := f.auth.Authenticate(ctx, "acme", tt.email, tt.password)
			took := time.Since(began)
			require.ErrorIs(t, err, ErrInvalidCredentials)
			asked := sleeps.take()
			require.Len(t, asked, 1, "one wait per failure")
			floor := f.auth.pacer.failureFloor()
			require.LessOrEqual(t, asked[0], floor)
			require.GreaterOrEqual(t, asked[0]+took, floor, "the wait tops the verification up to the floor")
		})
	}

	t.Run("locked account", func(t *testing.T) {
		for range 3 {
			_, err := f.auth.Authenticate(ctx, "acme", "wp@example.com", "wrong")
			require.ErrorIs(t, err, ErrInvalidCredentials)
		}
		sleeps.take()
		_, err := f.auth.Authenticate(ctx, "acme", "wp@example.com", "wrong")
		require.ErrorIs(t, err, ErrLocked)
		require.Len(t, sleeps.take(), 1)
	})

	t.Run("success does not wait", func(t *testing.T) {
		_, err := f.auth.Authenticate(ctx, "acme", "sonia@spryker.com", "change123")
		require.NoError(t, err)
		require.Empty(t, sleeps.take())
	})

	t.Run("refused before hashing does not wait", func(t *testing.T) {
		_, err := f.auth.Authenticate(ctx, "acme", "sonia@spryker.com", "")
		require.ErrorIs(t, err, ErrInvalidCredentials)
		require.Empty(t, sleeps.take())
	})
}

// TestPacingHoldsNoSlot: a failed login waiting out the floor has given
// its hashing slot back: with one slot, another login runs and finishes
// while the first still waits.
func TestPacingHoldsNoSlot(t *testing.T) {
	sleeps := &recordedSleeps{hold: make(chan struct{})}
	f := newFixture(t, func(c *Config) { c.Sleep = sleeps.sleep; c.HashConcurrency = 1; c.HashQueueTimeout = time.Minute })
	f.auth.pacer.observe("slow", time.Hour) // every failure waits
	ctx := context.Background()

	failed := make(chan error, 1)
	go func() {
		_, err := f.auth.Authenticate(ctx, "acme", "nobody@example.com", "wrong")
		failed <- err
	}()
	require.Eventually(t, func() bool {
		sleeps.mu.Lock()
		defer sleeps.mu.Unlock()
		return len(sleeps.asked) == 1
	}, 10*time.Second, time.Millisecond)
	require.Zero(t, len(f.auth.slots), "the waiting failure holds no slot")

	_, err := f.auth.Authenticate(ctx, "acme", "sonia@spryker.com", "change123")
	require.NoError(t, err, "the one slot is free for another login")
	select {
	case err := <-failed:
		t.Fatalf("the failure answered before its wait ended: %v", err)
	default:
	}
	close(sleeps.hold)
	require.ErrorIs(t, <-failed, ErrInvalidCredentials)
}

// TestPacingSleepEndsWithTheRequest: the default wait ends when the
// client goes away.
func TestPacingSleepEndsWithTheRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	began := time.Now()
	sleep(ctx, time.Hour)
	require.Less(t, time.Since(began), time.Minute)

	began = time.Now()
	sleep(context.Background(), 20*time.Millisecond)
	require.GreaterOrEqual(t, time.Since(began), 20*time.Millisecond)
}
