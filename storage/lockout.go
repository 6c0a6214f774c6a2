package storage

import "time"

// LoginFailures is the failed-login record of one (shop, normalized
// e-mail). It is kept for every address tried, whether or not a customer
// has it, so an unknown address locks exactly like a known one and the
// lock reveals nothing; once the policy has forgotten it (ForgottenBefore)
// it may be deleted, as no record counts the same as an empty one.
type LoginFailures struct {
	ShopKey         string
	EmailNormalized string
	// Count is the attempts in the current window that did not succeed.
	Count        int
	LastFailedAt *time.Time
	LockedUntil  *time.Time
	// Lockouts is how many locks in a row the address has earned since its
	// last success; each doubles the lock.
	Lockouts int
}

// Locked reports whether sign-in is refused at now.
func (f LoginFailures) Locked(now time.Time) bool {
	return f.LockedUntil != nil && now.Before(*f.LockedUntil)
}

// LockoutPolicy decides when failed logins lock an address, and for how
// long.
type LockoutPolicy struct {
	// Threshold is how many failures within Window lock the address.
	Threshold int
	// Window is how long a failure counts. A lock that ended less than
	// Window ago keeps the count alive, so the lock can keep doubling.
	Window time.Duration
	// FirstLock is the first lock; every further one doubles, up to MaxLock.
	FirstLock, MaxLock time.Duration
}

// DefaultLockoutPolicy is 5 failures in 15 minutes, then 1 minute doubling
// to 1 hour.
var DefaultLockoutPolicy = LockoutPolicy{Threshold: 5, Window: 15 * time.Minute, FirstLock: time.Minute, MaxLock: time.Hour}

// Attempt is the transition of one login attempt at now. An attempt is
// counted as a failure before the password is checked (a success then
// clears the record), so that of any number of concurrent guesses at most
// Threshold are ever checked: the storage runs Attempt under a row lock.
// allowed is false while the address is locked; f is then returned as is.
func (p LockoutPolicy) Attempt(f LoginFailures, now time.Time) (next LoginFailures, allowed bool) {
	if f.Locked(now) {
		return f, false
	}
	cutoff := now.Add(-p.Window)
	recent := (f.LastFailedAt != nil && f.LastFailedAt.After(cutoff)) ||
		(f.LockedUntil != nil && f.LockedUntil.After(cutoff))
	if !recent {
		f.Count, f.Lockouts, f.LockedUntil = 0, 0, nil
	}
	f.Count++
	at := now
	f.LastFailedAt = &at
	if f.Count >= p.Threshold {
		f.Lockouts++
		until := now.Add(p.lockFor(f.Lockouts))
		f.LockedUntil = &until
	}
	return f, true
}

// ForgottenBefore is the instant before which both a record's last
// failure and the end of its lock (if any) must lie for the record to be
// forgotten at now: Attempt at now or later starts it afresh and Locked is
// false, so it protects nothing and may be deleted. A lock that ended less
// than Window ago is kept with its record, as it keeps the count alive.
func (p LockoutPolicy) ForgottenBefore(now time.Time) time.Time {
	return now.Add(-p.Window)
}

// lockFor is the length of the n-th lock in a row: FirstLock doubled n-1
// times, at most MaxLock.
func (p LockoutPolicy) lockFor(n int) time.Duration {
	d := p.FirstLock
	for i := 1; i < n && d < p.MaxLock; i++ {
		d *= 2
	}
	return min(d, p.MaxLock)
}
