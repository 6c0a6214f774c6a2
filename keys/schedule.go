package keys

import (
	"time"

	"github.com/shopauth/shopauth/storage"
)

// KeyState is a signing key's role at one instant, as `shopauth keys list`
// shows it.
type KeyState string

// Key states.
const (
	// StateNext: published ahead of use (NotBefore in the future) so that
	// verifiers have it in their cached JWKS before the first token.
	StateNext KeyState = "next"
	// StateCurrent: the key that signs new tokens.
	StateCurrent KeyState = "current"
	// StateRetired: signs no more, superseded or retired; published until
	// its RemoveAfter so tokens it signed still verify.
	StateRetired KeyState = "retired"
)

// schedule is which keys do what at one instant. Indices refer to the key
// slice it was computed from.
type schedule struct {
	current   map[string]int // by algorithm: index of its signing key
	published []int          // indices of keys in the JWKS, newest first
	// validUntil is the first instant after now at which any key changes
	// role; zero means never. Until then the schedule need not be redone.
	validUntil time.Time
	// setChange is the first instant after now at which a key leaves the
	// JWKS; zero means none is scheduled. JWKS caching must not outlive it.
	setChange time.Time
}

// computeSchedule is the whole key-selection rule, a pure function of the
// stored keys (ordered by generation, oldest first) and the time:
//
//   - published: RemoveAfter is nil or after now;
//   - current, per algorithm: the newest published key of that algorithm
//     with NotBefore <= now and RetireAfter nil or after now.
func computeSchedule(ks []storage.SigningKey, now time.Time) schedule {
	s := schedule{current: map[string]int{}}
	for i := len(ks) - 1; i >= 0; i-- {
		k := &ks[i]
		s.validUntil = earliestAfter(s.validUntil, now, &k.NotBefore, k.RetireAfter, k.RemoveAfter)
		if !isPublished(k, now) {
			continue
		}
		s.setChange = earliestAfter(s.setChange, now, k.RemoveAfter)
		s.published = append(s.published, i)
		if _, ok := s.current[k.Algorithm]; !ok && canSign(k, now) {
			s.current[k.Algorithm] = i
		}
	}
	return s
}

// currentIndex returns the index of alg's signing key, -1 when none.
func (s schedule) currentIndex(alg string) int {
	if i, ok := s.current[alg]; ok {
		return i
	}
	return -1
}

func isPublished(k *storage.SigningKey, now time.Time) bool {
	return k.RemoveAfter == nil || k.RemoveAfter.After(now)
}

func canSign(k *storage.SigningKey, now time.Time) bool {
	return !k.NotBefore.After(now) && (k.RetireAfter == nil || k.RetireAfter.After(now))
}

// state is the role of ks[i] under s at now.
func (s schedule) state(ks []storage.SigningKey, i int, now time.Time) KeyState {
	switch {
	case s.currentIndex(ks[i].Algorithm) == i:
		return StateCurrent
	case ks[i].NotBefore.After(now) && isPublished(&ks[i], now) &&
		(ks[i].RetireAfter == nil || ks[i].RetireAfter.After(ks[i].NotBefore)):
		return StateNext
	default:
		return StateRetired
	}
}

// earliestAfter returns the earliest of cur (zero: none yet) and the given
// times that lie strictly after now.
func earliestAfter(cur, now time.Time, ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t == nil || !t.After(now) {
			continue
		}
		if cur.IsZero() || t.Before(cur) {
			cur = *t
		}
	}
	return cur
}
