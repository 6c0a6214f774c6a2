package sqlstore

import (
	"time"

	"gorm.io/gorm"
)

// Schema version 3, frozen: the carts of the shopKey anonymous-cart
// hand-over (docs/design.md, "Data"). A cart is anonymous while customer_id is NULL and
// is found by (shop_key, token); NULLs never collide in the unique index,
// on SQLite or MySQL, so owned carts without a token are fine. Amounts are
// minor units (cents). Lines are deleted with their cart by the store, in
// the same transaction, as in v1 there are no foreign keys.

type v3Cart struct {
	ID            uint64    `gorm:"column:id;primaryKey;autoIncrement"`
	ShopKey       string    `gorm:"column:shop_key;type:varchar(64);not null;uniqueIndex:uq_carts_shop_token,priority:1;index:idx_carts_shop_customer,priority:1"`
	Token         *string   `gorm:"column:token;type:varchar(32);uniqueIndex:uq_carts_shop_token,priority:2"`
	CustomerID    *uint64   `gorm:"column:customer_id;type:bigint unsigned;index:idx_carts_shop_customer,priority:2"`
	Notes         *string   `gorm:"column:notes;type:text"`
	Total         int64     `gorm:"column:total;type:bigint;not null"`
	TotalIVA      int64     `gorm:"column:total_iva;type:bigint;not null"`
	TotalRE       int64     `gorm:"column:total_re;type:bigint;not null"`
	TotalDiscount int64     `gorm:"column:total_discount;type:bigint;not null"`
	TotalOriginal int64     `gorm:"column:total_original;type:bigint;not null"`
	TotalShipping int64     `gorm:"column:total_shipping;type:bigint;not null"`
	TotalTaxes    int64     `gorm:"column:total_taxes;type:bigint;not null"`
	TotalTotal    int64     `gorm:"column:total_total;type:bigint;not null"`
	CreatedAt     time.Time `gorm:"column:created_at;type:datetime;not null"`
	UpdatedAt     time.Time `gorm:"column:updated_at;type:datetime;not null"`
}

func (v3Cart) TableName() string { return "carts" }

type v3CartLine struct {
	ID        uint64 `gorm:"column:id;primaryKey;autoIncrement"`
	CartID    uint64 `gorm:"column:cart_id;type:bigint unsigned;not null;index:idx_cart_lines_cart_id"`
	SKU       string `gorm:"column:sku;type:varchar(64);not null"`
	Name      string `gorm:"column:name;type:varchar(255);not null"`
	Quantity  int64  `gorm:"column:quantity;type:bigint;not null"`
	UnitPrice int64  `gorm:"column:unit_price;type:bigint;not null"`
	Total     int64  `gorm:"column:total;type:bigint;not null"`
}

func (v3CartLine) TableName() string { return "cart_lines" }

func migrateV3(tx *gorm.DB, dialect string) error {
	return createTables(tx, dialect, &v3Cart{}, &v3CartLine{})
}
