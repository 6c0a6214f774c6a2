package sqlstore

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm/schema"
)

// TestHotPathColumns: the hand-written column lists name every column of
// their gorm model, in the order of the scan targets.
func TestHotPathColumns(t *testing.T) {
	tests := []struct {
		name    string
		model   any
		columns []string
		targets int
	}{
		{"customers", &customerModel{}, customerColumns, len((&customerModel{}).scanTargets())},
		{"refresh_tokens", &refreshTokenModel{}, refreshTokenColumns, len((&refreshTokenModel{}).scanTargets())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sch, err := schema.Parse(tt.model, &sync.Map{}, schema.NamingStrategy{})
			require.NoError(t, err)
			require.Equal(t, tt.name, sch.Table)
			require.Equal(t, sch.DBNames, tt.columns, "columns in the model's field order")
			require.Len(t, tt.columns, tt.targets, "one scan target per column")
		})
	}
}
