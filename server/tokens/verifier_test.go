package tokens

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/keys"
)

// payloadKeys "verifies" any token by taking it as the JSON payload.
type payloadKeys struct{}

func (payloadKeys) Verify(token string) (keys.Verified, error) {
	return keys.Verified{Payload: []byte(token), Typ: TypeAccessToken}, nil
}

type noRevocations struct{}

func (noRevocations) IsAccessTokenRevoked(context.Context, string) (bool, error) { return false, nil }

// TestParseRevocableAccessToken: a token is taken for revocation as long as
// any verifier may still accept it — until exp plus the leeway by a clock
// up to the leeway behind this one's — while ParseAccessToken stops at exp
// plus the leeway by this clock. Revoking on a replica 10 s ahead of
// another was ignored as "expired" while the other still accepted the
// token (issue 20 item 4).
func TestParseRevocableAccessToken(t *testing.T) {
	const leeway = 30 * time.Second
	exp := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	raw, err := json.Marshal(map[string]any{"iss": "https://as", "exp": exp.Unix(), "jti": "j1"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name              string
		now               time.Time
		accept, revocable bool
	}{
		{"before exp", exp.Add(-time.Second), true, true},
		{"in the leeway", exp.Add(leeway), true, true},
		{"past the leeway, within another replica's", exp.Add(leeway + time.Second), false, true},
		{"past both", exp.Add(2*leeway + time.Second), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier("https://as", payloadKeys{}, noRevocations{}, func() time.Time { return tc.now }, leeway)
			require.NoError(t, err)
			_, err = v.ParseAccessToken(string(raw))
			require.Equal(t, tc.accept, err == nil, "ParseAccessToken: %v", err)
			c, err := v.ParseRevocableAccessToken(string(raw))
			if !tc.revocable {
				require.ErrorIs(t, err, ErrInvalidToken)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "j1", c.JTI)
		})
	}
}
