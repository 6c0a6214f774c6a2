package admin_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// plainHasher stands in for argon2id: the rules are under test, not the
// hash.
type plainHasher struct{}

func (plainHasher) Hash(pw string) (string, error) { return "$argon2id$test$" + pw, nil }

func newService(t *testing.T, store admin.Store) *admin.Service {
	t.Helper()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	svc, err := admin.New(admin.Config{Store: store, Hasher: plainHasher{}, Now: func() time.Time { return now }})
	require.NoError(t, err)
	return svc
}

// TestAdminRules runs the core's rules on every backend: the shop scope
// of a bound actor, ETags, field validation, and that each change is
// audited with its actor.
func TestAdminRules(t *testing.T) {
	for _, b := range sqlstoretest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testAdminRules(t, b.Open(t)) })
	}
}

func testAdminRules(t *testing.T, store admin.Store) {
	ctx := context.Background()
	svc := newService(t, store)
	root := admin.Actor{ID: "root"}
	bound := admin.Actor{ID: "b-admin", Shop: "b"}
	for _, key := range []string{"a", "b"} {
		_, err := svc.CreateShop(ctx, root, admin.ShopInput{Key: key, Name: "Shop " + key})
		require.NoError(t, err)
	}
	_, err := svc.CreateShop(ctx, bound, admin.ShopInput{Key: "c", Name: "C"})
	require.Equal(t, admin.Forbidden, admin.KindOf(err))

	t.Run("validation", func(t *testing.T) {
		tests := []struct {
			name  string
			in    admin.CustomerInput
			field string
		}{
			{"no way in", admin.CustomerInput{Shop: "a", Email: "x@example.com", Name: "X"}, "password"},
			{"two ways in", admin.CustomerInput{Shop: "a", Email: "x@example.com", Name: "X", Password: "p", PasswordHash: "$2y$10$x"}, "password"},
			{"bad e-mail", admin.CustomerInput{Shop: "a", Email: "x@", Name: "X", Password: "p"}, "email"},
			{"markup name", admin.CustomerInput{Shop: "a", Email: "x@example.com", Name: "<b>", Password: "p"}, "name"},
			{"unknown hash", admin.CustomerInput{Shop: "a", Email: "x@example.com", Name: "X", PasswordHash: "md5:1"}, "password_hash"},
			{"long password", admin.CustomerInput{Shop: "a", Email: "x@example.com", Name: "X", Password: string(make([]byte, 2000))}, "password"},
		}
		for _, tt := range tests {
			_, err := svc.CreateCustomer(ctx, root, tt.in)
			var e *admin.Error
			require.ErrorAs(t, err, &e, tt.name)
			require.Equal(t, admin.Invalid, e.Kind, tt.name)
			require.Equal(t, tt.field, e.Field, tt.name)
		}
		_, err := svc.CreateCustomer(ctx, root, admin.CustomerInput{Shop: "a", Email: "x@example.com", Name: "X", Invite: true})
		require.Equal(t, admin.Unsupported, admin.KindOf(err), "no inviter configured")
		_, err = svc.CreateClient(ctx, root, admin.ClientInput{ID: "c1", ClientSettings: admin.ClientSettings{Shop: "a",
			GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"http://evil.example/cb"}}})
		require.Equal(t, admin.Invalid, admin.KindOf(err))
		_, err = svc.CreateClient(ctx, root, admin.ClientInput{ID: "has space", ClientSettings: admin.ClientSettings{GrantTypes: []string{"client_credentials"}}})
		require.Equal(t, admin.Invalid, admin.KindOf(err))
		_, err = svc.CreateClient(ctx, root, admin.ClientInput{ID: "pub-admin", Public: true, ClientSettings: admin.ClientSettings{
			GrantTypes: []string{"password"}, Scopes: []string{admin.ScopeAdmin}}})
		require.Equal(t, admin.Invalid, admin.KindOf(err), "admin is for confidential client_credentials clients")
	})

	a1, err := svc.CreateCustomer(ctx, root, admin.CustomerInput{Shop: "a", Email: "Ann@Example.com", Name: "Ann", Password: "pw"})
	require.NoError(t, err)
	require.Equal(t, "$argon2id$test$pw", a1.PasswordHash)

	t.Run("a bound actor sees only its shop", func(t *testing.T) {
		shops, err := svc.ListShops(ctx, bound)
		require.NoError(t, err)
		require.Len(t, shops, 1)
		require.Equal(t, "b", shops[0].Key)
		_, err = svc.GetCustomer(ctx, bound, "a", a1.ID)
		require.Equal(t, admin.NotFound, admin.KindOf(err))
		_, err = svc.SetDisabled(ctx, bound, "a", a1.ID, "", true)
		require.Equal(t, admin.NotFound, admin.KindOf(err))
		// Naming its own shop does not reach another shop's customer.
		_, err = svc.SetDisabled(ctx, bound, "b", a1.ID, "", true)
		require.Equal(t, admin.NotFound, admin.KindOf(err))
		_, err = svc.CreateClient(ctx, bound, admin.ClientInput{ID: "x", ClientSettings: admin.ClientSettings{Shop: "a", GrantTypes: []string{"client_credentials"}}})
		require.Equal(t, admin.Forbidden, admin.KindOf(err))
		_, err = svc.CreateClient(ctx, bound, admin.ClientInput{ID: "x", ClientSettings: admin.ClientSettings{Shop: "b", GrantTypes: []string{"client_credentials"}, Scopes: []string{admin.ScopeAdmin}}})
		require.Equal(t, admin.Forbidden, admin.KindOf(err), "no admin clients from a bound admin")
		_, err = svc.ListAudit(ctx, bound, "a", 0, 10)
		require.Equal(t, admin.NotFound, admin.KindOf(err))
		_, err = svc.ListKeys(ctx, bound)
		require.Equal(t, admin.Forbidden, admin.KindOf(err))
		c, err := store.GetCustomer(ctx, "a", a1.ID)
		require.NoError(t, err)
		require.Nil(t, c.DisabledAt)
	})

	t.Run("etags", func(t *testing.T) {
		cur, err := svc.GetCustomer(ctx, root, "a", a1.ID)
		require.NoError(t, err)
		etag := admin.CustomerETag(cur)
		name := "Ann B"
		up, err := svc.UpdateCustomer(ctx, root, "a", a1.ID, etag, admin.CustomerPatch{Name: &name})
		require.NoError(t, err)
		require.NotEqual(t, etag, admin.CustomerETag(up))
		lost := "Lost"
		_, err = svc.UpdateCustomer(ctx, root, "a", a1.ID, etag, admin.CustomerPatch{Name: &lost})
		require.Equal(t, admin.PreconditionFailed, admin.KindOf(err))
		read, err := store.GetCustomer(ctx, "a", a1.ID)
		require.NoError(t, err)
		require.Equal(t, "Ann B", read.Name)
		require.Equal(t, admin.CustomerETag(up), admin.CustomerETag(read), "the answer's ETag is the stored one's")
	})

	t.Run("erase", func(t *testing.T) {
		erased, err := svc.Erase(ctx, root, "a", a1.ID, "")
		require.NoError(t, err)
		require.True(t, admin.Erased(erased))
		require.Empty(t, erased.Name)
		require.Empty(t, erased.PasswordHash)
		require.NotNil(t, erased.DisabledAt)
		_, err = svc.SetVerified(ctx, root, "a", a1.ID, "")
		require.Equal(t, admin.NotFound, admin.KindOf(err))
		again, err := svc.CreateCustomer(ctx, root, admin.CustomerInput{Shop: "a", Email: "ann@example.com", Name: "Ann", Password: "pw"})
		require.NoError(t, err, "the address is free")
		require.NotEqual(t, a1.ID, again.ID)
	})

	page, err := svc.ListAudit(ctx, root, "", 0, 100)
	require.NoError(t, err)
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Actor+" "+e.Action)
	}
	require.Equal(t, []string{"root shop.create", "root shop.create", "root customer.create", "root customer.update",
		"root customer.erase", "root customer.create"}, got, "refusals leave no entry")
}
