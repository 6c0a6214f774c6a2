package sqlstore

import (
	"context"
	"fmt"

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
