package keys

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/racer"
)

func TestParseKEK(t *testing.T) {
	// 0xfb 0xef 0xff encodes as "++//" (std) and "--__" (url), so both
	// alphabets are really exercised.
	key := bytes.Repeat([]byte{0xfb, 0xef, 0xff}, 11)[:32]
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "std padded", in: base64.StdEncoding.EncodeToString(key)},
		{name: "std raw", in: base64.RawStdEncoding.EncodeToString(key)},
		{name: "url padded", in: base64.URLEncoding.EncodeToString(key)},
		{name: "url raw", in: base64.RawURLEncoding.EncodeToString(key)},
		{name: "surrounding whitespace", in: "  " + base64.StdEncoding.EncodeToString(key) + "\n"},
		{name: "empty", in: " ", wantErr: "empty"},
		{name: "31 bytes", in: base64.StdEncoding.EncodeToString(key[:31]), wantErr: "decodes to 31 bytes"},
		{name: "33 bytes", in: base64.StdEncoding.EncodeToString(append(key, 1)), wantErr: "decodes to 33 bytes"},
		{name: "not base64", in: "this is not base64 at all!!", wantErr: "not valid base64"},
		{name: "mixed alphabets", in: "+-" + base64.RawStdEncoding.EncodeToString(key)[2:], wantErr: "not valid base64"},
		{name: "hex", in: "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f", wantErr: "decodes to 48 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKEK(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				if len(tt.in) > 8 {
					require.NotContains(t, err.Error(), tt.in, "a secret must not be echoed")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, key, got)
		})
	}
}

func TestGenerateEncodeKEK(t *testing.T) {
	a, err := GenerateKEK()
	require.NoError(t, err)
	b, err := GenerateKEK()
	require.NoError(t, err)
	require.Len(t, a, KEKSize)
	require.NotEqual(t, a, b)

	back, err := ParseKEK(EncodeKEK(a))
	require.NoError(t, err)
	require.Equal(t, a, back)
}

func TestLoadOrCreateKEKFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shopauth.db.kek")

	kek, created, err := LoadOrCreateKEKFile(path)
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, kek, KEKSize)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NoError(t, CheckKEKFileMode(path))

	again, created, err := LoadOrCreateKEKFile(path)
	require.NoError(t, err)
	require.False(t, created, "second call loads")
	require.Equal(t, kek, again)

	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
}

func TestLoadOrCreateKEKFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shopauth.db.kek")
	const n = racer.N
	var (
		keks    [n][]byte
		created [n]bool
	)
	errs := racer.Run(n, func(i int) (err error) {
		keks[i], created[i], err = LoadOrCreateKEKFile(path)
		return err
	})
	creators := 0
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, keks[0], keks[i], "every caller agrees on one key")
		if created[i] {
			creators++
		}
	}
	require.Equal(t, 1, creators)
}

func TestLoadOrCreateKEKFileBad(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{name: "wrong length", content: base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n", wantErr: "decodes to 16 bytes"},
		{name: "empty", content: "", wantErr: "empty"},
		{name: "garbage", content: "not a key!\n", wantErr: "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.kek")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			_, created, err := LoadOrCreateKEKFile(path)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, path)
			require.False(t, created)
		})
	}
}

func TestLoadOrCreateKEKFileMissingDir(t *testing.T) {
	_, _, err := LoadOrCreateKEKFile(filepath.Join(t.TempDir(), "nope", "k.kek"))
	require.Error(t, err)
}

func TestCheckKEKFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.kek")
	kek := testKEK(t)
	require.NoError(t, os.WriteFile(path, []byte(EncodeKEK(kek)), 0o600))
	require.NoError(t, os.Chmod(path, 0o644))

	got, created, err := LoadOrCreateKEKFile(path)
	require.NoError(t, err, "a too-open file still loads: it is a warning, not a refusal")
	require.False(t, created)
	require.Equal(t, kek, got)
	require.ErrorIs(t, CheckKEKFileMode(path), ErrKEKFileMode)
}
