package storagetest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func audit(action, typ, id, shop string, at time.Time) storage.AuditEntry {
	return storage.AuditEntry{At: at, Actor: "cli", Action: action, ResourceType: typ, ResourceID: id, ShopKey: shop}
}

// requireAudit checks the actions recorded for shop ("" all), in order.
func requireAudit(t *testing.T, s Store, shop string, want ...string) []storage.AuditEntry {
	t.Helper()
	got, err := s.ListAudit(context.Background(), shop, 0, 100)
	require.NoError(t, err)
	var actions []string
	for _, a := range got {
		actions = append(actions, a.Action)
	}
	require.Equal(t, want, actions)
	return got
}

var errRefused = errors.New("refused by the change function")

func testAdminShops(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()
	require.NoError(t, s.CreateShopAudited(ctx, storage.Shop{Key: "a", Name: "A", Locale: "es", Active: true, CreatedAt: at}, audit("shop.create", "shop", "a", "a", at)))
	require.ErrorIs(t, s.CreateShopAudited(ctx, storage.Shop{Key: "a", Name: "again", CreatedAt: at}, audit("shop.create", "shop", "a", "a", at)), storage.ErrConflict)

	got, err := s.UpdateShop(ctx, "a", func(sh *storage.Shop) error {
		require.Equal(t, "A", sh.Name)
		sh.Name, sh.Locale, sh.CORSOrigins, sh.Key = "A2", "en", []string{"https://a.example"}, "renamed"
		return nil
	}, audit("shop.update", "shop", "a", "a", at))
	require.NoError(t, err)
	require.Equal(t, "a", got.Key, "the key cannot change")
	read, err := s.GetShop(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, got, read)
	require.Equal(t, "A2", read.Name)
	require.Equal(t, []string{"https://a.example"}, read.CORSOrigins)

	_, err = s.UpdateShop(ctx, "a", func(sh *storage.Shop) error { sh.Name = "lost"; return errRefused }, audit("shop.update", "shop", "a", "a", at))
	require.ErrorIs(t, err, errRefused)
	_, err = s.UpdateShop(ctx, "none", func(*storage.Shop) error { return nil }, audit("shop.update", "shop", "none", "none", at))
	require.ErrorIs(t, err, storage.ErrNotFound)
	read, err = s.GetShop(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, "A2", read.Name, "a refused change writes nothing")
	entries := requireAudit(t, s, "a", "shop.create", "shop.update")
	require.Equal(t, stored(at), entries[0].At)
	require.Equal(t, "cli", entries[0].Actor)
	require.Less(t, entries[0].ID, entries[1].ID)
}

func testAdminCustomers(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()
	newCustomer := func(shop, email string) *storage.Customer {
		return &storage.Customer{ShopKey: shop, Email: email, EmailNormalized: email, Name: "N " + email,
			PasswordHash: "$argon2id$x", CreatedAt: at, UpdatedAt: at}
	}
	ann := newCustomer("demo", "ann@example.com")
	invite := &storage.Invitation{Key: accountKey("invite-ann", storage.KeyResetPassword, 0, at), Mail: outboxMail("mail-ann", at)}
	require.NoError(t, s.CreateCustomerAudited(ctx, ann, invite, audit("customer.create", "customer", "", "", at)))
	require.NotZero(t, ann.ID)
	key, err := s.GetAccountKey(ctx, hashOf("invite-ann"))
	require.NoError(t, err)
	require.Equal(t, ann.ID, key.CustomerID)
	require.Equal(t, []string{"mail-ann"}, dueSealed(t, s, at))
	entries := requireAudit(t, s, "demo", "customer.create")
	require.Equal(t, strconv.FormatUint(ann.ID, 10), entries[0].ResourceID)

	// A duplicate e-mail writes neither the customer, its mail nor an entry.
	dup := &storage.Customer{ShopKey: "demo", Email: "ann@example.com", EmailNormalized: "ann@example.com", CreatedAt: at, UpdatedAt: at}
	require.ErrorIs(t, s.CreateCustomerAudited(ctx, dup,
		&storage.Invitation{Key: accountKey("invite-dup", storage.KeyResetPassword, 0, at), Mail: outboxMail("mail-dup", at)},
		audit("customer.create", "customer", "", "", at)), storage.ErrConflict)
	require.Equal(t, []string{"mail-ann"}, dueSealed(t, s, at))
	requireAudit(t, s, "demo", "customer.create")

	bob := newCustomer("demo", "bob@example.com")
	require.NoError(t, s.CreateCustomerAudited(ctx, bob, nil, audit("customer.create", "customer", "", "", at)))
	other := newCustomer("other", "ann_x@example.com")
	require.NoError(t, s.CreateCustomerAudited(ctx, other, nil, audit("customer.create", "customer", "", "", at)))

	later := at.Add(time.Minute)
	got, err := s.UpdateCustomer(ctx, "demo", ann.ID, func(c *storage.Customer) (storage.CustomerEffects, error) {
		c.Name, c.Email, c.EmailNormalized, c.EmailVerifiedAt, c.UpdatedAt = "Ann B", "Ann.B@example.com", "ann.b@example.com", nil, later
		return storage.CustomerEffects{VoidKeys: true}, nil
	}, audit("customer.update", "customer", "", "", later))
	require.NoError(t, err)
	require.Equal(t, "ann.b@example.com", got.EmailNormalized)
	read, err := s.GetCustomer(ctx, "demo", ann.ID)
	require.NoError(t, err)
	require.Equal(t, got, read)
	require.Equal(t, stored(later), read.UpdatedAt)
	key, err = s.GetAccountKey(ctx, hashOf("invite-ann"))
	require.NoError(t, err)
	require.NotNil(t, key.VoidedAt, "an e-mail change voids pending keys")

	// Bob's e-mail is taken: nothing written, no entry.
	_, err = s.UpdateCustomer(ctx, "demo", bob.ID, func(c *storage.Customer) (storage.CustomerEffects, error) {
		c.Email, c.EmailNormalized, c.Name = "ann.b@example.com", "ann.b@example.com", "lost"
		return storage.CustomerEffects{}, nil
	}, audit("customer.update", "customer", "", "", later))
	require.ErrorIs(t, err, storage.ErrConflict)
	read, err = s.GetCustomer(ctx, "demo", bob.ID)
	require.NoError(t, err)
	require.Equal(t, "N bob@example.com", read.Name)
	// Another shop's customer is not found.
	_, err = s.UpdateCustomer(ctx, "demo", other.ID, func(*storage.Customer) (storage.CustomerEffects, error) {
		return storage.CustomerEffects{}, nil
	}, audit("customer.update", "customer", "", "", later))
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = s.UpdateCustomer(ctx, "demo", bob.ID, func(c *storage.Customer) (storage.CustomerEffects, error) {
		c.Name = "lost"
		return storage.CustomerEffects{EndSessions: true}, errRefused
	}, audit("customer.update", "customer", "", "", later))
	require.ErrorIs(t, err, errRefused)
	requireAudit(t, s, "demo", "customer.create", "customer.create", "customer.update")
	requireAudit(t, s, "other", "customer.create")
	requireAudit(t, s, "", "customer.create", "customer.create", "customer.create", "customer.update")

	// Pages in id order, e-mail prefix search with LIKE's wildcards taken
	// literally.
	page, err := s.ListCustomers(ctx, storage.CustomerQuery{ShopKey: "demo", Limit: 1})
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, ann.ID, page[0].ID)
	page, err = s.ListCustomers(ctx, storage.CustomerQuery{ShopKey: "demo", AfterID: ann.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, bob.ID, page[0].ID)
	page, err = s.ListCustomers(ctx, storage.CustomerQuery{ShopKey: "demo", EmailPrefix: "bo", Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, bob.ID, page[0].ID)
	page, err = s.ListCustomers(ctx, storage.CustomerQuery{ShopKey: "demo", EmailPrefix: "ann_", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, page, "_ is no wildcard")
	page, err = s.ListCustomers(ctx, storage.CustomerQuery{ShopKey: "other", EmailPrefix: "ann_", Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 1)
}

func testAdminErase(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	now := baseTime()
	f := newSessionsFixture(t, s, now)
	require.NoError(t, s.SaveConsent(ctx, storage.Consent{CustomerID: f.ann.ID, ClientID: "spa", Scopes: []string{"openid"}, GrantedAt: now}))
	require.NoError(t, s.SaveConsent(ctx, storage.Consent{CustomerID: f.bob.ID, ClientID: "spa", Scopes: []string{"openid"}, GrantedAt: now}))
	_, _, err := s.RecordLoginAttempt(ctx, "demo", f.ann.EmailNormalized, now, storage.LockoutPolicy{Threshold: 1, Window: time.Hour, FirstLock: time.Hour, MaxLock: time.Hour})
	require.NoError(t, err)

	erased, err := s.UpdateCustomer(ctx, "demo", f.ann.ID, func(c *storage.Customer) (storage.CustomerEffects, error) {
		c.Email, c.EmailNormalized, c.Name, c.PasswordHash = "erased", "erased-1", "", ""
		c.DisabledAt, c.UpdatedAt = &now, now
		return storage.CustomerEffects{Erase: true}, nil
	}, audit("customer.erase", "customer", "", "", now))
	require.NoError(t, err)
	require.Equal(t, f.ann.ID, erased.ID)
	f.requireLive(t, []string{"bob"}, []string{"sbob"})
	_, err = s.GetCustomerProfile(ctx, f.ann.ID)
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = s.GetAccountKey(ctx, hashOf("confirm-ann@example.com"))
	require.ErrorIs(t, err, storage.ErrNotFound)
	consents, err := s.ListConsents(ctx, f.ann.ID)
	require.NoError(t, err)
	require.Empty(t, consents)
	consents, err = s.ListConsents(ctx, f.bob.ID)
	require.NoError(t, err)
	require.Len(t, consents, 1, "another customer's consent stays")
	failures, err := s.GetLoginFailures(ctx, "demo", "ann@example.com")
	require.NoError(t, err)
	require.Zero(t, failures.Count)
	_, err = s.GetCustomerByEmail(ctx, "demo", "ann@example.com")
	require.ErrorIs(t, err, storage.ErrNotFound, "the e-mail is free")
	register(t, s, "ann@example.com", now)
}

func testAdminClients(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()
	c := storage.Client{ID: "m2m", SecretHash: hashOf("one"), ShopKey: "demo", GrantTypes: []string{"client_credentials"},
		Scopes: []string{"admin"}, CreatedAt: at}
	require.NoError(t, s.CreateClientAudited(ctx, c, audit("client.create", "client", "m2m", "demo", at)))
	require.ErrorIs(t, s.CreateClientAudited(ctx, c, audit("client.create", "client", "m2m", "demo", at)), storage.ErrConflict)

	got, err := s.UpdateClient(ctx, "m2m", func(cl *storage.Client) error {
		cl.SecretHash, cl.Scopes, cl.AccessTokenTTL, cl.ID = hashOf("two"), nil, time.Minute, "other"
		return nil
	}, audit("client.rotate_secret", "client", "m2m", "demo", at))
	require.NoError(t, err)
	read, err := s.GetClient(ctx, "m2m")
	require.NoError(t, err)
	require.Equal(t, got, read)
	require.Equal(t, hashOf("two"), read.SecretHash)
	require.Nil(t, read.Scopes, "emptied lists are written")
	require.Equal(t, time.Minute, read.AccessTokenTTL)
	require.Equal(t, stored(at), read.CreatedAt)
	_, err = s.UpdateClient(ctx, "nobody", func(*storage.Client) error { return nil }, audit("client.update", "client", "nobody", "", at))
	require.ErrorIs(t, err, storage.ErrNotFound)

	require.NoError(t, s.SaveConsent(ctx, storage.Consent{CustomerID: 7, ClientID: "m2m", Scopes: []string{"openid"}, GrantedAt: at}))
	require.ErrorIs(t, s.DeleteClient(ctx, "m2m", func(storage.Client) error { return errRefused }, audit("client.delete", "client", "m2m", "demo", at)), errRefused)
	_, err = s.GetClient(ctx, "m2m")
	require.NoError(t, err, "a refused delete deletes nothing")
	require.NoError(t, s.DeleteClient(ctx, "m2m", nil, audit("client.delete", "client", "m2m", "demo", at)))
	_, err = s.GetClient(ctx, "m2m")
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = s.GetConsent(ctx, 7, "m2m")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.ErrorIs(t, s.DeleteClient(ctx, "m2m", nil, audit("client.delete", "client", "m2m", "demo", at)), storage.ErrNotFound)
	// The id is free again.
	require.NoError(t, s.CreateClientAudited(ctx, c, audit("client.create", "client", "m2m", "demo", at)))

	require.NoError(t, s.SaveConsent(ctx, storage.Consent{CustomerID: 7, ClientID: "m2m", Scopes: []string{"openid"}, GrantedAt: at}))
	require.NoError(t, s.RevokeConsentAudited(ctx, 7, "m2m", audit("consent.revoke", "consent", "7/m2m", "demo", at)))
	require.ErrorIs(t, s.RevokeConsentAudited(ctx, 7, "m2m", audit("consent.revoke", "consent", "7/m2m", "demo", at)), storage.ErrNotFound)
	require.NoError(t, s.RecordAudit(ctx, audit("key.rotate", "key", "k1", "", at)))
	all := requireAudit(t, s, "", "client.create", "client.rotate_secret", "client.delete", "client.create", "consent.revoke", "key.rotate")
	page, err := s.ListAudit(ctx, "", all[3].ID, 2)
	require.NoError(t, err)
	require.Equal(t, all[4:6], page, "the cursor is the last id seen")
}
