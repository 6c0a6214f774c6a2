package keys

import (
	"context"
	"crypto/cipher"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/shopauth/shopauth/storage"
)

// ErrNoSigningKey is returned by Sign and PublicKeyPEM when no key of the
// algorithm may sign at this instant (every key is retired, removed or not
// yet valid, or the algorithm was never enabled).
var ErrNoSigningKey = errors.New("no current signing key")

// Store is the storage the Manager consumes.
type Store interface {
	// ListSigningKeys returns every stored key, ordered by generation.
	ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error)
	// CreateSigningKey stores k; storage.ErrConflict when its kid or its
	// generation exists already.
	CreateSigningKey(ctx context.Context, k storage.SigningKey) error
	// SetSigningKeySchedule sets a key's retire and remove dates (nil:
	// never); storage.ErrNotFound for an unknown kid.
	SetSigningKeySchedule(ctx context.Context, kid string, retireAfter, removeAfter *time.Time) error
}

// Config holds a Manager's dependencies.
type Config struct {
	Store Store
	// KEK is the 32-byte key encryption key (see ParseKEK).
	KEK []byte
	// PreviousKEK, when set, also opens stored keys: during a KEK change
	// replicas run with the new KEK and the old one until `keys rekey`
	// has re-encrypted every key (SHOPAUTH_KEY_ENCRYPTION_KEY_OLD).
	PreviousKEK []byte
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger defaults to discarding.
	Logger *slog.Logger
	// JWKSMaxAge is the longest a client may cache the JWKS; defaults to
	// 1h. With rotation the Cache-Control max-age is shorter still: see
	// Manager.JWKSMaxAge.
	JWKSMaxAge time.Duration

	// RotationPeriod is how often a new key signs (for RotateIfDue); zero
	// turns scheduled rotation off.
	RotationPeriod time.Duration
	// PublishAhead is how long a new key is in the JWKS before it signs.
	PublishAhead time.Duration
	// SyncInterval is how often every replica reloads the keys: how stale
	// another replica's view may be.
	SyncInterval time.Duration
	// ClockSkew is the clock difference tolerated between replicas and
	// resource servers.
	ClockSkew time.Duration
	// MaxTokenTTL returns the longest lifetime of any token signed now
	// (access or ID token, over every client). A key stays published this
	// long, plus ClockSkew and SyncInterval, after it stops signing.
	// Required by RotateIfDue, Rotate and Retire.
	MaxTokenTTL func(ctx context.Context) (time.Duration, error)
	// UnknownKeyReloadInterval is how long a kid that a reload did not
	// find is refused without another reload; defaults to 5s. (Reloads
	// for different unknown kids are coalesced instead: see Verify.)
	UnknownKeyReloadInterval time.Duration
}

// KeyInfo describes a key for `shopauth keys list`.
type KeyInfo struct {
	KID         string
	Algorithm   string
	Generation  int64
	State       KeyState
	Published   bool // in the JWKS now
	CreatedAt   time.Time
	NotBefore   time.Time
	RetireAfter *time.Time
	RemoveAfter *time.Time
}

// Manager holds the decrypted signing keys and answers Sign, Verify and
// JWKS from an immutable snapshot, so the hot paths take no lock. It is
// safe for concurrent use.
type Manager struct {
	store      Store
	aead       cipher.AEAD
	aeads      []cipher.AEAD // aead, then the previous KEK's if any
	now        func() time.Time
	log        *slog.Logger
	jwksMaxAge time.Duration

	rotationPeriod, publishAhead, syncInterval, clockSkew time.Duration
	maxTokenTTL                                           func(ctx context.Context) (time.Duration, error)

	unknownKeyReloadInterval time.Duration
	unknownKIDRounds         rounds
	// absentKIDs: kids a reload did not find, and when (verify.go).
	absentKIDs *lru.Cache[string, time.Time]

	// signSlots admits one signature per CPU at a time (SignWith).
	signSlots chan struct{}

	// verified remembers tokens whose signature checked out (verify.go).
	verified *lru.Cache[string, Verified]

	reloadMu sync.Mutex // one Reload at a time: store read, decrypt, install
	mu       sync.Mutex // serializes installing snapshots
	snap     atomic.Pointer[snapshot]
}

// snapshot is the key ring and its schedule at one instant. Never mutated
// after it is stored; a change installs a new one.
type snapshot struct {
	rows     []storage.SigningKey // by generation, oldest first
	mats     map[string]*material // by kid, every row
	sched    schedule
	current  map[string]*material // by algorithm; absent when none can sign
	verifier map[string]*material // published keys by kid
	// setChangesAt is when the JWKS will next differ: a key leaves or the
	// rotator adds one. Zero when nothing is scheduled.
	setChangesAt time.Time
	signingAlgs  []string // algorithms with a current key, in Algorithms order
	jwks         []byte
	jwksKIDs     []string // kids in jwks, to reuse the bytes when unchanged
}

// New loads the stored keys and, when none may sign now, creates one. Every
// private key is decrypted once here or on the Reload that first sees it.
// Concurrent New calls on one store (replicas starting together) end up
// with the same single key: the unique generation lets only one create it
// and the others load the winner's.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("keys: Config.Store is required")
	}
	aead, err := newAEAD(cfg.KEK)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aeads := []cipher.AEAD{aead}
	if cfg.PreviousKEK != nil {
		prev, err := newAEAD(cfg.PreviousKEK)
		if err != nil {
			return nil, fmt.Errorf("keys: previous %w", err)
		}
		aeads = append(aeads, prev)
	}
	for name, d := range map[string]time.Duration{
		"JWKSMaxAge": cfg.JWKSMaxAge, "RotationPeriod": cfg.RotationPeriod, "PublishAhead": cfg.PublishAhead,
		"SyncInterval": cfg.SyncInterval, "ClockSkew": cfg.ClockSkew, "UnknownKeyReloadInterval": cfg.UnknownKeyReloadInterval,
	} {
		if d < 0 {
			return nil, fmt.Errorf("keys: negative %s %v", name, d)
		}
	}
	if cfg.RotationPeriod > 0 && cfg.RotationPeriod <= cfg.PublishAhead {
		return nil, fmt.Errorf("keys: RotationPeriod %v must be longer than PublishAhead %v", cfg.RotationPeriod, cfg.PublishAhead)
	}
	m := &Manager{
		store:                    cfg.Store,
		aead:                     aead,
		aeads:                    aeads,
		now:                      cfg.Now,
		log:                      cfg.Logger,
		jwksMaxAge:               cfg.JWKSMaxAge,
		rotationPeriod:           cfg.RotationPeriod,
		publishAhead:             cfg.PublishAhead,
		syncInterval:             cfg.SyncInterval,
		clockSkew:                cfg.ClockSkew,
		maxTokenTTL:              cfg.MaxTokenTTL,
		unknownKeyReloadInterval: cfg.UnknownKeyReloadInterval,
		signSlots:                make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	if m.verified, err = lru.New[string, Verified](verifiedCacheSize); err != nil {
		return nil, err
	}
	if m.absentKIDs, err = lru.New[string, time.Time](absentKIDsSize); err != nil {
		return nil, err
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.jwksMaxAge == 0 {
		m.jwksMaxAge = time.Hour
	}
	if m.unknownKeyReloadInterval == 0 {
		m.unknownKeyReloadInterval = 5 * time.Second
	}
	m.snap.Store(&snapshot{mats: map[string]*material{}, current: map[string]*material{}})

	// A lost race reloads and finds the winner's key; a few rounds cover
	// even an unlucky interleaving of several replicas.
	const attempts = 5
	for range attempts {
		if err := m.Reload(ctx); err != nil {
			return nil, err
		}
		if m.Ready() {
			return m, nil
		}
		// The very first key signs at once: no verifier can have cached a
		// JWKS yet. Likewise a store whose keys all retired: better a key
		// unknown to stale caches than no tokens at all.
		_, err := m.createKey(ctx, m.snap.Load().rows, DefaultAlgorithm, m.now())
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			return nil, err
		}
		if err != nil {
			m.log.InfoContext(ctx, "another replica created the signing key first; loading it")
		}
	}
	return nil, fmt.Errorf("keys: no signing key after %d attempts", attempts)
}

// createKey generates an alg key, valid from notBefore, with the generation
// after the newest of rows, and stores it. rows must be the read the
// caller decided on: replicas deciding on the same read then pick the same
// generation and the unique index lets only one of them create the key
// (storage.ErrConflict for the others).
func (m *Manager) createKey(ctx context.Context, rows []storage.SigningKey, alg string, notBefore time.Time) (storage.SigningKey, error) {
	var gen int64
	for _, r := range rows {
		gen = max(gen, r.Generation)
	}
	row, mat, err := generateKey(m.aead, alg, gen+1, m.now(), notBefore)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: %w", err)
	}
	if err := m.store.CreateSigningKey(ctx, row); err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: store new signing key: %w", err)
	}
	m.log.InfoContext(ctx, "created signing key", "kid", row.KID, "alg", alg, "generation", row.Generation, "not_before", notBefore)
	// Seed the cache so the next Reload does not decrypt what we just made.
	return row, m.reload(ctx, mat)
}

// Reload re-reads the store. Keys already loaded are not decrypted again
// (a kid is the key's thumbprint, so its material cannot change); signers
// are reused and the JWKS bytes are rebuilt only when the published set
// changes. On error the previous keys stay in use.
func (m *Manager) Reload(ctx context.Context) error {
	return m.reload(ctx, nil)
}

func (m *Manager) reload(ctx context.Context, seed *material) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()

	rows, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list signing keys: %w", err)
	}
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b storage.SigningKey) int {
		return cmpInt64(a.Generation, b.Generation)
	})

	old := m.snap.Load()
	if sameRows(old.rows, rows) {
		return nil
	}
	mats := make(map[string]*material, len(rows))
	var added []string
	for _, r := range rows {
		switch {
		case old.mats[r.KID] != nil:
			mats[r.KID] = old.mats[r.KID]
		case seed != nil && seed.kid == r.KID:
			mats[r.KID] = seed
		default:
			mat, err := decryptMaterial(m.aeads, r)
			if err != nil {
				return fmt.Errorf("keys: %w", err)
			}
			mats[r.KID] = mat
			added = append(added, r.KID)
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	next, err := m.buildSnapshot(rows, mats, m.now(), m.snap.Load())
	if err != nil {
		return err
	}
	m.snap.Store(next)
	m.log.InfoContext(ctx, "signing keys loaded", "keys", len(rows), "decrypted", len(added), "current", next.currentKIDs())
	return nil
}

// view returns the snapshot for now, redoing the schedule (in memory, no
// store access) when a key has changed role since it was computed.
func (m *Manager) view() *snapshot {
	s := m.snap.Load()
	if s.sched.validUntil.IsZero() || m.now().Before(s.sched.validUntil) {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s = m.snap.Load()
	now := m.now()
	if s.sched.validUntil.IsZero() || now.Before(s.sched.validUntil) {
		return s // another goroutine advanced it
	}
	next, err := m.buildSnapshot(s.rows, s.mats, now, s)
	if err != nil {
		// Only marshalling public keys can fail, and it did not fail when
		// these same keys were loaded; keep serving the old view.
		m.log.Error("rebuild signing key schedule", "err", err)
		return s
	}
	if !slices.Equal(next.currentKIDs(), s.currentKIDs()) {
		m.log.Info("signing key changed", "kids", next.currentKIDs(), "previous", s.currentKIDs())
	}
	m.snap.Store(next)
	return next
}

// buildSnapshot computes the schedule at now. prev supplies JWKS bytes to
// reuse when the published set is unchanged.
func (m *Manager) buildSnapshot(rows []storage.SigningKey, mats map[string]*material, now time.Time, prev *snapshot) (*snapshot, error) {
	s := &snapshot{rows: rows, mats: mats, sched: computeSchedule(rows, now), current: map[string]*material{}}
	// Until the schedule changes, the next change of the key set is a
	// fixed instant: compute it once, not per JWKS request.
	s.setChangesAt = s.sched.setChange
	if m.rotationPeriod > 0 {
		p := policy{period: m.rotationPeriod, publishAhead: m.publishAhead}
		if next := p.nextCreation(rows, now); !next.IsZero() && (s.setChangesAt.IsZero() || next.Before(s.setChangesAt)) {
			s.setChangesAt = next
		}
	}
	for alg, i := range s.sched.current {
		s.current[alg] = mats[rows[i].KID]
	}
	for _, alg := range Algorithms() {
		if s.current[alg] != nil {
			s.signingAlgs = append(s.signingAlgs, alg)
		}
	}
	s.verifier = make(map[string]*material, len(s.sched.published))
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(s.sched.published))}
	for _, i := range s.sched.published {
		mat := mats[rows[i].KID]
		s.verifier[mat.kid] = mat
		s.jwksKIDs = append(s.jwksKIDs, mat.kid)
		set.Keys = append(set.Keys, mat.jwk) // public only: mat.jwk never holds the private key
	}
	if prev != nil && prev.jwks != nil && slices.Equal(prev.jwksKIDs, s.jwksKIDs) {
		s.jwks = prev.jwks
		return s, nil
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal JWKS: %w", err)
	}
	s.jwks = b
	return s, nil
}

// currentKID returns alg's signing key id, "" when none.
func (s *snapshot) currentKID(alg string) string {
	if cur := s.current[alg]; cur != nil {
		return cur.kid
	}
	return ""
}

// currentKIDs lists the signing key ids in the order of Algorithms.
func (s *snapshot) currentKIDs() []string {
	var out []string
	for _, alg := range Algorithms() {
		if kid := s.currentKID(alg); kid != "" {
			out = append(out, kid)
		}
	}
	return out
}

// Sign is SignWith(DefaultAlgorithm, payload, typ).
func (m *Manager) Sign(payload []byte, typ string) (string, error) {
	return m.SignWith(DefaultAlgorithm, payload, typ)
}

// SignWith returns payload as a compact JWS signed with alg's current key
// ("" means DefaultAlgorithm), with header alg, kid and typ (omitted when
// empty; TypAccessToken for access tokens, TypIDToken for ID tokens). The
// cost is one signature: signers are built once per key and typ.
func (m *Manager) SignWith(alg string, payload []byte, typ string) (string, error) {
	if alg == "" {
		alg = DefaultAlgorithm
	}
	cur := m.view().current[alg]
	if cur == nil {
		return "", fmt.Errorf("%w for %s", ErrNoSigningKey, alg)
	}
	signer, err := cur.signer(typ)
	if err != nil {
		return "", err
	}
	// An RSA signature is a millisecond of CPU without a preemption point
	// worth the name. Under load, hundreds of requests signing at once
	// would share the cores round-robin: every signature would take as
	// long as the slowest, and the password hashes of the logins in
	// between would starve until their queue timed out. Admitted one per
	// core, signers finish in arrival order and leave the scheduler room.
	m.signSlots <- struct{}{}
	obj, err := signer.Sign(payload)
	<-m.signSlots
	if err != nil {
		return "", fmt.Errorf("keys: sign with %s: %w", cur.kid, err)
	}
	return obj.CompactSerialize()
}

// JWKS returns the JSON Web Key Set of the published keys (RFC 7517 §5),
// newest first, public parts only. The bytes are shared and rebuilt only
// when the set changes: callers must not modify them.
func (m *Manager) JWKS() []byte {
	return m.view().jwks
}

// JWKSMaxAge is how long clients may cache JWKS() from now on, for
// Cache-Control. It never reaches past the next change of the key set (a
// key leaving, or the rotator adding one), so a cache is never served a
// set that is no longer true; and with rotation it is at most
// PublishAhead minus SyncInterval, so a key published on one replica
// reaches every cache before any replica signs with it.
func (m *Manager) JWKSMaxAge() time.Duration {
	s, now := m.view(), m.now()
	age := m.jwksMaxAge
	if m.rotationPeriod > 0 {
		age = min(age, max(0, m.publishAhead-m.syncInterval))
	}
	if !s.setChangesAt.IsZero() {
		age = min(age, max(0, s.setChangesAt.Sub(now)))
	}
	return age
}

// Ready reports whether a DefaultAlgorithm key may sign now (for /readyz).
func (m *Manager) Ready() bool {
	return m.view().current[DefaultAlgorithm] != nil
}

// CurrentKID returns the kid of the DefaultAlgorithm signing key, "" when
// none.
func (m *Manager) CurrentKID() string {
	return m.view().currentKID(DefaultAlgorithm)
}

// SigningAlgorithms lists the algorithms that have a signing key now, in
// the order of Algorithms, for discovery's *_signing_alg_values_supported.
// The slice is shared (discovery asks on every request): callers must not
// modify it.
func (m *Manager) SigningAlgorithms() []string {
	return m.view().signingAlgs
}

// PublicKeyPEM returns the public part of the DefaultAlgorithm signing key
// as a PKIX "PUBLIC KEY" PEM block, for `shopauth keys export --pem`.
func (m *Manager) PublicKeyPEM() ([]byte, error) {
	return m.PublicKeyPEMOf(m.CurrentKID())
}

// PublicKeyPEMOf returns the public part of the published key kid as a
// PKIX "PUBLIC KEY" PEM block.
func (m *Manager) PublicKeyPEMOf(kid string) ([]byte, error) {
	cur := m.view().verifier[kid]
	if cur == nil {
		if kid == "" {
			return nil, ErrNoSigningKey
		}
		return nil, fmt.Errorf("keys: %w: %q is not published", ErrUnknownKey, kid)
	}
	der, err := x509.MarshalPKIXPublicKey(cur.pub)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// List describes every stored key, oldest first.
func (m *Manager) List() []KeyInfo {
	s := m.view()
	now := m.now()
	sched := computeSchedule(s.rows, now) // exact for now, even between views
	out := make([]KeyInfo, len(s.rows))
	for i, r := range s.rows {
		out[i] = KeyInfo{
			KID:         r.KID,
			Algorithm:   r.Algorithm,
			Generation:  r.Generation,
			State:       sched.state(s.rows, i, now),
			Published:   isPublished(&s.rows[i], now),
			CreatedAt:   r.CreatedAt,
			NotBefore:   r.NotBefore,
			RetireAfter: r.RetireAfter,
			RemoveAfter: r.RemoveAfter,
		}
	}
	return out
}

// Sync calls Reload every interval until ctx ends, so a replica picks up
// keys created or retired by others (SHOPAUTH_KEY_SYNC_INTERVAL). Errors are
// logged and the previous keys kept. It returns ctx's error.
func (m *Manager) Sync(ctx context.Context, interval time.Duration) error {
	return m.every(ctx, interval, "reload signing keys", m.Reload)
}

// every calls fn every interval until ctx ends, logging its errors (what
// names the action), and returns ctx's error.
func (m *Manager) every(ctx context.Context, interval time.Duration, what string, fn func(context.Context) error) error {
	if interval <= 0 {
		return fmt.Errorf("keys: %s: interval must be positive, got %v", what, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			m.tick(ctx, interval, what, fn)
		}
	}
}

// tick runs fn once, for at most interval: a database that stopped
// answering (frozen, or its host gone without a reset) must not hold the
// loop, and the keys in memory keep serving meanwhile. A database that is
// away is an outage the operator sees everywhere, logged at warn; anything
// else at error.
func (m *Manager) tick(ctx context.Context, interval time.Duration, what string, fn func(context.Context) error) {
	tctx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()
	err := fn(tctx)
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		m.log.WarnContext(ctx, what, "err", err)
	default:
		m.log.ErrorContext(ctx, what, "err", err)
	}
}

// sameRows reports whether two key lists have the same keys and schedule
// fields. The ciphertext is deliberately not compared: re-encryption under
// a new KEK (`keys rekey`) changes it without changing the key.
func sameRows(a, b []storage.SigningKey) bool {
	return slices.EqualFunc(a, b, func(x, y storage.SigningKey) bool {
		return x.KID == y.KID && x.Generation == y.Generation && x.Algorithm == y.Algorithm &&
			x.CreatedAt.Equal(y.CreatedAt) && x.NotBefore.Equal(y.NotBefore) &&
			timePtrEqual(x.RetireAfter, y.RetireAfter) && timePtrEqual(x.RemoveAfter, y.RemoveAfter)
	})
}

func timePtrEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
