package keys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// policy is the rotation schedule. Every replica must use the same one
// (docs/operations.md, scale-out): they all compute the same plan from the
// same rows, so whichever replica acts first does what the others would
// have done.
type policy struct {
	period       time.Duration // a new key signs this often
	publishAhead time.Duration // a new key is in the JWKS this long before it signs
	// retention is how long a key stays published after it stops signing:
	// the longest token lifetime plus clock skew plus the replica sync
	// interval (a replica that has not seen the successor yet still signs
	// with the old key for up to one interval).
	retention time.Duration
}

// plannedKey is a key the rotator must create now.
type plannedKey struct {
	alg       string
	notBefore time.Time
}

// scheduleUpdate is a stored key whose retire/remove dates must change.
type scheduleUpdate struct {
	kid                      string
	retireAfter, removeAfter *time.Time
}

// emergencyRetired reports a key retired by `keys retire`: it left the JWKS
// the moment it stopped signing. The rotator never touches its dates.
func emergencyRetired(k *storage.SigningKey) bool {
	return k.RetireAfter != nil && k.RemoveAfter != nil && !k.RemoveAfter.After(*k.RetireAfter)
}

// live reports whether k signs now or will sign later.
func live(k *storage.SigningKey, now time.Time) bool {
	return isPublished(k, now) && !emergencyRetired(k) &&
		(k.RetireAfter == nil || k.RetireAfter.After(now) && k.RetireAfter.After(k.NotBefore))
}

// algorithmsInUse are the algorithms the rotator keeps a key for: RS256
// always, and any other that has a published key (an operator enabled it
// with `keys rotate --alg`), in the order of Algorithms.
func algorithmsInUse(rows []storage.SigningKey, now time.Time) []string {
	var out []string
	for _, alg := range Algorithms() {
		if alg == DefaultAlgorithm || slices.ContainsFunc(rows, func(k storage.SigningKey) bool {
			return k.Algorithm == alg && isPublished(&k, now) && !emergencyRetired(&k)
		}) {
			out = append(out, alg)
		}
	}
	return out
}

// newestLive returns the index of alg's newest live key, -1 when none: the
// next key if one is published ahead, else the current one.
func newestLive(rows []storage.SigningKey, alg string, now time.Time) int {
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Algorithm == alg && live(&rows[i], now) {
			return i
		}
	}
	return -1
}

// nextKey returns the index of alg's key published ahead, -1 when none.
func nextKey(rows []storage.SigningKey, alg string, now time.Time) int {
	if i := newestLive(rows, alg, now); i >= 0 && rows[i].NotBefore.After(now) {
		return i
	}
	return -1
}

// dueAt is when the rotator creates alg's next key: publishAhead before
// the newest live key has signed for a period. It returns now when alg has
// no live key at all.
func (p policy) dueAt(rows []storage.SigningKey, alg string, now time.Time) time.Time {
	i := newestLive(rows, alg, now)
	if i < 0 {
		return now
	}
	return rows[i].NotBefore.Add(p.period - p.publishAhead)
}

// due returns the keys to create at now, at most one per algorithm.
//
// A next key signs period after its predecessor began, and never sooner
// than publishAhead from now, so every cache that honours the JWKS max-age
// has it before its first token (Must hold 1). An algorithm without any
// live key (every key retired) gets one that signs at once: tokens signed
// by a key some caches lack beat no tokens at all.
func (p policy) due(rows []storage.SigningKey, now time.Time) []plannedKey {
	var out []plannedKey
	for _, alg := range algorithmsInUse(rows, now) {
		i := newestLive(rows, alg, now)
		switch {
		case i < 0:
			out = append(out, plannedKey{alg: alg, notBefore: now.Truncate(time.Second)})
		case !now.Before(p.dueAt(rows, alg, now)):
			nb := rows[i].NotBefore.Add(p.period)
			nb = laterOf(nb, now.Add(p.publishAhead))
			out = append(out, plannedKey{alg: alg, notBefore: ceilSecond(nb)})
		}
	}
	return out
}

// nextCreation is the earliest instant at which the rotator will add a key
// to the JWKS; zero when there is nothing to rotate.
func (p policy) nextCreation(rows []storage.SigningKey, now time.Time) time.Time {
	var first time.Time
	for _, alg := range algorithmsInUse(rows, now) {
		at := p.dueAt(rows, alg, now)
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first
}

// converge returns the date changes that make the stored schedule match
// the keys: a key stops signing when the first newer key of its algorithm
// starts, and leaves the JWKS retention later, so every token it signed has
// expired by then. Dates only ever move later, except when a newer key is
// retired in an emergency: then its predecessor, still published and still
// in every cache, signs again. Keys retired in an emergency and keys
// already gone are left alone.
func (p policy) converge(rows []storage.SigningKey, now time.Time) []scheduleUpdate {
	var out []scheduleUpdate
	for i := range rows {
		k := &rows[i]
		if !isPublished(k, now) || emergencyRetired(k) {
			continue
		}
		var retire, remove *time.Time
		for j := i + 1; j < len(rows); j++ {
			n := &rows[j]
			if n.Algorithm == k.Algorithm && !emergencyRetired(n) && (retire == nil || n.NotBefore.Before(*retire)) {
				retire = &n.NotBefore
			}
		}
		if retire != nil {
			r := retire.Add(p.retention)
			if k.RemoveAfter != nil && k.RemoveAfter.After(r) {
				r = *k.RemoveAfter
			}
			remove = &r
		}
		if !timePtrEqual(k.RetireAfter, retire) || !timePtrEqual(k.RemoveAfter, remove) {
			out = append(out, scheduleUpdate{kid: k.KID, retireAfter: retire, removeAfter: remove})
		}
	}
	return out
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ceilSecond rounds t up to a whole second: the database keeps whole
// seconds, and rounding down could shorten a publish-ahead or a retention.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}

// ceilDuration rounds d up to a whole second.
func ceilDuration(d time.Duration) time.Duration {
	if r := d.Truncate(time.Second); r != d {
		return r + time.Second
	}
	return d
}

// maxRounds bounds the retries of a rotator that keeps losing creation
// races to other replicas; each loss means another replica made progress.
const maxRounds = 8

// policy returns the rotation policy with the retention for the longest
// token lifetime configured right now.
func (m *Manager) policy(ctx context.Context) (policy, error) {
	if m.maxTokenTTL == nil {
		return policy{}, errors.New("keys: Config.MaxTokenTTL is required to rotate or retire keys")
	}
	ttl, err := m.maxTokenTTL(ctx)
	if err != nil {
		return policy{}, fmt.Errorf("keys: longest token lifetime: %w", err)
	}
	return policy{
		period:       m.rotationPeriod,
		publishAhead: m.publishAhead,
		retention:    ceilDuration(ttl + m.clockSkew + m.syncInterval),
	}, nil
}

// RotateIfDue is one step of scheduled rotation: it reloads the keys,
// creates each algorithm's next key when it is due and brings retire and
// remove dates up to date. Every replica may run it at any time: the
// unique generation lets exactly one create each key, and the others find
// it on their next reload.
func (m *Manager) RotateIfDue(ctx context.Context) error {
	if m.rotationPeriod <= 0 {
		return errors.New("keys: scheduled rotation needs a positive RotationPeriod")
	}
	p, err := m.policy(ctx)
	if err != nil {
		return err
	}
	for range maxRounds {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		// Dates first: an emergency retirement may hand signing back to a
		// predecessor, which is better than a key no cache knows.
		if err := m.converge(ctx, p, m.snap.Load().rows, m.now()); err != nil {
			return err
		}
		// Plan and generation come from one read: two replicas acting on
		// the same read pick the same generation, and only one wins.
		rows, now := m.snap.Load().rows, m.now()
		due := p.due(rows, now)
		if len(due) == 0 {
			return nil
		}
		_, err := m.createKey(ctx, rows, due[0].alg, due[0].notBefore)
		if errors.Is(err, storage.ErrConflict) {
			m.log.InfoContext(ctx, "another replica created the next signing key first; reloading", "alg", due[0].alg)
			continue
		}
		if err != nil {
			return err
		}
		// The predecessor's dates are written on the next round.
	}
	return fmt.Errorf("keys: rotation made no progress in %d rounds", maxRounds)
}

// RunRotator calls RotateIfDue now and then every interval until ctx
// ends. Errors are logged and retried on the next tick; it returns ctx's
// error.
func (m *Manager) RunRotator(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("keys: rotate signing keys: interval must be positive, got %v", interval)
	}
	if err := m.RotateIfDue(ctx); err != nil && ctx.Err() == nil {
		m.log.ErrorContext(ctx, "rotate signing keys", "err", err)
	}
	return m.every(ctx, interval, "rotate signing keys", m.RotateIfDue)
}

// converge writes the schedule changes p.converge finds in rows.
func (m *Manager) converge(ctx context.Context, p policy, rows []storage.SigningKey, now time.Time) error {
	updates := p.converge(rows, now)
	for _, u := range updates {
		if err := m.store.SetSigningKeySchedule(ctx, u.kid, u.retireAfter, u.removeAfter); err != nil {
			return fmt.Errorf("keys: schedule key %s: %w", u.kid, err)
		}
		m.log.InfoContext(ctx, "signing key scheduled", "kid", u.kid, "retire_after", u.retireAfter, "remove_after", u.removeAfter)
	}
	if len(updates) == 0 {
		return nil
	}
	return m.Reload(ctx)
}

// ErrNextKeyExists is returned by Rotate when the algorithm already has a
// key published ahead; `keys rotate --now` makes a new one anyway.
var ErrNextKeyExists = errors.New("a next key is already published")

// Rotate makes alg's next key now (`shopauth keys rotate`): published at
// once, signing after PublishAhead. With immediate it signs at once (a
// compromised key: resource servers learn the new kid from their next JWKS
// fetch, and replicas on their next reload). The first key of ES256 or
// EdDSA enables that algorithm. The previous key keeps verifying until
// its tokens have expired.
func (m *Manager) Rotate(ctx context.Context, alg string, immediate bool) (KeyInfo, error) {
	if !IsAlgorithm(alg) {
		return KeyInfo{}, fmt.Errorf("keys: unsupported algorithm %q (supported: %v)", alg, Algorithms())
	}
	p, err := m.policy(ctx)
	if err != nil {
		return KeyInfo{}, err
	}
	for range maxRounds {
		if err := m.Reload(ctx); err != nil {
			return KeyInfo{}, err
		}
		rows, now := m.snap.Load().rows, m.now()
		if i := nextKey(rows, alg, now); i >= 0 && !immediate {
			return m.info(rows[i].KID), fmt.Errorf("keys: %w: %s signs from %s", ErrNextKeyExists, rows[i].KID, rows[i].NotBefore.Format(time.RFC3339))
		}
		nb := ceilSecond(now.Add(p.publishAhead))
		if immediate {
			nb = now.Truncate(time.Second)
		}
		row, err := m.createKey(ctx, rows, alg, nb)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return KeyInfo{}, err
		}
		if err := m.converge(ctx, p, m.snap.Load().rows, m.now()); err != nil {
			return KeyInfo{}, err
		}
		return m.info(row.KID), nil
	}
	return KeyInfo{}, fmt.Errorf("keys: rotation made no progress in %d rounds", maxRounds)
}

// Retire removes a key from signing and from the JWKS at once (`shopauth
// keys retire KID`, for a key that leaked): tokens it signed stop
// verifying. If it was its algorithm's signing key, the previous key
// signs again while it is still published (every cache has it); failing
// that a new key signs at once. It returns the kid that signs for the
// algorithm afterwards.
func (m *Manager) Retire(ctx context.Context, kid string) (string, error) {
	p, err := m.policy(ctx)
	if err != nil {
		return "", err
	}
	if err := m.Reload(ctx); err != nil {
		return "", err
	}
	i := slices.IndexFunc(m.snap.Load().rows, func(k storage.SigningKey) bool { return k.KID == kid })
	if i < 0 {
		return "", fmt.Errorf("keys: no signing key %q: %w", kid, storage.ErrNotFound)
	}
	alg := m.snap.Load().rows[i].Algorithm
	now := m.now().Truncate(time.Second) // not after now: gone from this instant
	if err := m.store.SetSigningKeySchedule(ctx, kid, &now, &now); err != nil {
		return "", fmt.Errorf("keys: retire %s: %w", kid, err)
	}
	for range maxRounds {
		if err := m.Reload(ctx); err != nil {
			return "", err
		}
		if err := m.converge(ctx, p, m.snap.Load().rows, m.now()); err != nil {
			return "", err
		}
		s := m.view()
		if cur := s.sched.currentIndex(alg); cur >= 0 {
			return s.rows[cur].KID, nil
		}
		row, err := m.createKey(ctx, s.rows, alg, m.now().Truncate(time.Second))
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return "", err
		}
		m.log.WarnContext(ctx, "retired the signing key without a predecessor to fall back to; a new key signs at once", "retired", kid, "kid", row.KID)
	}
	return "", fmt.Errorf("keys: retire made no progress in %d rounds", maxRounds)
}

// info describes one loaded key.
func (m *Manager) info(kid string) KeyInfo {
	for _, k := range m.List() {
		if k.KID == kid {
			return k
		}
	}
	return KeyInfo{KID: kid}
}
