package tokens

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestJTISortsInCreationOrder: each jti sorts after the one made before
// it, as bytes (the store's index order), and is a UUIDv7 whose time is
// now: the jti index grows at its end.
func TestJTISortsInCreationOrder(t *testing.T) {
	before := time.Now().Add(-time.Millisecond)
	prev := ""
	seen := map[string]bool{}
	for range 10_000 {
		jti, err := NewJTI()
		require.NoError(t, err)
		require.Len(t, jti, 22)
		require.Greater(t, jti, prev, "a jti sorts after the one before it")
		require.False(t, seen[jti], "jti %q repeated", jti)
		seen[jti], prev = true, jti

		raw, err := sortableBase64.DecodeString(jti)
		require.NoError(t, err)
		id, err := uuid.FromBytes(raw)
		require.NoError(t, err)
		require.Equal(t, uuid.Version(7), id.Version())
		sec, nsec := id.Time().UnixTime()
		require.WithinRange(t, time.Unix(sec, nsec), before, time.Now().Add(time.Millisecond))
	}
}

// TestSortableBase64KeepsByteOrder: the alphabet itself is in byte order,
// so encoding keeps the order of any two inputs of one length.
func TestSortableBase64KeepsByteOrder(t *testing.T) {
	pairs := [][2][]byte{
		{{0x00}, {0x01}},
		{{0x3f, 0xff}, {0x40, 0x00}},
		{{0xfb, 0xef}, {0xfc, 0x00}},
		{{0x7f, 0xff, 0xff}, {0x80, 0x00, 0x00}},
	}
	for _, p := range pairs {
		require.Less(t, sortableBase64.EncodeToString(p[0]), sortableBase64.EncodeToString(p[1]), "%x < %x", p[0], p[1])
	}
}
