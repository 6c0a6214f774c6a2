package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func importRow(shop, email string, id uint64) storage.Customer {
	return storage.Customer{ID: id, ShopKey: shop, Email: email, EmailNormalized: email, Name: "N " + email,
		PasswordHash: "$2y$10$" + email, AccountID: id + 1, CustomerReference: "REF-" + email, CompanyUserID: "cu-" + email}
}

func testUpsertCustomers(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()

	inserted, updated, err := s.UpsertCustomers(ctx, nil)
	require.NoError(t, err)
	require.Zero(t, inserted+updated)

	// An existing customer with history the import must not lose.
	old := importRow("shop1", "kept@example.com", 0)
	old.Name = "Old Name"
	old.CreatedAt = at
	require.NoError(t, s.CreateCustomer(ctx, &old))

	batch := []storage.Customer{
		importRow("shop1", "a@example.com", 0),
		importRow("shop1", "b@example.com", 7001),
		func() storage.Customer {
			c := importRow("shop1", "kept@example.com", 0)
			c.EmailVerifiedAt = ptr(at)
			return c
		}(),
		importRow("shop2", "a@example.com", 0),
	}
	inserted, updated, err = s.UpsertCustomers(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, 3, inserted)
	require.Equal(t, 1, updated)

	b, err := s.GetCustomer(ctx, "shop1", 7001)
	require.NoError(t, err)
	require.Equal(t, "b@example.com", b.EmailNormalized)
	require.EqualValues(t, 7002, b.AccountID)
	require.Equal(t, "REF-b@example.com", b.CustomerReference)
	require.Equal(t, "cu-b@example.com", b.CompanyUserID)
	require.False(t, b.CreatedAt.IsZero())

	kept, err := s.GetCustomerByEmail(ctx, "shop1", "kept@example.com")
	require.NoError(t, err)
	require.Equal(t, old.ID, kept.ID, "an update keeps the id")
	require.Equal(t, stored(at), kept.CreatedAt, "and the creation time")
	require.Equal(t, "N kept@example.com", kept.Name)
	require.Equal(t, stored(at), *kept.EmailVerifiedAt)

	a1, err := s.GetCustomerByEmail(ctx, "shop1", "a@example.com")
	require.NoError(t, err)
	a2, err := s.GetCustomerByEmail(ctx, "shop2", "a@example.com")
	require.NoError(t, err)
	require.NotEqual(t, a1.ID, a2.ID, "shops are separate")

	t.Run("idempotent", func(t *testing.T) {
		inserted, updated, err := s.UpsertCustomers(ctx, batch)
		require.NoError(t, err)
		require.Zero(t, inserted)
		require.Equal(t, 4, updated)
		again, err := s.GetCustomerByEmail(ctx, "shop1", "a@example.com")
		require.NoError(t, err)
		require.Equal(t, a1.ID, again.ID)
		require.Equal(t, a1.PasswordHash, again.PasswordHash)
	})

	t.Run("an id of another customer fails the whole batch", func(t *testing.T) {
		bad := []storage.Customer{importRow("shop1", "new1@example.com", 0), importRow("shop1", "thief@example.com", 7001)}
		_, _, err := s.UpsertCustomers(ctx, bad)
		require.ErrorIs(t, err, storage.ErrConflict)
		_, err = s.GetCustomerByEmail(ctx, "shop1", "new1@example.com")
		require.ErrorIs(t, err, storage.ErrNotFound, "nothing of the batch was written")
		b, err := s.GetCustomer(ctx, "shop1", 7001)
		require.NoError(t, err)
		require.Equal(t, "b@example.com", b.EmailNormalized, "the owner of the id is untouched")
	})

	t.Run("an e-mail twice in one batch", func(t *testing.T) {
		_, _, err := s.UpsertCustomers(ctx, []storage.Customer{importRow("shop1", "twice@example.com", 0), importRow("shop1", "twice@example.com", 0)})
		require.ErrorIs(t, err, storage.ErrConflict)
	})

	t.Run("verified and disabled are cleared by nil", func(t *testing.T) {
		c := importRow("shop1", "kept@example.com", 0)
		_, updated, err := s.UpsertCustomers(ctx, []storage.Customer{c})
		require.NoError(t, err)
		require.Equal(t, 1, updated)
		got, err := s.GetCustomerByEmail(ctx, "shop1", "kept@example.com")
		require.NoError(t, err)
		require.Nil(t, got.EmailVerifiedAt)
	})

	t.Run("large batch", func(t *testing.T) {
		var many []storage.Customer
		for i := range 1234 {
			many = append(many, importRow("shop3", fmt.Sprintf("m%d@example.com", i), 0))
		}
		inserted, _, err := s.UpsertCustomers(ctx, many)
		require.NoError(t, err)
		require.Equal(t, 1234, inserted)
		_, updated, err := s.UpsertCustomers(ctx, many)
		require.NoError(t, err)
		require.Equal(t, 1234, updated)
	})

	t.Run("SetDisabled", func(t *testing.T) {
		now := at.Add(time.Hour)
		require.NoError(t, s.SetDisabled(ctx, 7001, &now))
		got, err := s.GetCustomer(ctx, "shop1", 7001)
		require.NoError(t, err)
		require.True(t, got.Disabled())
		require.NoError(t, s.SetDisabled(ctx, 7001, nil))
		got, err = s.GetCustomer(ctx, "shop1", 7001)
		require.NoError(t, err)
		require.False(t, got.Disabled())
		require.ErrorIs(t, s.SetDisabled(ctx, 999999, &now), storage.ErrNotFound)
	})
}
