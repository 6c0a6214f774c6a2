package sqlstore

import (
	"context"
	"fmt"

	"github.com/shopauth/shopauth/storage"
)

// CreateClient stores a client registration; storage.ErrConflict if the id
// exists. TTLs are stored as whole seconds.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	m := fromClient(c)
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("create client: %w", convertErr(err))
	}
	return nil
}

// GetClient returns the client with the given id, or storage.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	var m clientModel
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return storage.Client{}, convertErr(err)
	}
	return m.toStorage()
}

// ListClients returns every client ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	var ms []clientModel
	if err := s.db.WithContext(ctx).Order("id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list clients: %w", convertErr(err))
	}
	out := make([]storage.Client, 0, len(ms))
	for _, m := range ms {
		c, err := m.toStorage()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
