package keys

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func TestComputeSchedule(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return now.Add(time.Duration(n) * time.Hour) }
	key := func(kid string, gen int64, nb time.Time, retire, remove *time.Time) storage.SigningKey {
		return storage.SigningKey{KID: kid, Generation: gen, NotBefore: nb, RetireAfter: retire, RemoveAfter: remove}
	}
	tests := []struct {
		name           string
		keys           []storage.SigningKey
		wantCurrent    string // "" none
		wantPublished  []string
		wantValidUntil time.Time
		wantStates     []KeyState
	}{
		{name: "empty"},
		{
			name:          "one key",
			keys:          []storage.SigningKey{key("a", 1, h(-1), nil, nil)},
			wantCurrent:   "a",
			wantPublished: []string{"a"},
			wantStates:    []KeyState{StateCurrent},
		},
		{
			name:          "not before exactly now signs",
			keys:          []storage.SigningKey{key("a", 1, now, nil, nil)},
			wantCurrent:   "a",
			wantPublished: []string{"a"},
			wantStates:    []KeyState{StateCurrent},
		},
		{
			name:          "newest eligible wins",
			keys:          []storage.SigningKey{key("a", 1, h(-3), nil, nil), key("b", 2, h(-1), nil, nil)},
			wantCurrent:   "b",
			wantPublished: []string{"b", "a"},
			wantStates:    []KeyState{StateRetired, StateCurrent},
		},
		{
			name:           "future key published, does not sign",
			keys:           []storage.SigningKey{key("a", 1, h(-3), nil, nil), key("b", 2, h(1), nil, nil)},
			wantCurrent:    "a",
			wantPublished:  []string{"b", "a"},
			wantValidUntil: h(1),
			wantStates:     []KeyState{StateCurrent, StateNext},
		},
		{
			name:           "retired key published, does not sign",
			keys:           []storage.SigningKey{key("a", 1, h(-3), ptr(h(-1)), ptr(h(5))), key("b", 2, h(-2), nil, nil)},
			wantCurrent:    "b",
			wantPublished:  []string{"b", "a"},
			wantValidUntil: h(5),
			wantStates:     []KeyState{StateRetired, StateCurrent},
		},
		{
			name:          "retire after exactly now stops signing",
			keys:          []storage.SigningKey{key("a", 1, h(-3), ptr(now), nil)},
			wantPublished: []string{"a"},
			wantStates:    []KeyState{StateRetired},
		},
		{
			name:          "newest retired, older still valid signs",
			keys:          []storage.SigningKey{key("a", 1, h(-3), nil, nil), key("b", 2, h(-2), ptr(h(-1)), nil)},
			wantCurrent:   "a",
			wantPublished: []string{"b", "a"},
			wantStates:    []KeyState{StateCurrent, StateRetired},
		},
		{
			name:          "removed key neither published nor signing",
			keys:          []storage.SigningKey{key("a", 1, h(-3), ptr(h(-2)), ptr(now)), key("b", 2, h(-2), nil, nil)},
			wantCurrent:   "b",
			wantPublished: []string{"b"},
			wantStates:    []KeyState{StateRetired, StateCurrent},
		},
		{
			name:          "removed without retire does not sign",
			keys:          []storage.SigningKey{key("a", 1, h(-3), nil, ptr(h(-1)))},
			wantPublished: nil,
			wantStates:    []KeyState{StateRetired},
		},
		{
			name:           "valid until is the earliest future change",
			keys:           []storage.SigningKey{key("a", 1, h(-3), ptr(h(3)), ptr(h(9))), key("b", 2, h(2), nil, nil)},
			wantCurrent:    "a",
			wantPublished:  []string{"b", "a"},
			wantValidUntil: h(2),
			wantStates:     []KeyState{StateCurrent, StateNext},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := computeSchedule(tt.keys, now)
			var cur string
			if i := s.currentIndex(""); i >= 0 {
				cur = tt.keys[i].KID
			}
			require.Equal(t, tt.wantCurrent, cur)
			var pub []string
			for _, i := range s.published {
				pub = append(pub, tt.keys[i].KID)
			}
			require.Equal(t, tt.wantPublished, pub)
			require.True(t, tt.wantValidUntil.Equal(s.validUntil), "validUntil %v, want %v", s.validUntil, tt.wantValidUntil)
			for i := range tt.keys {
				require.Equal(t, tt.wantStates[i], s.state(tt.keys, i, now), tt.keys[i].KID)
			}
		})
	}
}
