package storagetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// cartToken returns a 32-character token made from name.
func cartToken(name string) string {
	return (name + strings.Repeat("x", storage.CartTokenLength))[:storage.CartTokenLength]
}

func newCart(shop, token string, customer uint64, lines ...storage.CartLine) *storage.Cart {
	var total int64
	for _, l := range lines {
		total += l.Total
	}
	return &storage.Cart{
		ShopKey: shop, Token: token, CustomerID: customer,
		Total: total, TotalIVA: total * 21 / 100, TotalTotal: total + total*21/100, TotalOriginal: total,
		Lines: lines, CreatedAt: baseTime(), UpdatedAt: baseTime(),
	}
}

func line(sku string, qty, price int64) storage.CartLine {
	return storage.CartLine{SKU: sku, Name: "Product " + sku + " ☃", Quantity: qty, UnitPrice: price, Total: qty * price}
}

func testCarts(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	notes := "leave at the door — ñ"

	anon := newCart("shop", cartToken("anon"), 0, line("A-1", 2, 1250), line("B-2", 1, 399))
	anon.Notes = &notes
	require.NoError(t, s.CreateCart(ctx, anon))
	require.NotZero(t, anon.ID)
	require.Len(t, anon.Lines, 2)
	require.NotZero(t, anon.Lines[0].ID)
	require.Equal(t, anon.ID, anon.Lines[0].CartID)

	owned := newCart("shop", "", 7)
	require.NoError(t, s.CreateCart(ctx, owned))
	ownedToo := newCart("shop", "", 8) // a second tokenless cart: NULL tokens do not collide
	require.NoError(t, s.CreateCart(ctx, ownedToo))

	t.Run("anonymous cart round trips with lines in order", func(t *testing.T) {
		got, err := s.GetAnonymousCart(ctx, "shop", cartToken("anon"))
		require.NoError(t, err)
		want := *anon
		want.CreatedAt, want.UpdatedAt = stored(baseTime()), stored(baseTime())
		require.Equal(t, want, got)
		require.True(t, got.Anonymous())
		require.Equal(t, []string{"A-1", "B-2"}, []string{got.Lines[0].SKU, got.Lines[1].SKU})
	})

	t.Run("customer cart", func(t *testing.T) {
		got, err := s.GetCustomerCart(ctx, "shop", 7)
		require.NoError(t, err)
		require.Equal(t, owned.ID, got.ID)
		require.Equal(t, "", got.Token)
		require.Nil(t, got.Lines)
		require.False(t, got.Anonymous())
	})

	lookups := []struct {
		name string
		get  func() (storage.Cart, error)
	}{
		{"customer without cart", func() (storage.Cart, error) { return s.GetCustomerCart(ctx, "shop", 99) }},
		{"customer of another shop", func() (storage.Cart, error) { return s.GetCustomerCart(ctx, "other", 7) }},
		{"unknown token", func() (storage.Cart, error) { return s.GetAnonymousCart(ctx, "shop", cartToken("nope")) }},
		{"token of another shop", func() (storage.Cart, error) { return s.GetAnonymousCart(ctx, "other", cartToken("anon")) }},
		{"token differs in case", func() (storage.Cart, error) {
			return s.GetAnonymousCart(ctx, "shop", strings.ToUpper(cartToken("anon")))
		}},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.get()
			require.ErrorIs(t, err, storage.ErrNotFound)
		})
	}

	t.Run("duplicate token in one shop conflicts", func(t *testing.T) {
		err := s.CreateCart(ctx, newCart("shop", cartToken("anon"), 0))
		require.ErrorIs(t, err, storage.ErrConflict)
	})

	t.Run("same token in another shop is another cart", func(t *testing.T) {
		require.NoError(t, s.CreateCart(ctx, newCart("other", cartToken("anon"), 0)))
	})
}

func testClaimAnonymousCart(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("claim moves the cart and removes the previous one", func(t *testing.T) {
		s := open(t)
		previous := newCart("shop", "", 21, line("OLD", 1, 100))
		require.NoError(t, s.CreateCart(ctx, previous))
		anon := newCart("shop", cartToken("anon"), 0, line("NEW", 3, 200))
		require.NoError(t, s.CreateCart(ctx, anon))
		other := newCart("shop", "", 22, line("KEEP", 1, 1))
		require.NoError(t, s.CreateCart(ctx, other))

		got, err := s.ClaimAnonymousCart(ctx, "shop", cartToken("anon"), 21)
		require.NoError(t, err)
		require.Equal(t, anon.ID, got.ID)
		require.Equal(t, uint64(21), got.CustomerID)
		require.Len(t, got.Lines, 1)
		require.Equal(t, "NEW", got.Lines[0].SKU)

		current, err := s.GetCustomerCart(ctx, "shop", 21)
		require.NoError(t, err)
		require.Equal(t, anon.ID, current.ID, "the previous cart is gone")
		_, err = s.GetAnonymousCart(ctx, "shop", cartToken("anon"))
		require.ErrorIs(t, err, storage.ErrNotFound, "no longer anonymous")
		kept, err := s.GetCustomerCart(ctx, "shop", 22)
		require.NoError(t, err)
		require.Equal(t, other.ID, kept.ID, "another customer's cart is untouched")

		_, err = s.ClaimAnonymousCart(ctx, "shop", cartToken("anon"), 22)
		require.ErrorIs(t, err, storage.ErrNotFound, "a claimed cart cannot be claimed again")
		kept, err = s.GetCustomerCart(ctx, "shop", 22)
		require.NoError(t, err)
		require.Equal(t, other.ID, kept.ID, "a failed claim removes nothing")
	})

	failures := []struct {
		name     string
		shop     string
		token    string
		customer uint64
	}{
		{"unknown token", "shop", cartToken("unknown"), 21},
		{"token of another shop", "other", cartToken("anon"), 21},
		{"empty token", "shop", "", 21},
		{"no customer", "shop", cartToken("anon"), 0},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			previous := newCart("shop", "", 21, line("OLD", 1, 100))
			require.NoError(t, s.CreateCart(ctx, previous))
			require.NoError(t, s.CreateCart(ctx, newCart("shop", cartToken("anon"), 0)))

			_, err := s.ClaimAnonymousCart(ctx, tt.shop, tt.token, tt.customer)
			require.ErrorIs(t, err, storage.ErrNotFound)
			current, err := s.GetCustomerCart(ctx, "shop", 21)
			require.NoError(t, err)
			require.Equal(t, previous.ID, current.ID, "the customer's cart stays")
			_, err = s.GetAnonymousCart(ctx, "shop", cartToken("anon"))
			require.NoError(t, err, "the anonymous cart stays anonymous")
		})
	}
}

// testConcurrentCartClaims races customers, each with a cart of their own,
// for one anonymous cart: exactly one gets it, and only the winner loses
// their previous cart.
func testConcurrentCartClaims(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	previous := make([]uint64, racers)
	for i := range racers {
		c := newCart("shop", "", uint64(100+i), line(fmt.Sprint("P", i), 1, 1))
		require.NoError(t, s.CreateCart(ctx, c))
		previous[i] = c.ID
	}
	anon := newCart("shop", cartToken("contended"), 0, line("X", 1, 5))
	require.NoError(t, s.CreateCart(ctx, anon))

	errs := race(func(i int) error {
		_, err := s.ClaimAnonymousCart(ctx, "shop", cartToken("contended"), uint64(100+i))
		return err
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two winners: %d and %d", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, storage.ErrNotFound, "racer %d", i)
	}
	require.NotEqual(t, -1, winner, "no winner")
	for i := range racers {
		got, err := s.GetCustomerCart(ctx, "shop", uint64(100+i))
		require.NoError(t, err)
		if i == winner {
			require.Equal(t, anon.ID, got.ID)
			continue
		}
		require.Equal(t, previous[i], got.ID, "loser %d keeps their cart", i)
	}
}
