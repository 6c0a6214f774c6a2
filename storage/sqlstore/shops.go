package sqlstore

import (
	"context"
	"fmt"

	"github.com/shopauth/shopauth/storage"
)

// CreateShop stores a new shop; storage.ErrConflict if the key exists.
func (s *Store) CreateShop(ctx context.Context, shop storage.Shop) error {
	m := fromShop(shop)
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("create shop: %w", convertErr(err))
	}
	return nil
}

// GetShop returns the shop with the given key, or storage.ErrNotFound.
func (s *Store) GetShop(ctx context.Context, key string) (storage.Shop, error) {
	var m shopModel
	if err := s.db.WithContext(ctx).Where("shop_key = ?", key).Take(&m).Error; err != nil {
		return storage.Shop{}, convertErr(err)
	}
	return m.toStorage()
}

// ListShops returns every shop ordered by key.
func (s *Store) ListShops(ctx context.Context) ([]storage.Shop, error) {
	var ms []shopModel
	if err := s.db.WithContext(ctx).Order("shop_key").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list shops: %w", convertErr(err))
	}
	out := make([]storage.Shop, 0, len(ms))
	for _, m := range ms {
		shop, err := m.toStorage()
		if err != nil {
			return nil, err
		}
		out = append(out, shop)
	}
	return out, nil
}

// IsEmpty reports whether the database holds no shops, customers or
// clients: `serve --demo` seeds only an empty database.
func (s *Store) IsEmpty(ctx context.Context) (bool, error) {
	var exists bool
	err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM shops)
		OR EXISTS (SELECT 1 FROM customers)
		OR EXISTS (SELECT 1 FROM clients)`).Row().Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("check empty database: %w", convertErr(err))
	}
	return !exists, nil
}
