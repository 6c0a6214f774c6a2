package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KEKSize is the length of a key encryption key: AES-256.
const KEKSize = 32

// ErrKEKFileMode is wrapped by CheckKEKFileMode when group or others may
// read the KEK file.
var ErrKEKFileMode = errors.New("key encryption key file is readable by group or others")

// ParseKEK decodes a key encryption key given as base64 of exactly 32 bytes.
// Standard and URL alphabets, padded or not, are all accepted because
// operators paste keys from `openssl rand -base64 32`, from `shopauth`
// output and from secret managers that re-encode. The error never echoes
// the input: it is a secret.
func ParseKEK(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, errors.New("key encryption key is empty: want base64 of 32 bytes")
	}
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	kek, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("key encryption key is not valid base64 (%v): want base64 of 32 bytes", err)
	}
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("key encryption key decodes to %d bytes: want base64 of exactly %d bytes", len(kek), KEKSize)
	}
	return kek, nil
}

// GenerateKEK returns a new random 32-byte key encryption key.
func GenerateKEK() ([]byte, error) {
	kek := make([]byte, KEKSize)
	if _, err := rand.Read(kek); err != nil {
		return nil, fmt.Errorf("generate key encryption key: %w", err)
	}
	return kek, nil
}

// EncodeKEK returns the padded standard base64 form of kek, the form
// SHOPAUTH_KEY_ENCRYPTION_KEY documents and ParseKEK reads back.
func EncodeKEK(kek []byte) string {
	return base64.StdEncoding.EncodeToString(kek)
}

// LoadOrCreateKEKFile reads the key encryption key stored at path, or
// creates the file (mode 0600) with a new key if it does not exist. It is
// meant for SQLite deployments without a configured key. created reports
// whether this call wrote the file, so the caller can warn once.
//
// Creation is atomic: the key is written to a temporary file and hard-linked
// into place, so two processes starting at once agree on one key and neither
// ever reads a half-written file. The file's permissions are not judged
// here; see CheckKEKFileMode.
func LoadOrCreateKEKFile(path string) (kek []byte, created bool, err error) {
	kek, err = readKEKFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return kek, false, err
	}
	kek, err = GenerateKEK()
	if err != nil {
		return nil, false, err
	}
	won, err := createExclusive(path, []byte(EncodeKEK(kek)+"\n"))
	if err != nil {
		return nil, false, fmt.Errorf("create key encryption key file: %w", err)
	}
	if !won {
		// Another process created it between our read and our create.
		kek, err = readKEKFile(path)
		return kek, false, err
	}
	return kek, true, nil
}

// CheckKEKFileMode returns an error wrapping ErrKEKFileMode when the file at
// path may be read by group or others. It is advice for a start-up warning,
// not a reason to refuse: the key still works. Windows has no such mode bits.
func CheckKEKFileMode(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %v, want 0600: %w", path, perm, ErrKEKFileMode)
	}
	return nil
}

// LoadKEKFile reads the key encryption key stored at path; an error
// wrapping fs.ErrNotExist when there is none. Unlike LoadOrCreateKEKFile it
// never writes one: beside signing keys encrypted already, a new key would
// open none of them.
func LoadKEKFile(path string) ([]byte, error) {
	return readKEKFile(path)
}

func readKEKFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	kek, err := ParseKEK(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kek, nil
}

// createExclusive writes data to path only if path does not exist yet and
// reports whether it did. Writing a temporary file first and linking it
// into place means the final name never holds partial content.
func createExclusive(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return false, err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeAndSync(tmp, data); err != nil {
		return false, err
	}
	err = os.Link(tmpName, path)
	switch {
	case err == nil:
		syncDir(dir)
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	// Some filesystems (vfat, some network mounts) have no hard links: fall
	// back to O_EXCL on the final name, which still lets only one process win.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := writeAndSync(f, data); err != nil {
		os.Remove(path)
		return false, err
	}
	syncDir(dir)
	return true, nil
}

func writeAndSync(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a new directory entry durable. Failure only weakens crash
// safety, and some platforms cannot sync directories, so it is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
