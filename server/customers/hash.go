package customers

import "context"

// HashPassword hashes a new password (a registration, a reset, a change)
// in one of the slots logins hash in: a flood of registrations queues and
// is refused with 503 like a flood of logins, and never holds more than
// HashConcurrency hashes' memory.
func (a *Authenticator) HashPassword(ctx context.Context, password string) (string, error) {
	release, err := a.acquireSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return a.hasher.Hash(password)
}
