package web

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
)

// TestParseBearerHeader is the one Bearer reader's table; the three
// dialects' former rules (web, Spryker, shopKey) are all in it.
func TestParseBearerHeader(t *testing.T) {
	tests := []struct {
		header string
		token  string
		want   BearerProblem
	}{
		{"Bearer abc.def-_~+/==", "abc.def-_~+/==", BearerOK},
		{"bearer abc", "abc", BearerOK},
		{"BEARER   abc  ", "abc", BearerOK},
		{" Bearer abc", "abc", BearerOK},
		{"", "", BearerAbsent},
		{" \t", "", BearerAbsent},
		{"Basic Zm9vOmJhcg==", "", BearerOtherScheme},
		{"abc", "", BearerOtherScheme},
		{"Bearer\tabc", "", BearerOtherScheme},
		{"Bearer", "", BearerMalformed},
		{"Bearer ", "", BearerMalformed},
		{"Bearer a b", "", BearerMalformed},
		{"Bearer a\tb", "", BearerMalformed},
		{`Bearer a"b`, "", BearerMalformed},
		{"Bearer ==", "", BearerMalformed},
		{"Bearer ñ", "", BearerMalformed},
		{"Bearer a=b", "", BearerMalformed},
		{"Bearer " + strings.Repeat("a", MaxBearerLength), strings.Repeat("a", MaxBearerLength), BearerOK},
		{"Bearer " + strings.Repeat("a", MaxBearerLength+1), "", BearerOversized},
	}
	for _, tt := range tests {
		token, p := ParseBearerHeader(tt.header)
		require.Equal(t, tt.want, p, "%q", tt.header)
		require.Equal(t, tt.token, token, "%q", tt.header)
	}
}

// FuzzParseBearerHeader: the reader never panics; a token it accepts is a
// b64token within the bound that the header carries after its scheme, and
// reads back the same; a header it calls absent is blank.
func FuzzParseBearerHeader(f *testing.F) {
	for _, seed := range []string{"Bearer abc", "bearer  a.b.c==", "", " ", "Basic x", "Bearer", "Bearer a b", "Bearer ==", "Bearer ñ"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		fuzzdeadline.Run(t, func() {
			token, p := ParseBearerHeader(header)
			switch p {
			case BearerOK:
				if !isB64Token(token) || len(token) > MaxBearerLength {
					t.Fatalf("accepted %q from %q", token, header)
				}
				if !strings.HasSuffix(strings.TrimSpace(header), token) {
					t.Fatalf("token %q is not the end of %q", token, header)
				}
				if again, p := ParseBearerHeader("Bearer " + token); p != BearerOK || again != token {
					t.Fatalf("%q does not read back", token)
				}
			case BearerAbsent:
				if strings.TrimSpace(header) != "" {
					t.Fatalf("absent for %q", header)
				}
			case BearerOtherScheme, BearerMalformed, BearerOversized:
				if token != "" {
					t.Fatalf("problem %d with token %q", p, token)
				}
			default:
				t.Fatalf("unknown problem %d", p)
			}
		})
	})
}
