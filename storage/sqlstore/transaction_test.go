package sqlstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// TestTransactionRerunsDeadlockVictims: a transaction MySQL rolled back
// as a deadlock victim runs again; other errors do not, and a transaction
// that keeps losing gives up after maxTxTries.
func TestTransactionRerunsDeadlockVictims(t *testing.T) {
	s, err := Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "tx.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	deadlock := fmt.Errorf("rotate: %w", &gomysql.MySQLError{Number: mysqlDeadlock, Message: "Deadlock found"})
	other := errors.New("constraint")
	tests := []struct {
		name     string
		failures []error // what the runs return, in order; then nil
		wantRuns int
		wantErr  error
	}{
		{name: "no error", wantRuns: 1},
		{name: "one deadlock, then success", failures: []error{deadlock}, wantRuns: 2},
		{name: "other errors are final", failures: []error{other}, wantRuns: 1, wantErr: other},
		{name: "deadlocked every time", failures: []error{deadlock, deadlock, deadlock, deadlock}, wantRuns: maxTxTries, wantErr: deadlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 0
			err := s.transaction(t.Context(), func(*gorm.DB) error {
				runs++
				if runs <= len(tt.failures) {
					return tt.failures[runs-1]
				}
				return nil
			})
			require.Equal(t, tt.wantRuns, runs)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}
