package customers

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
)

type phpVector struct {
	Format   string `json:"format"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
}

func loadPHPVectors(t *testing.T) []phpVector {
	t.Helper()
	f, err := os.Open("testdata/php-vectors.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var out []phpVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v phpVector
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

func testHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	require.NoError(t, err)
	return h
}

// TestVerifyPHPVectors checks every format against hashes made by its
// reference implementation: the right password matches and asks for an
// upgrade to argon2id, a wrong one does not match.
func TestVerifyPHPVectors(t *testing.T) {
	// Above every PHP vector's argon2 parameters (m=1024, t=2).
	h, err := NewHasher(Argon2Params{MemoryKiB: 2048, Iterations: 2, Parallelism: 1})
	require.NoError(t, err)
	formats := map[string]int{}
	for _, v := range loadPHPVectors(t) {
		formats[v.Format]++
		t.Run(v.Format+"/"+v.Hash, func(t *testing.T) {
			ok, rehash, err := h.Verify(v.Hash, v.Password+"x")
			require.NoError(t, err)
			require.False(t, ok, "wrong password matched")

			ok, rehash, err = h.Verify(v.Hash, v.Password)
			require.NoError(t, err)
			if strings.HasPrefix(v.Format, "bcrypt") && len(v.Password) > bcryptMaxPassword {
				require.False(t, ok, "a bcrypt password over 72 bytes must never match")
				return
			}
			require.True(t, ok)
			// Every PHP vector is a legacy format or weaker than h's parameters.
			require.True(t, rehash)
		})
	}
	for _, f := range []string{"bcrypt-2y", "bcrypt-2a", "bcrypt-2b", "argon2id", "argon2i", "phpass-P", "phpass-H"} {
		require.NotZero(t, formats[f], "no vectors for %s", f)
	}
}

// TestBcryptIgnoresNothingAfter72Bytes: PHP accepts any password that
// shares the first 72 bytes; here none over 72 bytes matches.
func TestBcryptIgnoresNothingAfter72Bytes(t *testing.T) {
	h := testHasher(t)
	var long phpVector
	for _, v := range loadPHPVectors(t) {
		if v.Format == "bcrypt-2y" && len(v.Password) > bcryptMaxPassword {
			long = v
		}
	}
	require.NotEmpty(t, long.Hash)
	for _, pw := range []string{
		long.Password, // the real one
		long.Password[:bcryptMaxPassword] + "different", // differs after byte 72: PHP says yes
		long.Password[:bcryptMaxPassword] + strings.Repeat("z", MaxPasswordBytes),
	} {
		ok, _, err := h.Verify(long.Hash, pw)
		require.NoError(t, err)
		require.False(t, ok)
	}
	// Exactly 72 bytes is still a legal bcrypt password.
	ok, _, err := h.Verify(long.Hash, long.Password[:bcryptMaxPassword])
	require.NoError(t, err)
	require.True(t, ok, "the 72-byte prefix is what PHP hashed")
}

func TestVerifyRejectsMalformed(t *testing.T) {
	h := testHasher(t)
	for _, stored := range []string{
		"", "plain", "$1$abc$def", "$P$", "$P$Bshort",
		"$P$~lKZy/8a5XSdK6.8pAgdZhCvkv6h6w0", // rounds char outside itoa64
		"$P$zlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0", // 2^30 rounds: refused, not computed
		"$P$4lKZy/8a5XSdK6.8pAgdZhCvkv6h6w0", // 2^6 rounds: below phpass's minimum
		"$P$Bl~Zy/8a5XSdK6.8pAgdZhCvkv6h6w0", // salt outside itoa64
		"$2y$10$short",
		"$2y$15$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", // cost above 14
		"$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1!", // outside the alphabet
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=1024,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
	} {
		ok, _, err := h.Verify(stored, "password")
		require.ErrorIs(t, err, ErrUnknownHashFormat, stored)
		require.False(t, ok)
		require.ErrorIs(t, CheckHashFormat(stored), ErrUnknownHashFormat, stored)
	}
}

func TestCheckHashFormatAcceptsEveryVector(t *testing.T) {
	for _, v := range loadPHPVectors(t) {
		require.NoError(t, CheckHashFormat(v.Hash), v.Hash)
	}
	h := testHasher(t)
	stored, err := h.Hash("x")
	require.NoError(t, err)
	require.NoError(t, CheckHashFormat(stored))
}

func TestHashRoundTripAndParams(t *testing.T) {
	h, err := NewHasher(Argon2Params{MemoryKiB: 128, Iterations: 3, Parallelism: 2})
	require.NoError(t, err)
	stored, err := h.Hash("change123")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(stored, "$argon2id$v=19$m=128,t=3,p=2$"), stored)
	ok, rehash, err := h.Verify(stored, "change123")
	require.NoError(t, err)
	require.True(t, ok)
	require.False(t, rehash, "current parameters need no upgrade")

	stronger, err := NewHasher(Argon2Params{MemoryKiB: 256, Iterations: 3, Parallelism: 2})
	require.NoError(t, err)
	ok, rehash, err = stronger.Verify(stored, "change123")
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, rehash, "weaker memory must be upgraded")
}

func TestDefaultParamsAreOWASP(t *testing.T) {
	h, err := NewHasher(Argon2Params{})
	require.NoError(t, err)
	stored, err := h.Hash("x")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$"), stored)
}

// FuzzCheckHashFormat: stored hashes come from import files. No input
// panics, and every hash CheckHashFormat accepts, Verify reads.
func FuzzCheckHashFormat(f *testing.F) {
	for _, s := range []string{
		"$P$BlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0",
		"$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
	} {
		f.Add(s, "password")
	}
	h := testHasher(f)
	f.Fuzz(func(t *testing.T, stored, password string) {
		fuzzdeadline.Run(t, func() {
			if CheckHashFormat(stored) != nil {
				return
			}
			if a, err := parseArgon2(stored); err == nil && (a.memory > 1<<12 || a.time > 4) {
				return // valid, but too costly to compute in a fuzz loop
			}
			if strings.HasPrefix(stored, "$P$") || strings.HasPrefix(stored, "$H$") {
				if strings.IndexByte(phpassItoa64, stored[3]) > 12 {
					return
				}
			}
			if strings.HasPrefix(stored, "$2") && stored[4:6] > "06" {
				return
			}
			_, _, err := h.Verify(stored, password)
			require.NoError(t, err)
		})
	})
}
