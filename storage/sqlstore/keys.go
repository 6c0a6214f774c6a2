package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/shopauth/shopauth/storage"
)

// CreateSigningKey stores a signing key. storage.ErrConflict on a duplicate
// kid or generation: replicas racing to create the next key all try the
// same generation, and the unique index lets exactly one of them win.
func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	m := fromSigningKey(k)
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("create signing key: %w", convertErr(err))
	}
	return nil
}

// ListSigningKeys returns every signing key ordered by generation.
func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	var ms []signingKeyModel
	if err := s.db.WithContext(ctx).Order("generation").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list signing keys: %w", convertErr(err))
	}
	out := make([]storage.SigningKey, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.toStorage())
	}
	return out, nil
}

// SetSigningKeySchedule sets when a key stops signing and when it leaves
// the JWKS; nil means never. storage.ErrNotFound for an unknown kid.
// Replicas converging on the same schedule write the same values, so
// concurrent calls are harmless.
func (s *Store) SetSigningKeySchedule(ctx context.Context, kid string, retireAfter, removeAfter *time.Time) error {
	res := s.db.WithContext(ctx).Model(&signingKeyModel{}).
		Where("kid = ?", kid).
		Updates(map[string]any{"retire_after": dbTimePtr(retireAfter), "remove_after": dbTimePtr(removeAfter)})
	if res.Error != nil {
		return fmt.Errorf("set signing key schedule: %w", convertErr(res.Error))
	}
	// MySQL counts matched rows here too (clientFoundRows), so 0 means
	// the key does not exist.
	if res.RowsAffected == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// RekeySigningKeys replaces encrypted private keys in one transaction, all
// or nothing. Each row must still hold its Old ciphertext: otherwise
// (another rekey got there first) storage.ErrConflict and nothing changes.
// storage.ErrNotFound for an unknown kid.
func (s *Store) RekeySigningKeys(ctx context.Context, ks []storage.SigningKeyCiphertext) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		for _, k := range ks {
			res := tx.Model(&signingKeyModel{}).
				Where("kid = ? AND encrypted_private_key = ?", k.KID, k.Old).
				Update("encrypted_private_key", k.New)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				continue
			}
			var n int64
			if err := tx.Model(&signingKeyModel{}).Where("kid = ?", k.KID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return storage.ErrNotFound
			}
			return storage.ErrConflict
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rekey signing keys: %w", convertErr(err))
	}
	return nil
}
