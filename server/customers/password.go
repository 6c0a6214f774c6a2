package customers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// ErrUnknownHashFormat is returned for a stored hash no verifier understands.
var ErrUnknownHashFormat = errors.New("customers: unknown password hash format")

// Argon2Params are the argon2id cost parameters for new hashes.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32
	KeyLen      uint32
}

// DefaultArgon2Params is OWASP's argon2id baseline (m=19 MiB, t=2, p=1).
var DefaultArgon2Params = Argon2Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Hasher makes new password hashes and verifies stored ones.
type Hasher struct {
	params Argon2Params
	// dummy is a hash of a random password with the current parameters; an
	// unknown e-mail is verified against it so it costs what a wrong
	// password costs.
	dummy string
	// activity, when set, is told when each argon2 computation starts
	// and ends (Tracked).
	activity Activity
}

var _ PasswordHasher = (*Hasher)(nil)

// Activity is told when memory-hungry work starts; the returned func is
// called when it ends. The server gives back the argon2 memory once
// hashing has been quiet for a while (internal/memtrim).
type Activity interface {
	Begin() (end func())
}

// Tracked returns a copy of h that tells a about every argon2
// computation.
func (h *Hasher) Tracked(a Activity) *Hasher {
	c := *h
	c.activity = a
	return &c
}

// argon2Begins reports an argon2 computation to the activity, if any.
func (h *Hasher) argon2Begins() (end func()) {
	if h.activity == nil {
		return func() {}
	}
	return h.activity.Begin()
}

// NewHasher returns a Hasher for params (zero fields take the defaults).
func NewHasher(params Argon2Params) (*Hasher, error) {
	d := DefaultArgon2Params
	if params.MemoryKiB != 0 {
		d.MemoryKiB = params.MemoryKiB
	}
	if params.Iterations != 0 {
		d.Iterations = params.Iterations
	}
	if params.Parallelism != 0 {
		d.Parallelism = params.Parallelism
	}
	if params.SaltLen != 0 {
		d.SaltLen = params.SaltLen
	}
	if params.KeyLen != 0 {
		d.KeyLen = params.KeyLen
	}
	h := &Hasher{params: d}
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, fmt.Errorf("dummy password: %w", err)
	}
	dummy, err := h.Hash(base64.RawStdEncoding.EncodeToString(random[:]))
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// Params reports the parameters new hashes are made with.
func (h *Hasher) Params() Argon2Params { return h.params }

// Hash returns password as an argon2id hash in PHC string format.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	end := h.argon2Begins()
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, h.params.KeyLen)
	end()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches the stored hash, and whether the
// hash should be replaced by a current one (another format or weaker
// parameters).
func (h *Hasher) Verify(stored, password string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(stored, "$argon2id$"), strings.HasPrefix(stored, "$argon2i$"):
		return h.verifyArgon2(stored, password)
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		return verifyBcrypt(stored, password)
	case strings.HasPrefix(stored, "$P$"), strings.HasPrefix(stored, "$H$"):
		ok, err := verifyPHPass(stored, password)
		return ok, ok, err
	}
	return false, false, ErrUnknownHashFormat
}

// bcryptMaxPassword is where bcrypt stops reading: PHP, Laravel and Spryker
// silently ignore every byte after the 72nd, so "72 bytes + anything"
// matches. Such a password can never be told apart from its variants, so
// it never matches a bcrypt hash here (the customer resets it instead).
const bcryptMaxPassword = 72

// bcryptMaxCost bounds the work a stored hash may ask for: cost 14 takes
// about a second; PHP allows 31, which a corrupt or hostile row could use
// to hold a hashing slot for days.
const bcryptMaxCost = 14

// bcryptChars is bcrypt's base64 alphabet.
const bcryptChars = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func checkBcrypt(stored string) error {
	// $2y$10$ + 22 salt + 31 hash characters.
	if len(stored) != 60 || stored[6] != '$' || strings.Trim(stored[7:], bcryptChars) != "" {
		return ErrUnknownHashFormat
	}
	cost, err := bcrypt.Cost([]byte("$2a$" + stored[4:]))
	if err != nil || cost > bcryptMaxCost {
		return ErrUnknownHashFormat
	}
	return nil
}

func verifyBcrypt(stored, password string) (ok, needsRehash bool, err error) {
	if err := checkBcrypt(stored); err != nil {
		return false, false, err
	}
	// PHP writes $2y$; Go's bcrypt reads only $2a$/$2b$, which are the same
	// algorithm for passwords without the 2011 8-bit bug.
	normalized := []byte("$2a$" + stored[4:])
	tooLong := len(password) > bcryptMaxPassword
	if tooLong {
		// Still spend the bcrypt work, so the answer takes as long as a
		// wrong password of a legal length.
		password = password[:bcryptMaxPassword]
	}
	err = bcrypt.CompareHashAndPassword(normalized, []byte(password))
	switch {
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("%w: %v", ErrUnknownHashFormat, err)
	case tooLong:
		return false, false, nil
	}
	return true, true, nil
}

// CheckHashFormat reports whether Verify can read stored, without doing
// the work of a verification: nil, or ErrUnknownHashFormat. Imports check
// every hash with it.
func CheckHashFormat(stored string) error {
	switch {
	case strings.HasPrefix(stored, "$argon2id$"), strings.HasPrefix(stored, "$argon2i$"):
		a, err := parseArgon2(stored)
		if err != nil || (a.variant != "argon2id" && a.variant != "argon2i") {
			return ErrUnknownHashFormat
		}
		return nil
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		return checkBcrypt(stored)
	case strings.HasPrefix(stored, "$P$"), strings.HasPrefix(stored, "$H$"):
		return checkPHPass(stored)
	}
	return ErrUnknownHashFormat
}

// VerifyDummy spends the time of one verification at current parameters.
func (h *Hasher) VerifyDummy(password string) {
	_, _, _ = h.Verify(h.dummy, password)
}

type argon2Hash struct {
	variant      string
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseArgon2(stored string) (argon2Hash, error) {
	// $argon2id$v=19$m=19456,t=2,p=1$salt$key
	parts := strings.Split(stored, "$")
	if len(parts) != 6 {
		return argon2Hash{}, ErrUnknownHashFormat
	}
	var a argon2Hash
	a.variant = parts[1]
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argon2Hash{}, ErrUnknownHashFormat
	}
	var threads uint32
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			return argon2Hash{}, ErrUnknownHashFormat
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return argon2Hash{}, ErrUnknownHashFormat
		}
		switch k {
		case "m":
			a.memory = uint32(n)
		case "t":
			a.time = uint32(n)
		case "p":
			threads = uint32(n)
		default:
			return argon2Hash{}, ErrUnknownHashFormat
		}
	}
	// Bounds keep a hostile or corrupt row from exhausting memory or CPU.
	if a.memory == 0 || a.memory > 1<<21 || a.time == 0 || a.time > 64 || threads == 0 || threads > 255 {
		return argon2Hash{}, ErrUnknownHashFormat
	}
	a.threads = uint8(threads)
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(a.salt) < 8 {
		return argon2Hash{}, ErrUnknownHashFormat
	}
	if a.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(a.key) < 16 || len(a.key) > 128 {
		return argon2Hash{}, ErrUnknownHashFormat
	}
	return a, nil
}

func (h *Hasher) verifyArgon2(stored, password string) (bool, bool, error) {
	a, err := parseArgon2(stored)
	if err != nil {
		return false, false, err
	}
	var key []byte
	defer h.argon2Begins()()
	switch a.variant {
	case "argon2id":
		key = argon2.IDKey([]byte(password), a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
	case "argon2i":
		key = argon2.Key([]byte(password), a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
	default:
		return false, false, ErrUnknownHashFormat
	}
	if subtle.ConstantTimeCompare(key, a.key) != 1 {
		return false, false, nil
	}
	weaker := a.variant != "argon2id" || a.memory < h.params.MemoryKiB || a.time < h.params.Iterations ||
		a.threads < h.params.Parallelism || uint32(len(a.key)) < h.params.KeyLen
	return true, weaker, nil
}
