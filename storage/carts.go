package storage

import "time"

// CartTokenLength is the length of an anonymous cart's token: the storefront
// makes it up before the customer signs in (seed 001, docs/shopkey.md).
const CartTokenLength = 32

// Cart is a shop's shopping cart: anonymous (CustomerID 0, found by its
// Token) or owned by a customer. Amounts are integers in the currency's
// minor unit (cents), so totals add up exactly.
type Cart struct {
	ID         uint64
	ShopKey    string
	Token      string // empty for a cart that never was anonymous
	CustomerID uint64 // 0 while anonymous
	Notes      *string

	Total         int64
	TotalIVA      int64 // value-added tax (IVA)
	TotalRE       int64 // equivalence surcharge (recargo de equivalencia)
	TotalDiscount int64
	TotalOriginal int64
	TotalShipping int64
	TotalTaxes    int64
	TotalTotal    int64

	Lines     []CartLine // ordered by ID
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Anonymous reports whether no customer owns the cart yet.
func (c *Cart) Anonymous() bool { return c.CustomerID == 0 }

// CartLine is one product in a cart. UnitPrice and Total are minor units.
type CartLine struct {
	ID        uint64
	CartID    uint64
	SKU       string
	Name      string
	Quantity  int64
	UnitPrice int64
	Total     int64
}
