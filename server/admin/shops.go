package admin

import (
	"context"
	"errors"

	"github.com/shopauth/shopauth/storage"
)

// ShopInput is a new shop.
type ShopInput struct {
	Key         string
	Name        string
	Locale      string // default "es"
	CORSOrigins []string
}

// ShopPatch changes a shop; nil fields stay.
type ShopPatch struct {
	Name        *string
	Locale      *string
	CORSOrigins *[]string
	Active      *bool
}

// ShopETag is the ETag of a shop.
func ShopETag(s storage.Shop) string { return etagOf(s) }

// ListShops lists the shops the actor sees.
func (s *Service) ListShops(ctx context.Context, actor Actor) ([]storage.Shop, error) {
	shops, err := s.cfg.Store.ListShops(ctx)
	if err != nil {
		return nil, err
	}
	out := shops[:0]
	for _, sh := range shops {
		if actor.sees(sh.Key) {
			out = append(out, sh)
		}
	}
	return out, nil
}

// GetShop returns a shop the actor sees.
func (s *Service) GetShop(ctx context.Context, actor Actor, key string) (storage.Shop, error) {
	if !actor.sees(key) {
		return storage.Shop{}, refuse(NotFound, "shop not found")
	}
	sh, err := s.cfg.Store.GetShop(ctx, key)
	return sh, notFound(err, "shop")
}

// CreateShop adds a shop (actors of every shop only).
func (s *Service) CreateShop(ctx context.Context, actor Actor, in ShopInput) (storage.Shop, error) {
	if !actor.allShops() {
		return storage.Shop{}, refuse(Forbidden, "a shop-bound admin client cannot create shops")
	}
	if in.Locale == "" {
		in.Locale = "es"
	}
	if !ValidShopKey(in.Key) {
		return storage.Shop{}, invalid("key", "must be 1-64 letters, digits, '-' or '_'")
	}
	if err := checkName("name", in.Name); err != nil {
		return storage.Shop{}, err
	}
	if err := checkLocale("locale", in.Locale); err != nil {
		return storage.Shop{}, err
	}
	if err := checkOrigins("cors_origins", in.CORSOrigins); err != nil {
		return storage.Shop{}, err
	}
	shop := storage.Shop{Key: in.Key, Name: in.Name, Locale: in.Locale, CORSOrigins: in.CORSOrigins, Active: true, CreatedAt: s.now()}
	a := s.entry(actor, "shop.create", "shop", shop.Key, shop.Key)
	if err := s.cfg.Store.CreateShopAudited(ctx, shop, a); errors.Is(err, storage.ErrConflict) {
		return storage.Shop{}, &Error{Kind: Conflict, Field: "key", Message: `shop "` + shop.Key + `" exists already`}
	} else if err != nil {
		return storage.Shop{}, err
	}
	s.logged(ctx, a)
	return s.cfg.Store.GetShop(ctx, shop.Key)
}

// UpdateShop changes a shop the actor sees; ifMatch as checkETag.
func (s *Service) UpdateShop(ctx context.Context, actor Actor, key, ifMatch string, p ShopPatch) (storage.Shop, error) {
	if p.Name != nil {
		if err := checkName("name", *p.Name); err != nil {
			return storage.Shop{}, err
		}
	}
	if p.Locale != nil {
		if err := checkLocale("locale", *p.Locale); err != nil {
			return storage.Shop{}, err
		}
	}
	if p.CORSOrigins != nil {
		if err := checkOrigins("cors_origins", *p.CORSOrigins); err != nil {
			return storage.Shop{}, err
		}
	}
	if p.Active != nil && !actor.allShops() {
		return storage.Shop{}, refuse(Forbidden, "a shop-bound admin client cannot switch its shop off or on")
	}
	if !actor.sees(key) {
		return storage.Shop{}, refuse(NotFound, "shop not found")
	}
	a := s.entry(actor, "shop.update", "shop", key, key)
	sh, err := s.cfg.Store.UpdateShop(ctx, key, func(sh *storage.Shop) error {
		if err := checkETag(ifMatch, ShopETag(*sh)); err != nil {
			return err
		}
		if p.Name != nil {
			sh.Name = *p.Name
		}
		if p.Locale != nil {
			sh.Locale = *p.Locale
		}
		if p.CORSOrigins != nil {
			sh.CORSOrigins = *p.CORSOrigins
		}
		if p.Active != nil {
			sh.Active = *p.Active
		}
		return nil
	}, a)
	if err != nil {
		return storage.Shop{}, notFound(err, "shop")
	}
	s.logged(ctx, a)
	return sh, nil
}
