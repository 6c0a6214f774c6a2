package customers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

// Errors of Authenticate. ErrInvalidCredentials covers an unknown e-mail, a
// wrong password, a disabled account and a locked one alike, so callers
// cannot tell them apart; ErrLocked wraps it for logs and tests only.
// ErrNotVerified is only returned after the right password.
var (
	ErrInvalidCredentials = errors.New("customers: invalid credentials")
	ErrLocked             = fmt.Errorf("%w: too many failed logins", ErrInvalidCredentials)
	ErrNotVerified        = errors.New("customers: e-mail address not verified")
)

// MaxPasswordBytes bounds the work a single request can ask for.
const MaxPasswordBytes = server.MaxPasswordBytes

// MaxEmailBytes is the longest e-mail address a customer can have (the
// column is 255 characters); a longer one cannot belong to anybody.
const MaxEmailBytes = 255

// DefaultHashQueueTimeout is how long a login waits for a hashing slot
// before it is answered 503.
const DefaultHashQueueTimeout = 2 * time.Second

// Store is what the authenticator needs from storage.
type Store interface {
	GetCustomerByEmail(ctx context.Context, shopKey, emailNormalized string) (storage.Customer, error)
	UpdatePasswordHash(ctx context.Context, id uint64, oldHash, newHash string) error
	RecordLoginAttempt(ctx context.Context, shopKey, emailNormalized string, now time.Time, policy storage.LockoutPolicy) (storage.LoginFailures, bool, error)
	ClearLoginFailures(ctx context.Context, shopKey, emailNormalized string) error
}

// PasswordHasher is the password work an Authenticator does. *Hasher is
// the implementation; tests wrap it to count the hashes in progress.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(stored, password string) (ok, needsRehash bool, err error)
	VerifyDummy(password string)
}

// Config holds an Authenticator's dependencies and policy.
type Config struct {
	Store  Store
	Hasher PasswordHasher
	// Lockout is the failed-login policy; a zero Threshold takes
	// storage.DefaultLockoutPolicy.
	Lockout storage.LockoutPolicy
	// HashConcurrency is how many hashes run at once (0: GOMAXPROCS).
	HashConcurrency int
	// HashQueueTimeout is how long a login waits for a slot (0: 2 s).
	HashQueueTimeout time.Duration
	Now              func() time.Time
	Logger           *slog.Logger
	// Observer is told how long each login waited for a hashing slot
	// (metrics); nil: nobody.
	Observer WaitObserver
	// Sleep waits d or until ctx ends; it paces failed logins (pace.go).
	// Nil: a timer.
	Sleep func(ctx context.Context, d time.Duration)
}

// WaitObserver receives the time logins spent queued for a hashing slot.
type WaitObserver interface {
	HashWaited(d time.Duration)
}

// Authenticator checks a customer's e-mail and password within one shop,
// counting failures per address and computing at most HashConcurrency
// hashes at once.
type Authenticator struct {
	store        Store
	hasher       PasswordHasher
	lockout      storage.LockoutPolicy
	slots        chan struct{}
	queueTimeout time.Duration
	queued       atomic.Int64
	observer     WaitObserver
	pacer        *pacer
	sleep        func(ctx context.Context, d time.Duration)
	now          func() time.Time
	logger       *slog.Logger
}

// NewAuthenticator checks cfg and returns an Authenticator.
func NewAuthenticator(cfg Config) (*Authenticator, error) {
	if cfg.Store == nil || cfg.Hasher == nil {
		return nil, errors.New("customers: store and hasher are required")
	}
	if cfg.Lockout.Threshold == 0 {
		cfg.Lockout = storage.DefaultLockoutPolicy
	}
	if cfg.Lockout.Threshold < 1 || cfg.Lockout.Window <= 0 || cfg.Lockout.FirstLock <= 0 || cfg.Lockout.MaxLock < cfg.Lockout.FirstLock {
		return nil, fmt.Errorf("customers: invalid lockout policy %+v", cfg.Lockout)
	}
	if cfg.HashConcurrency < 0 {
		return nil, errors.New("customers: negative hash concurrency")
	}
	if cfg.HashConcurrency == 0 {
		cfg.HashConcurrency = runtime.GOMAXPROCS(0)
	}
	if cfg.HashQueueTimeout <= 0 {
		cfg.HashQueueTimeout = DefaultHashQueueTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Authenticator{
		store: cfg.Store, hasher: cfg.Hasher, lockout: cfg.Lockout,
		slots: make(chan struct{}, cfg.HashConcurrency), queueTimeout: cfg.HashQueueTimeout,
		pacer: newPacer(), sleep: cfg.Sleep,
		now: cfg.Now, logger: cfg.Logger, observer: cfg.Observer,
	}, nil
}

// QueueLength is how many logins wait for a hashing slot now.
func (a *Authenticator) QueueLength() int { return int(a.queued.Load()) }

// NormalizeEmail is the lookup form of an e-mail address: trimmed and
// lower-cased, so "  Sonia@Spryker.com" finds sonia@spryker.com.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Authenticate returns the customer of shopKey with this e-mail when the
// password is right and the account may sign in.
//
// Every attempt that gets as far as hashing costs one verification at
// current parameters or more, whatever the outcome: an unknown address, a
// locked one and an unreadable stored hash are checked against a dummy
// hash. A failure is then answered no sooner than the pacer's floor after
// its verification began, so its time tells neither whether the address
// is a customer's nor with which kind of hash (pace.go). The attempt is
// counted before the password is checked (see
// storage.LockoutPolicy.Attempt), so parallel guesses cannot outrun the
// lock; a right password clears the count.
func (a *Authenticator) Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error) {
	// Refused before any hashing: the work a request can cause is bounded.
	if password == "" || len(password) > MaxPasswordBytes {
		return storage.Customer{}, ErrInvalidCredentials
	}
	release, err := a.acquireSlot(ctx)
	if err != nil {
		return storage.Customer{}, err
	}
	releaseOnce := sync.OnceFunc(release)
	defer releaseOnce()

	normalized := NormalizeEmail(email)
	if len(normalized) > MaxEmailBytes || !utf8.ValidString(normalized) {
		// No customer can have it, and the lockout table cannot key it.
		return a.refuse(ctx, releaseOnce, a.verifyDummy(password), ErrInvalidCredentials)
	}
	if _, allowed, err := a.store.RecordLoginAttempt(ctx, shopKey, normalized, a.now(), a.lockout); err != nil {
		return storage.Customer{}, fmt.Errorf("record login attempt: %w", err)
	} else if !allowed {
		return a.refuse(ctx, releaseOnce, a.verifyDummy(password), ErrLocked)
	}

	c, err := a.store.GetCustomerByEmail(ctx, shopKey, normalized)
	if errors.Is(err, storage.ErrNotFound) {
		return a.refuse(ctx, releaseOnce, a.verifyDummy(password), ErrInvalidCredentials)
	}
	if err != nil {
		return storage.Customer{}, fmt.Errorf("look up customer: %w", err)
	}
	began := time.Now()
	ok, rehash, err := a.hasher.Verify(c.PasswordHash, password)
	if errors.Is(err, ErrUnknownHashFormat) {
		a.logger.WarnContext(ctx, "customer has an unreadable password hash", "shop", shopKey, "customer_id", c.ID)
		return a.refuse(ctx, releaseOnce, a.verifyDummy(password), ErrInvalidCredentials)
	}
	if err != nil {
		return storage.Customer{}, fmt.Errorf("verify password: %w", err)
	}
	a.pacer.observe(hashClass(c.PasswordHash), time.Since(began))
	if !rehash {
		// The hashing is done; the slot would only wait with the writes
		// that follow (on MySQL, each for a commit) while logins queue.
		releaseOnce()
	}
	if !ok || c.Disabled() {
		return a.refuse(ctx, releaseOnce, began, ErrInvalidCredentials)
	}
	if err := a.store.ClearLoginFailures(ctx, shopKey, normalized); err != nil {
		// The password was right; a count left behind only shortens the
		// road to a lock.
		a.logger.WarnContext(ctx, "clear login failures", "shop", shopKey, "customer_id", c.ID, "err", err)
	}
	if !c.Verified() {
		return storage.Customer{}, ErrNotVerified
	}
	if rehash {
		a.upgradeHash(ctx, &c, password)
	}
	return c, nil
}

// verifyDummy spends one verification at current parameters and returns
// when it began. Pacing measures real time (the monotonic clock), not the
// injected one: it is about how long the work took, and tests move the
// injected clock at will.
func (a *Authenticator) verifyDummy(password string) (began time.Time) {
	began = time.Now()
	a.hasher.VerifyDummy(password)
	a.pacer.observe(dummyClass, time.Since(began))
	return began
}

// refuse answers a failed login whose verification began at began: the
// slot goes back first, then the answer waits until the pacer's floor has
// passed since began (pace.go).
func (a *Authenticator) refuse(ctx context.Context, release func(), began time.Time, err error) (storage.Customer, error) {
	release()
	if wait := a.pacer.failureFloor() - time.Since(began); wait > 0 {
		a.sleep(ctx, wait)
	}
	return storage.Customer{}, err
}

// errHashingBusy is answered when no hashing slot frees up in time.
var errHashingBusy = refusal.ErrUnavailable.WithRetryAfter(time.Second)

// acquireSlot waits up to the queue timeout for one of the hashing slots,
// so a flood of logins queues instead of allocating argon2's memory for
// each: the process never holds more than HashConcurrency hashes.
func (a *Authenticator) acquireSlot(ctx context.Context) (release func(), err error) {
	release = func() { <-a.slots }
	select {
	case a.slots <- struct{}{}:
		a.observeWait(0)
		return release, nil
	default:
	}
	start := time.Now()
	a.queued.Add(1)
	defer a.queued.Add(-1)
	timer := time.NewTimer(a.queueTimeout)
	defer timer.Stop()
	select {
	case a.slots <- struct{}{}:
		a.observeWait(time.Since(start))
		return release, nil
	case <-timer.C:
		a.observeWait(time.Since(start))
		return nil, errHashingBusy
	case <-ctx.Done():
		// The request's deadline passed in the queue: busy, as when the
		// queue timeout passes (never a fault, see refusal.Of).
		a.observeWait(time.Since(start))
		return nil, errHashingBusy.WithCause(ctx.Err())
	}
}

func (a *Authenticator) observeWait(d time.Duration) {
	if a.observer != nil {
		a.observer.HashWaited(d)
	}
}

// upgradeHash replaces a legacy or weaker hash now that the plaintext is at
// hand. A failure only postpones the upgrade to the next login.
func (a *Authenticator) upgradeHash(ctx context.Context, c *storage.Customer, password string) {
	newHash, err := a.hasher.Hash(password)
	if err != nil {
		a.logger.WarnContext(ctx, "rehash password", "customer_id", c.ID, "err", err)
		return
	}
	if err := a.store.UpdatePasswordHash(ctx, c.ID, c.PasswordHash, newHash); err != nil {
		a.logger.WarnContext(ctx, "store upgraded password hash", "customer_id", c.ID, "err", err)
		return
	}
	c.PasswordHash = newHash
}
