package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/shopauth/shopauth/storage"
)

// cartModel and cartLineModel are the runtime models of the v3 tables.
type cartModel struct {
	ID            uint64  `gorm:"column:id;primaryKey;autoIncrement"`
	ShopKey       string  `gorm:"column:shop_key"`
	Token         *string `gorm:"column:token"`
	CustomerID    *uint64 `gorm:"column:customer_id"`
	Notes         *string `gorm:"column:notes"`
	Total         int64   `gorm:"column:total"`
	TotalIVA      int64   `gorm:"column:total_iva"`
	TotalRE       int64   `gorm:"column:total_re"`
	TotalDiscount int64   `gorm:"column:total_discount"`
	TotalOriginal int64   `gorm:"column:total_original"`
	TotalShipping int64   `gorm:"column:total_shipping"`
	TotalTaxes    int64   `gorm:"column:total_taxes"`
	TotalTotal    int64   `gorm:"column:total_total"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (cartModel) TableName() string { return "carts" }

type cartLineModel struct {
	ID        uint64 `gorm:"column:id;primaryKey;autoIncrement"`
	CartID    uint64 `gorm:"column:cart_id"`
	SKU       string `gorm:"column:sku"`
	Name      string `gorm:"column:name"`
	Quantity  int64  `gorm:"column:quantity"`
	UnitPrice int64  `gorm:"column:unit_price"`
	Total     int64  `gorm:"column:total"`
}

func (cartLineModel) TableName() string { return "cart_lines" }

func fromCart(c *storage.Cart) cartModel {
	m := cartModel{
		ID: c.ID, ShopKey: c.ShopKey, Notes: c.Notes,
		Total: c.Total, TotalIVA: c.TotalIVA, TotalRE: c.TotalRE, TotalDiscount: c.TotalDiscount,
		TotalOriginal: c.TotalOriginal, TotalShipping: c.TotalShipping, TotalTaxes: c.TotalTaxes, TotalTotal: c.TotalTotal,
		CreatedAt: dbTime(c.CreatedAt), UpdatedAt: dbTime(c.UpdatedAt),
	}
	// Empty token and customer are NULL: NULLs never collide in the unique
	// (shop_key, token) index, and NULL customer_id is what "anonymous"
	// means to the conditional UPDATE of ClaimAnonymousCart.
	if c.Token != "" {
		m.Token = &c.Token
	}
	if c.CustomerID != 0 {
		m.CustomerID = &c.CustomerID
	}
	return m
}

func (m cartModel) toStorage(lines []cartLineModel) storage.Cart {
	c := storage.Cart{
		ID: m.ID, ShopKey: m.ShopKey, Notes: m.Notes,
		Total: m.Total, TotalIVA: m.TotalIVA, TotalRE: m.TotalRE, TotalDiscount: m.TotalDiscount,
		TotalOriginal: m.TotalOriginal, TotalShipping: m.TotalShipping, TotalTaxes: m.TotalTaxes, TotalTotal: m.TotalTotal,
		CreatedAt: fromDB(m.CreatedAt), UpdatedAt: fromDB(m.UpdatedAt),
	}
	if m.Token != nil {
		c.Token = *m.Token
	}
	if m.CustomerID != nil {
		c.CustomerID = *m.CustomerID
	}
	for _, l := range lines {
		c.Lines = append(c.Lines, storage.CartLine{
			ID: l.ID, CartID: l.CartID, SKU: l.SKU, Name: l.Name,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, Total: l.Total,
		})
	}
	return c
}

// CreateCart stores a cart and its lines in one transaction and writes the
// assigned ids back to c. storage.ErrConflict when the shop already has a
// cart with c's token.
func (s *Store) CreateCart(ctx context.Context, c *storage.Cart) error {
	var m cartModel
	lines := make([]cartLineModel, len(c.Lines))
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		m = fromCart(c) // afresh on a rerun: the rolled-back insert set its id
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		for i, l := range c.Lines {
			lines[i] = cartLineModel{CartID: m.ID, SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Total: l.Total}
			if err := tx.Create(&lines[i]).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create cart: %w", convertErr(err))
	}
	*c = m.toStorage(lines)
	return nil
}

// GetCustomerCart returns the customer's current cart in the shop (the
// newest, should there be several), or storage.ErrNotFound.
func (s *Store) GetCustomerCart(ctx context.Context, shopKey string, customerID uint64) (storage.Cart, error) {
	return loadCart(s.db.WithContext(ctx), "shop_key = ? AND customer_id = ?", shopKey, customerID)
}

// GetAnonymousCart returns the shop's anonymous cart with this token, or
// storage.ErrNotFound (also when a customer owns it by now).
func (s *Store) GetAnonymousCart(ctx context.Context, shopKey, token string) (storage.Cart, error) {
	return loadCart(s.db.WithContext(ctx), "shop_key = ? AND token = ? AND customer_id IS NULL", shopKey, token)
}

// ClaimAnonymousCart hands the shop's anonymous cart with this token over
// to the customer and removes the customer's previous carts, in one
// transaction, and returns the claimed cart. The hand-over is one
// conditional UPDATE … WHERE customer_id IS NULL that must match exactly
// one row: of concurrent claims of one cart, by one process or several,
// exactly one succeeds. The others, and a token that is unknown, of another
// shop or already claimed, get storage.ErrNotFound and change nothing.
func (s *Store) ClaimAnonymousCart(ctx context.Context, shopKey, token string, customerID uint64) (storage.Cart, error) {
	if token == "" || customerID == 0 {
		return storage.Cart{}, storage.ErrNotFound
	}
	var claimed storage.Cart
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&cartModel{}).
			Where("shop_key = ? AND token = ? AND customer_id IS NULL", shopKey, token).
			Updates(map[string]any{"customer_id": customerID, "updated_at": s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return storage.ErrNotFound
		}
		var err error
		claimed, err = loadCart(tx, "shop_key = ? AND token = ?", shopKey, token)
		if err != nil {
			return err
		}
		// The previous carts go only after the claim matched, so a lost
		// race leaves the loser's cart alone.
		var previous []uint64
		if err := tx.Model(&cartModel{}).
			Where("shop_key = ? AND customer_id = ? AND id <> ?", shopKey, customerID, claimed.ID).
			Pluck("id", &previous).Error; err != nil {
			return err
		}
		if len(previous) == 0 {
			return nil
		}
		if err := tx.Where("cart_id IN ?", previous).Delete(&cartLineModel{}).Error; err != nil {
			return err
		}
		return tx.Where("id IN ?", previous).Delete(&cartModel{}).Error
	})
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Cart{}, storage.ErrNotFound
	}
	if err != nil {
		return storage.Cart{}, fmt.Errorf("claim anonymous cart: %w", convertErr(err))
	}
	return claimed, nil
}

// loadCart reads the newest cart matching where, with its lines.
func loadCart(db *gorm.DB, where string, args ...any) (storage.Cart, error) {
	var m cartModel
	if err := db.Where(where, args...).Order("id DESC").Take(&m).Error; err != nil {
		return storage.Cart{}, convertErr(err)
	}
	var lines []cartLineModel
	if err := db.Session(&gorm.Session{NewDB: true}).Where("cart_id = ?", m.ID).Order("id").Find(&lines).Error; err != nil {
		return storage.Cart{}, fmt.Errorf("load cart lines: %w", convertErr(err))
	}
	return m.toStorage(lines), nil
}
