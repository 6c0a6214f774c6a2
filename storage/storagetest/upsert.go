package storagetest

import (
	"context"
	"errors"
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

func mustUpsert(t *testing.T, s Store, cs ...storage.Customer) storage.ImportResult {
	t.Helper()
	res, err := s.UpsertCustomers(context.Background(), cs)
	require.NoError(t, err)
	return res
}

func mustGetByEmail(t *testing.T, s Store, shop, email string) storage.Customer {
	t.Helper()
	c, err := s.GetCustomerByEmail(context.Background(), shop, email)
	require.NoError(t, err)
	return c
}

func testUpsertCustomers(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()

	res, err := s.UpsertCustomers(ctx, nil)
	require.NoError(t, err)
	require.Zero(t, res)

	// A customer created in shopauth, never imported: an import row with
	// its e-mail changes none of its fields.
	native := importRow("shop1", "kept@example.com", 0)
	native.Name = "Old Name"
	native.CreatedAt = at
	require.NoError(t, s.CreateCustomer(ctx, &native))

	batch := []storage.Customer{
		importRow("shop1", "a@example.com", 0),
		importRow("shop1", "b@example.com", 7001),
		func() storage.Customer {
			c := importRow("shop1", "kept@example.com", 0)
			c.EmailVerifiedAt = ptr(at)
			c.PasswordHash = "$2y$10$from-the-file"
			return c
		}(),
		importRow("shop2", "a@example.com", 0),
	}
	planned, err := s.PlanUpsertCustomers(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, storage.ImportResult{Inserted: 3, Unchanged: 1}, planned)
	_, err = s.GetCustomerByEmail(ctx, "shop1", "a@example.com")
	require.ErrorIs(t, err, storage.ErrNotFound, "a plan writes nothing")

	res = mustUpsert(t, s, batch...)
	require.Equal(t, planned, res, "the plan foretold the write")

	b, err := s.GetCustomer(ctx, "shop1", 7001)
	require.NoError(t, err)
	require.Equal(t, "b@example.com", b.EmailNormalized)
	require.EqualValues(t, 7002, b.AccountID)
	require.Equal(t, "REF-b@example.com", b.CustomerReference)
	require.Equal(t, "cu-b@example.com", b.CompanyUserID)
	require.False(t, b.CreatedAt.IsZero())

	kept := mustGetByEmail(t, s, "shop1", "kept@example.com")
	require.Equal(t, native.ID, kept.ID)
	require.Equal(t, stored(at), kept.CreatedAt)
	require.Equal(t, "Old Name", kept.Name, "no import wrote the name: shopauth's")
	require.Equal(t, native.PasswordHash, kept.PasswordHash, "nor the hash")
	require.Nil(t, kept.EmailVerifiedAt, "nor the verification")

	a1 := mustGetByEmail(t, s, "shop1", "a@example.com")
	a2 := mustGetByEmail(t, s, "shop2", "a@example.com")
	require.NotEqual(t, a1.ID, a2.ID, "shops are separate")

	t.Run("a rerun changes nothing", func(t *testing.T) {
		res := mustUpsert(t, s, batch...)
		require.Equal(t, storage.ImportResult{Unchanged: 4}, res)
		again := mustGetByEmail(t, s, "shop1", "a@example.com")
		require.Equal(t, a1, again, "not even updated_at")
	})

	t.Run("an id of another customer is refused, the rest written", func(t *testing.T) {
		bad := []storage.Customer{importRow("shop1", "new1@example.com", 0), importRow("shop1", "thief@example.com", 7001)}
		res := mustUpsert(t, s, bad...)
		require.Equal(t, 1, res.Inserted)
		require.Len(t, res.Refused, 1)
		require.Equal(t, 1, res.Refused[0].Index)
		require.Contains(t, res.Refused[0].Reason, "customer_id 7001 belongs to another customer")
		_, err = s.GetCustomerByEmail(ctx, "shop1", "thief@example.com")
		require.ErrorIs(t, err, storage.ErrNotFound)
		mustGetByEmail(t, s, "shop1", "new1@example.com")
		b, err := s.GetCustomer(ctx, "shop1", 7001)
		require.NoError(t, err)
		require.Equal(t, "b@example.com", b.EmailNormalized, "the owner of the id is untouched")
	})

	t.Run("an e-mail twice in one batch", func(t *testing.T) {
		_, err := s.UpsertCustomers(ctx, []storage.Customer{importRow("shop1", "twice@example.com", 0), importRow("shop1", "twice@example.com", 0)})
		require.ErrorIs(t, err, storage.ErrConflict)
		_, err = s.GetCustomerByEmail(ctx, "shop1", "twice@example.com")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})

	t.Run("large batch", func(t *testing.T) {
		var many []storage.Customer
		for i := range 1234 {
			many = append(many, importRow("shop3", fmt.Sprintf("m%d@example.com", i), 0))
		}
		res := mustUpsert(t, s, many...)
		require.Equal(t, 1234, res.Inserted)
		res = mustUpsert(t, s, many...)
		require.Equal(t, 1234, res.Unchanged)
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

// testImportRerun is the field report's reproduction: import, then disable
// one customer and give it a new password, verify another, then import
// the same file again. The rerun must change nothing that changed since
// (before import records, it enabled the disabled customer with its old
// hash back and un-verified the other).
func testImportRerun(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	first := baseTime()
	file := func(at time.Time) []storage.Customer {
		a := importRow("shop1", "a@example.com", 0)
		a.EmailVerifiedAt = ptr(at)
		b := importRow("shop1", "b@example.com", 0)
		return []storage.Customer{a, b}
	}
	require.Equal(t, 2, mustUpsert(t, s, file(first)...).Inserted)
	a := mustGetByEmail(t, s, "shop1", "a@example.com")
	b := mustGetByEmail(t, s, "shop1", "b@example.com")

	disabledAt, verifiedAt := first.Add(time.Hour), first.Add(2*time.Hour)
	require.NoError(t, s.SetDisabled(ctx, a.ID, &disabledAt))
	require.NoError(t, s.UpdatePasswordHash(ctx, a.ID, a.PasswordHash, "$argon2id$set-in-shopauth"))
	require.NoError(t, s.SetEmailVerified(ctx, b.ID, &verifiedAt))
	a = mustGetByEmail(t, s, "shop1", "a@example.com")
	b = mustGetByEmail(t, s, "shop1", "b@example.com")

	res := mustUpsert(t, s, file(first.Add(24*time.Hour))...)
	require.Equal(t, storage.ImportResult{Unchanged: 2}, res)

	a2 := mustGetByEmail(t, s, "shop1", "a@example.com")
	require.True(t, a2.Disabled(), "the rerun enabled a disabled customer")
	require.Equal(t, stored(disabledAt), *a2.DisabledAt)
	require.Equal(t, "$argon2id$set-in-shopauth", a2.PasswordHash, "the rerun put the old hash back")
	require.Equal(t, stored(first), *a2.EmailVerifiedAt, "the rerun restamped the verification")
	require.Equal(t, a, a2)
	b2 := mustGetByEmail(t, s, "shop1", "b@example.com")
	require.NotNil(t, b2.EmailVerifiedAt, "the rerun un-verified a customer verified in shopauth")
	require.Equal(t, stored(verifiedAt), *b2.EmailVerifiedAt)
	require.Equal(t, b, b2)
}

// testImportNewExport: a later export with changed rows updates the
// fields shopauth left as the last import wrote them, and only those.
func testImportNewExport(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	first := baseTime()
	mustUpsert(t, s, importRow("shop1", "a@example.com", 0), importRow("shop1", "b@example.com", 0))
	a := mustGetByEmail(t, s, "shop1", "a@example.com")
	require.NoError(t, s.UpdatePasswordHash(ctx, a.ID, a.PasswordHash, "$argon2id$rehashed-at-login"))

	next := func(email string) storage.Customer {
		c := importRow("shop1", email, 0)
		c.Name = "Renamed " + email
		c.PasswordHash = "$2y$10$new-" + email
		c.EmailVerifiedAt = ptr(first.Add(time.Hour))
		return c
	}
	res := mustUpsert(t, s, next("a@example.com"), next("b@example.com"))
	require.Equal(t, storage.ImportResult{Updated: 2}, res)

	a2 := mustGetByEmail(t, s, "shop1", "a@example.com")
	require.Equal(t, "Renamed a@example.com", a2.Name)
	require.Equal(t, "$argon2id$rehashed-at-login", a2.PasswordHash, "a hash changed in shopauth stays")
	require.Equal(t, stored(first.Add(time.Hour)), *a2.EmailVerifiedAt, "the import verifies a customer it left unverified")
	b2 := mustGetByEmail(t, s, "shop1", "b@example.com")
	require.Equal(t, "$2y$10$new-b@example.com", b2.PasswordHash, "a hash only an import wrote is replaced")

	// The file un-verifies: never applied.
	unverified := next("b@example.com")
	unverified.EmailVerifiedAt = nil
	res = mustUpsert(t, s, unverified)
	require.Equal(t, storage.ImportResult{Unchanged: 1}, res)
	require.NotNil(t, mustGetByEmail(t, s, "shop1", "b@example.com").EmailVerifiedAt)
}

// testImportRefusals: rows that would bend a customer's identity are
// refused, each by its index, and the others written.
func testImportRefusals(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	mustUpsert(t, s, importRow("shop1", "a@example.com", 21), importRow("shop1", "b@example.com", 22))

	batch := []storage.Customer{
		importRow("shop1", "a@example.com", 22), // a's e-mail, b's id
		importRow("shop1", "c@example.com", 21), // a new e-mail, a's id
		importRow("shop1", "d@example.com", 99),
		importRow("shop1", "e@example.com", 99), // the id of the row before it
		importRow("shop1", "b@example.com", 22), // matches: fine
	}
	planned, err := s.PlanUpsertCustomers(context.Background(), batch)
	require.NoError(t, err)
	res := mustUpsert(t, s, batch...)
	require.Equal(t, planned, res)
	require.Equal(t, 1, res.Inserted)
	require.Equal(t, 1, res.Unchanged)
	var refused []int
	for _, r := range res.Refused {
		refused = append(refused, r.Index)
	}
	require.Equal(t, []int{0, 1, 3}, refused)
	require.Contains(t, res.Refused[0].Reason, "belongs to customer 21, not to customer_id 22")
	require.Contains(t, res.Refused[1].Reason, "customer_id 21 belongs to another customer")
	require.Contains(t, res.Refused[2].Reason, "customer_id 99 belongs to another customer")

	a := mustGetByEmail(t, s, "shop1", "a@example.com")
	require.EqualValues(t, 21, a.ID)
	_, err = s.GetCustomerByEmail(context.Background(), "shop1", "c@example.com")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.EqualValues(t, 99, mustGetByEmail(t, s, "shop1", "d@example.com").ID)
}

// testConcurrentImportAndPasswordChange races imports of a new export
// (whose hash would replace the imported one) against password changes
// made in shopauth (compare-and-swap from the imported hash): however they
// interleave, a password change that succeeded is never overwritten by an
// import that read the row before it. Each round uses its own customer.
// Without the locked read (MySQL FOR UPDATE) an import could decide on the
// old hash and write the file's over the new one.
func testConcurrentImportAndPasswordChange(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	for round := range 4 {
		email := fmt.Sprintf("r%d@example.com", round)
		mustUpsert(t, s, importRow("shop1", email, 0))
		c := mustGetByEmail(t, s, "shop1", email)
		export := importRow("shop1", email, 0)
		export.PasswordHash = "$2y$10$next-export"
		changed := make([]bool, racers)
		errs := race(func(i int) error {
			if i%2 == 0 {
				_, err := s.UpsertCustomers(ctx, []storage.Customer{export})
				return err
			}
			err := s.UpdatePasswordHash(ctx, c.ID, c.PasswordHash, fmt.Sprintf("$argon2id$racer-%d", i))
			if errors.Is(err, storage.ErrConflict) {
				return nil // another racer (or the import) changed it first
			}
			changed[i] = err == nil
			return err
		})
		for i, err := range errs {
			require.NoError(t, err, "racer %d", i)
		}
		got := mustGetByEmail(t, s, "shop1", email)
		for i, ok := range changed {
			if ok {
				require.Equal(t, fmt.Sprintf("$argon2id$racer-%d", i), got.PasswordHash,
					"round %d: racer %d changed the password, an import overwrote it", round, i)
			}
		}
	}
}
