package passwords

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     Problem
	}{
		{"empty", "", Blank},
		{"seven characters", "abcdefg", TooShort},
		{"eight characters", "kx7#qpzw", OK},
		// Characters, not bytes: "ñ" is two bytes.
		{"seven characters in nine bytes", "ñandúes", TooShort},
		{"eight characters with accents", "ñandúes!", OK},
		{"the limit in bytes", strings.Repeat("z", MaxBytes), OK},
		{"a byte over the limit", strings.Repeat("z", MaxBytes+1), TooLong},
		{"over the limit and not UTF-8", strings.Repeat("\xff", MaxBytes+1), TooLong},
		{"not UTF-8", "abcdefgh\xff", NotUTF8},
		{"the most common of the list", "password", Common},
		{"on the list, other case", "PassWord1", Common},
		{"the last entry of the list", "11234567", Common},
		{"the demo password is not common", "change123", OK},
		{"a passphrase", "correct horse battery staple", OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Check(tt.password))
		})
	}
}

// TestListIsLoaded guards the embedding: an empty or truncated file would
// pass every password.
func TestListIsLoaded(t *testing.T) {
	require.Greater(t, len(common()), 11_000)
	for p := range common() {
		require.GreaterOrEqual(t, len([]rune(p)), MinChars, "shorter entries are refused as too short anyway")
		require.Equal(t, strings.ToLower(p), p, "the list is lower-case")
	}
}
