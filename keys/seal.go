package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// ErrWrongKEK is wrapped when a stored private key does not decrypt: the
// configured key encryption key is not the one it was encrypted with, or
// the ciphertext was moved to another key's row.
var ErrWrongKEK = errors.New("wrong SHOPAUTH_KEY_ENCRYPTION_KEY?")

const nonceSize = 12 // AES-GCM standard nonce

// newAEAD returns AES-256-GCM under kek.
func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("key encryption key has %d bytes, want %d", len(kek), KEKSize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts a private key's PKCS#8 DER as nonce || ciphertext. The kid is
// the additional data, so a ciphertext copied into another key's row fails
// to open instead of silently signing under the wrong kid.
func seal(aead cipher.AEAD, kid string, plaintext []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("encrypt signing key %s: %w", kid, err)
	}
	return aead.Seal(out, out, plaintext, []byte(kid)), nil
}

// open reverses seal. Any authentication failure is reported as ErrWrongKEK:
// GCM cannot tell a wrong key from a moved or damaged ciphertext, and a
// wrong key is by far the likeliest cause.
func open(aead cipher.AEAD, kid string, sealed []byte) ([]byte, error) {
	if len(sealed) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("cannot decrypt signing key %s: ciphertext is %d bytes, too short", kid, len(sealed))
	}
	plaintext, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt signing key %s: %w", kid, ErrWrongKEK)
	}
	return plaintext, nil
}

// openAny opens sealed with the first of aeads that can and returns which
// one did, so `keys rekey` can tell keys already under the new KEK.
func openAny(aeads []cipher.AEAD, kid string, sealed []byte) ([]byte, int, error) {
	var err error
	for i, aead := range aeads {
		var plaintext []byte
		if plaintext, err = open(aead, kid, sealed); err == nil {
			return plaintext, i, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("cannot decrypt signing key %s: no key encryption key", kid)
	}
	return nil, -1, err
}
