package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIsWrite(t *testing.T) {
	tests := []struct {
		query string
		write bool
	}{
		{"SELECT * FROM shops WHERE key = ?", false},
		{"  select 1", false},
		{"(SELECT 1) UNION (SELECT 2)", false},
		{"INSERT INTO shops (key) VALUES (?) RETURNING id", true},
		{"UPDATE refresh_tokens SET spent_at = ?", true},
		{"DELETE FROM carts", true},
		// A CTE may end in a write; only a plain SELECT is a read.
		{"WITH x AS (SELECT 1) DELETE FROM carts", true},
		{"PRAGMA journal_mode(WAL)", true},
		{"", true},
		{"SEL", true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.write, isWrite(tt.query), "%q", tt.query)
	}
}

// TestWriteGateHonoursContext: a writer waiting for the gate gives up when
// its request does.
func TestWriteGateHonoursContext(t *testing.T) {
	gate := newWriteGate()
	require.NoError(t, gate.acquire(t.Context()))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, gate.acquire(ctx), context.DeadlineExceeded)
	gate.release()
	require.NoError(t, gate.acquire(t.Context()), "released, the gate admits the next writer")
}
