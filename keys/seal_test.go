package keys

import (
	"crypto/cipher"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	aead, err := newAEAD(testKEK(t))
	require.NoError(t, err)
	otherAEAD, err := newAEAD(testKEK(t))
	require.NoError(t, err)
	plaintext := []byte("pkcs8 der bytes")

	sealed, err := seal(aead, "kid-a", plaintext)
	require.NoError(t, err)
	again, err := seal(aead, "kid-a", plaintext)
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a random nonce per encryption")

	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name       string
		aead       cipher.AEAD
		kid        string
		sealed     []byte
		wrongKEK   bool
		wantErrMsg string
	}{
		{name: "round trip", aead: aead, kid: "kid-a", sealed: sealed},
		{name: "wrong KEK", aead: otherAEAD, kid: "kid-a", sealed: sealed, wrongKEK: true,
			wantErrMsg: "cannot decrypt signing key kid-a: wrong SHOPAUTH_KEY_ENCRYPTION_KEY?"},
		{name: "moved to another kid (AAD)", aead: aead, kid: "kid-b", sealed: sealed, wrongKEK: true},
		{name: "tampered", aead: aead, kid: "kid-a", sealed: flipped, wrongKEK: true},
		{name: "truncated", aead: aead, kid: "kid-a", sealed: sealed[:20], wantErrMsg: "too short"},
		{name: "empty", aead: aead, kid: "kid-a", sealed: nil, wantErrMsg: "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := open(tt.aead, tt.kid, tt.sealed)
			if tt.wrongKEK {
				require.ErrorIs(t, err, ErrWrongKEK)
			}
			if tt.wantErrMsg != "" {
				require.ErrorContains(t, err, tt.wantErrMsg)
			}
			if !tt.wrongKEK && tt.wantErrMsg == "" {
				require.NoError(t, err)
				require.Equal(t, plaintext, got)
			} else {
				require.Nil(t, got, "never garbage")
			}
		})
	}
}

func TestNewAEADRejectsBadKEK(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		_, err := newAEAD(make([]byte, n))
		require.Error(t, err, "%d bytes", n)
	}
}
