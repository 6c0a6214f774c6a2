package mail

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kinds of mail.
const (
	// KindConfirmEmail carries the link that confirms a new account.
	KindConfirmEmail = "confirm-email"
	// KindResetPassword carries the link that sets a new password.
	KindResetPassword = "reset-password"
	// KindAlreadyRegistered answers a registration with an address that
	// has an account: it says so, and links to the password reset.
	KindAlreadyRegistered = "already-registered"
)

// Message is what one mail says, before it is rendered.
type Message struct {
	Kind string `json:"kind"`
	To   string `json:"to"`
	// Name is how the mail greets the customer; empty for no name.
	Name string `json:"name,omitempty"`
	// ShopName names the shop the mail is sent for.
	ShopName string `json:"shop"`
	// Locale is the shop's locale; it picks the language.
	Locale string `json:"locale,omitempty"`
	// Link is the one link the mail is about.
	Link string `json:"link"`
	// ValidFor is how long the link works; zero for a link that does not
	// expire.
	ValidFor time.Duration `json:"valid_for,omitempty"`
}

// ErrUnsealable means a sealed message does not open: it was sealed under
// another key (SHOPAUTH_KEY_ENCRYPTION_KEY changed) or damaged.
var ErrUnsealable = errors.New("mail: sealed message does not open (another SHOPAUTH_KEY_ENCRYPTION_KEY?)")

// Sealer encrypts messages for the outbox with AES-256-GCM: a waiting
// mail carries a live key, and the outbox must not hand it to whoever
// reads the database.
type Sealer struct {
	aead cipher.AEAD
}

// sealContext separates the outbox's key from every other key derived
// from the key encryption key.
const sealContext = "shopauth mail outbox v1"

// NewSealer derives the sealing key from secret (the key encryption key,
// at least 32 bytes): equal on every replica, so any replica can send.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("mail: the sealing secret must have at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, sealContext, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns m encrypted, as nonce || ciphertext.
func (s *Sealer) Seal(m Message) ([]byte, error) {
	plain, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("seal mail: %w", err)
	}
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("seal mail: %w", err)
	}
	return s.aead.Seal(out, out, plain, nil), nil
}

// Open reverses Seal; ErrUnsealable when sealed does not open.
func (s *Sealer) Open(sealed []byte) (Message, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return Message{}, ErrUnsealable
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return Message{}, ErrUnsealable
	}
	var m Message
	if err := json.Unmarshal(plain, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrUnsealable, err)
	}
	return m, nil
}
