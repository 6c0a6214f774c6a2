package customers

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// countingActivity records argon2 computations: begun, and still running.
type countingActivity struct{ begun, running int }

func (a *countingActivity) Begin() func() {
	a.begun++
	a.running++
	return func() { a.running-- }
}

// TestTrackedHasherReportsArgon2: every argon2 computation of a tracked
// hasher (hashing, verifying, the dummy verification) is reported and
// ended; bcrypt is not argon2 and is not; the untracked original reports
// nothing.
func TestTrackedHasherReportsArgon2(t *testing.T) {
	plain, err := NewHasher(Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	require.NoError(t, err)
	var act countingActivity
	h := plain.Tracked(&act)

	stored, err := h.Hash("correct horse")
	require.NoError(t, err)
	ok, _, err := h.Verify(stored, "correct horse")
	require.NoError(t, err)
	require.True(t, ok)
	ok, _, err = h.Verify(stored, "wrong")
	require.NoError(t, err)
	require.False(t, ok)
	h.VerifyDummy("anything")
	require.Equal(t, 4, act.begun, "hash, two verifications, the dummy")
	require.Zero(t, act.running, "every computation ended")

	const bcryptOfPassword = "$2a$04$5aYHNlwMXRJ5LLcRpS8u1.UdyBaVn9mzfhwvc7ByFHOK4Ad0NWPra"
	_, _, _ = h.Verify(bcryptOfPassword, "password")
	require.Equal(t, 4, act.begun, "bcrypt is not reported")

	_, err = plain.Hash("x")
	require.NoError(t, err)
	require.Equal(t, 4, act.begun, "the original hasher stays untracked")
}
