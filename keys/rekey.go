package keys

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"

	"github.com/shopauth/shopauth/storage"
)

// RekeyStore is the storage Rekey consumes.
type RekeyStore interface {
	ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error)
	// RekeySigningKeys replaces ciphertexts all or nothing;
	// storage.ErrConflict when a row no longer holds its Old ciphertext.
	RekeySigningKeys(ctx context.Context, ks []storage.SigningKeyCiphertext) error
}

// Rekey re-encrypts every stored private key under newKEK (`shopauth keys
// rekey`, with the old key in SHOPAUTH_KEY_ENCRYPTION_KEY_OLD). Keys that
// newKEK opens already are left as they are, so a second run, or a run
// after a replica still on the old KEK created a key, is safe. It writes
// nothing unless every key opens under one of the two KEKs, and then all
// rows in one transaction. It reports how many keys it re-encrypted and
// how many were under newKEK already.
func Rekey(ctx context.Context, store RekeyStore, oldKEK, newKEK []byte) (rekeyed, unchanged int, err error) {
	oldAEAD, err := newAEAD(oldKEK)
	if err != nil {
		return 0, 0, fmt.Errorf("keys: old %w", err)
	}
	newAEAD, err := newAEAD(newKEK)
	if err != nil {
		return 0, 0, fmt.Errorf("keys: new %w", err)
	}
	rows, err := store.ListSigningKeys(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("keys: list signing keys: %w", err)
	}
	var changes []storage.SigningKeyCiphertext
	for _, r := range rows {
		plain, which, err := openAny([]cipher.AEAD{newAEAD, oldAEAD}, r.KID, r.EncryptedPrivateKey)
		if err != nil {
			return 0, 0, fmt.Errorf("keys: %w (neither the new nor the old key encryption key opens it)", err)
		}
		if which == 0 {
			clear(plain)
			unchanged++
			continue
		}
		sealed, err := seal(newAEAD, r.KID, plain)
		clear(plain)
		if err != nil {
			return 0, 0, fmt.Errorf("keys: %w", err)
		}
		changes = append(changes, storage.SigningKeyCiphertext{KID: r.KID, Old: r.EncryptedPrivateKey, New: sealed})
	}
	if len(changes) == 0 {
		return 0, unchanged, nil
	}
	if err := store.RekeySigningKeys(ctx, changes); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return 0, 0, fmt.Errorf("keys: another rekey changed the keys meanwhile; run it again: %w", err)
		}
		return 0, 0, fmt.Errorf("keys: %w", err)
	}
	return len(changes), unchanged, nil
}
