package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/mail"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// clock is a fake clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// fakeStore keeps shops, customers, profiles, keys and mails in memory,
// with the storage contract's semantics (one mutex for a transaction).
type fakeStore struct {
	mu        sync.Mutex
	shops     map[string]storage.Shop
	customers map[uint64]storage.Customer
	profiles  map[uint64]storage.CustomerProfile
	keys      map[string]storage.AccountKey
	mails     [][]byte
	changes   []storage.PasswordChange
	resets    []string // new hashes
	nextID    uint64
	fault     error // every write fails with it when set
	keyReads  int   // GetAccountKey and ConfirmEmail calls
	sessions  map[string]storage.BrowserSession
}

func (f *fakeStore) GetBrowserSession(_ context.Context, hash string) (storage.BrowserSession, error) {
	s, ok := f.sessions[hash]
	if !ok {
		return storage.BrowserSession{}, storage.ErrNotFound
	}
	return s, nil
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		shops:     map[string]storage.Shop{"acme": {Key: "acme", Name: "ACME", Locale: "es", Active: true}, "closed": {Key: "closed", Name: "Closed"}},
		customers: map[uint64]storage.Customer{}, profiles: map[uint64]storage.CustomerProfile{},
		keys: map[string]storage.AccountKey{}, nextID: 100,
	}
}

func (f *fakeStore) GetShop(_ context.Context, key string) (storage.Shop, error) {
	s, ok := f.shops[key]
	if !ok {
		return storage.Shop{}, storage.ErrNotFound
	}
	return s, nil
}

func (f *fakeStore) GetCustomer(_ context.Context, shopKey string, id uint64) (storage.Customer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[id]
	if !ok || c.ShopKey != shopKey {
		return storage.Customer{}, storage.ErrNotFound
	}
	return c, nil
}

func (f *fakeStore) GetCustomerByEmail(_ context.Context, shopKey, email string) (storage.Customer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.customers {
		if c.ShopKey == shopKey && c.EmailNormalized == email {
			return c, nil
		}
	}
	return storage.Customer{}, storage.ErrNotFound
}

func (f *fakeStore) GetCustomerProfile(_ context.Context, id uint64) (storage.CustomerProfile, error) {
	p, ok := f.profiles[id]
	if !ok {
		return storage.CustomerProfile{}, storage.ErrNotFound
	}
	return p, nil
}

func (f *fakeStore) RegisterCustomer(_ context.Context, r *storage.Registration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fault != nil {
		return f.fault
	}
	for _, c := range f.customers {
		if c.ShopKey == r.Customer.ShopKey && c.EmailNormalized == r.Customer.EmailNormalized {
			return storage.ErrConflict
		}
	}
	f.nextID++
	c := r.Customer
	c.ID, c.AccountID, c.CustomerReference = f.nextID, f.nextID, r.ReferencePrefix+"--"+itoa(f.nextID)
	f.customers[c.ID] = *c
	r.Profile.CustomerID = c.ID
	f.profiles[c.ID] = r.Profile
	r.Key.CustomerID = c.ID
	f.keys[r.Key.KeyHash] = r.Key
	f.mails = append(f.mails, r.Mail.Sealed)
	return nil
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func (f *fakeStore) IssueAccountKey(_ context.Context, key storage.AccountKey, m storage.OutboxMail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fault != nil {
		return f.fault
	}
	for h, k := range f.keys {
		if k.CustomerID == key.CustomerID && k.Purpose == key.Purpose && k.UsedAt == nil && k.VoidedAt == nil {
			at := key.CreatedAt
			k.VoidedAt = &at
			f.keys[h] = k
		}
	}
	f.keys[key.KeyHash] = key
	f.mails = append(f.mails, m.Sealed)
	return nil
}

func (f *fakeStore) EnqueueMail(_ context.Context, m storage.OutboxMail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fault != nil {
		return f.fault
	}
	f.mails = append(f.mails, m.Sealed)
	return nil
}

func (f *fakeStore) GetAccountKey(_ context.Context, hash string) (storage.AccountKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keyReads++
	k, ok := f.keys[hash]
	if !ok {
		return storage.AccountKey{}, storage.ErrNotFound
	}
	return k, nil
}

func (f *fakeStore) use(hash, purpose string, now time.Time) (storage.AccountKey, error) {
	k, ok := f.keys[hash]
	if !ok || k.Purpose != purpose {
		return storage.AccountKey{}, storage.ErrNotFound
	}
	if !k.Usable(now) {
		return storage.AccountKey{}, storage.ErrConflict
	}
	k.UsedAt = &now
	f.keys[hash] = k
	return k, nil
}

func (f *fakeStore) ConfirmEmail(_ context.Context, hash string, now time.Time) (storage.AccountKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keyReads++
	k, err := f.use(hash, storage.KeyConfirmEmail, now)
	if err != nil {
		return k, err
	}
	c := f.customers[k.CustomerID]
	c.EmailVerifiedAt = &now
	f.customers[c.ID] = c
	return k, nil
}

func (f *fakeStore) ResetPassword(_ context.Context, hash, newHash string, now time.Time) (storage.AccountKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, err := f.use(hash, storage.KeyResetPassword, now)
	if err != nil {
		return k, err
	}
	c := f.customers[k.CustomerID]
	c.PasswordHash = newHash
	f.customers[c.ID] = c
	f.resets = append(f.resets, newHash)
	return k, nil
}

func (f *fakeStore) ChangePassword(_ context.Context, ch storage.PasswordChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.customers[ch.CustomerID]
	if !ok {
		return storage.ErrNotFound
	}
	if c.PasswordHash != ch.OldHash {
		return storage.ErrConflict
	}
	c.PasswordHash = ch.NewHash
	f.customers[c.ID] = c
	f.changes = append(f.changes, ch)
	return nil
}

func (f *fakeStore) add(c storage.Customer) storage.Customer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	c.ID = f.nextID
	c.EmailNormalized = customers.NormalizeEmail(c.Email)
	if c.ShopKey == "" {
		c.ShopKey = "acme"
	}
	f.customers[c.ID] = c
	return c
}

// fakePasswords "hashes" by prefixing and counts the hashes.
type fakePasswords struct {
	store  *fakeStore
	hashes int
	err    error
}

func (p *fakePasswords) HashPassword(_ context.Context, pw string) (string, error) {
	p.hashes++
	if p.err != nil {
		return "", p.err
	}
	return "hash:" + pw, nil
}

func (p *fakePasswords) Authenticate(ctx context.Context, shopKey, email, pw string) (storage.Customer, error) {
	c, err := p.store.GetCustomerByEmail(ctx, shopKey, customers.NormalizeEmail(email))
	if err != nil || c.PasswordHash != "hash:"+pw {
		return storage.Customer{}, customers.ErrInvalidCredentials
	}
	return c, nil
}

// fakeSealer seals as plain JSON, so tests read what was mailed.
type fakeSealer struct{}

func (fakeSealer) Seal(m mail.Message) ([]byte, error) { return json.Marshal(m) }

type fakeLimiter struct{ refuse bool }

func (l *fakeLimiter) Allow(string) error {
	if l.refuse {
		return oautherr.ErrSlowDown.WithRetryAfter(7)
	}
	return nil
}

type fakeNotifier struct{ n int }

func (n *fakeNotifier) Notify() { n.n++ }

type fixture struct {
	svc      *Service
	store    *fakeStore
	pw       *fakePasswords
	clock    *clock
	limiter  *fakeLimiter
	notifier *fakeNotifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: newFakeStore(), clock: &clock{t: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)}, limiter: &fakeLimiter{}, notifier: &fakeNotifier{}}
	f.pw = &fakePasswords{store: f.store}
	var err error
	f.svc, err = New(Config{
		Shops: f.store, Customers: f.store, Outbox: f.store, Keys: f.store, Passwords: f.pw, Sealer: fakeSealer{},
		Sessions: f.store, Limiter: f.limiter, Notifier: f.notifier, LinkBase: "https://auth.example/", ReferencePrefix: "DE",
		Now: f.clock.Now,
	})
	require.NoError(t, err)
	return f
}

// mails returns the messages written to the outbox, in order.
func (f *fixture) mails(t *testing.T) []mail.Message {
	t.Helper()
	var out []mail.Message
	for _, sealed := range f.store.mails {
		var m mail.Message
		require.NoError(t, json.Unmarshal(sealed, &m))
		out = append(out, m)
	}
	return out
}

// keyOf extracts the key of a mailed link and checks the link's shape.
func keyOf(t *testing.T, link, path string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, "https://auth.example"+path, u.Scheme+"://"+u.Host+u.Path)
	key := u.Query().Get("key")
	require.Len(t, key, 43, "256 bits, base64url")
	return key
}

func validRegistration() Registration {
	return Registration{
		ShopKey: "acme", Email: " Ann@Example.com ", Salutation: "Ms", FirstName: "Ann", LastName: "Smith", Gender: "Female",
		Password: "kx7#qpzw-long", ConfirmPassword: "kx7#qpzw-long", AcceptedTerms: true, RequireProfile: true,
		ContinueTo: "client_id=app&state=s1", ClientIP: "192.0.2.1",
	}
}

func TestRegister(t *testing.T) {
	f := newFixture(t)
	acc, err := f.svc.Register(context.Background(), validRegistration())
	require.NoError(t, err)
	c := acc.Customer
	require.Equal(t, "Ann@Example.com", c.Email, "trimmed, case kept")
	require.Equal(t, "ann@example.com", c.EmailNormalized)
	require.Equal(t, "Ann Smith", c.Name)
	require.Equal(t, "hash:kx7#qpzw-long", c.PasswordHash)
	require.Nil(t, c.EmailVerifiedAt, "unverified until confirmed")
	require.Equal(t, "DE--"+itoa(c.ID), c.CustomerReference)
	require.Equal(t, storage.CustomerProfile{CustomerID: c.ID, Salutation: "Ms", FirstName: "Ann", LastName: "Smith", Gender: "Female"}, acc.Profile)
	require.Equal(t, 1, f.notifier.n, "the sender is woken")

	mails := f.mails(t)
	require.Len(t, mails, 1)
	m := mails[0]
	require.Equal(t, mail.KindConfirmEmail, m.Kind)
	require.Equal(t, "Ann@Example.com", m.To)
	require.Equal(t, "Ann", m.Name)
	require.Equal(t, "ACME", m.ShopName)
	require.Equal(t, "es", m.Locale)
	require.Equal(t, 72*time.Hour, m.ValidFor)
	key := keyOf(t, m.Link, PathConfirm)
	stored, ok := f.store.keys[tokens.HashToken(key)]
	require.True(t, ok, "only the key's SHA-256 is stored")
	require.Equal(t, storage.KeyConfirmEmail, stored.Purpose)
	require.Equal(t, f.clock.Now().Add(72*time.Hour), stored.ExpiresAt)
	require.Equal(t, "client_id=app&state=s1", stored.ContinueTo)
	for h := range f.store.keys {
		require.NotContains(t, h, key, "the key itself is never stored")
	}
}

func TestRegisterInvalidWritesNothing(t *testing.T) {
	long := strings.Repeat("a", MaxNameChars+1)
	tests := []struct {
		name   string
		mutate func(r *Registration)
		want   []FieldError
	}{
		{"blank e-mail", func(r *Registration) { r.Email = "  " }, []FieldError{{FieldEmail, Blank}}},
		{"not an e-mail", func(r *Registration) { r.Email = "ann" }, []FieldError{{FieldEmail, Invalid}}},
		{"e-mail with a space", func(r *Registration) { r.Email = "ann smith@example.com" }, []FieldError{{FieldEmail, Invalid}}},
		{"very long e-mail", func(r *Registration) { r.Email = strings.Repeat("a", 300) + "@example.com" }, []FieldError{{FieldEmail, TooLong}}},
		{"invalid UTF-8 e-mail", func(r *Registration) { r.Email = "a\xff@example.com" }, []FieldError{{FieldEmail, Invalid}}},
		{"HTML in the first name", func(r *Registration) { r.FirstName = "<script>alert(1)</script>" }, []FieldError{{FieldFirstName, Invalid}}},
		{"a tag in the last name", func(r *Registration) { r.LastName = "Smith<b>" }, []FieldError{{FieldLastName, Invalid}}},
		{"a newline in a name", func(r *Registration) { r.FirstName = "Ann\r\nBcc: x@y.z" }, []FieldError{{FieldFirstName, Invalid}}},
		{"invalid UTF-8 in a name", func(r *Registration) { r.LastName = "Sm\xffith" }, []FieldError{{FieldLastName, Invalid}}},
		{"a name over 100 characters", func(r *Registration) { r.FirstName = long }, []FieldError{{FieldFirstName, TooLong}}},
		{"blank names", func(r *Registration) { r.FirstName, r.LastName = "", " " }, []FieldError{{FieldFirstName, Blank}, {FieldLastName, Blank}}},
		{"salutation not a choice", func(r *Registration) { r.Salutation = "Sir" }, []FieldError{{FieldSalutation, NotAChoice}}},
		{"gender required by the profile", func(r *Registration) { r.Gender = "" }, []FieldError{{FieldGender, Blank}}},
		{"short password", func(r *Registration) { r.Password, r.ConfirmPassword = "short1", "short1" }, []FieldError{{FieldPassword, PasswordTooShort}}},
		{"common password", func(r *Registration) { r.Password, r.ConfirmPassword = "password1", "password1" }, []FieldError{{FieldPassword, PasswordCommon}}},
		{"overlong password", func(r *Registration) {
			r.Password = strings.Repeat("x", 1025)
			r.ConfirmPassword = r.Password
		}, []FieldError{{FieldPassword, PasswordTooLong}}},
		{"mismatched confirmation", func(r *Registration) { r.ConfirmPassword = "something else" }, []FieldError{{FieldConfirmPassword, Mismatch}}},
		{"blank confirmation", func(r *Registration) { r.ConfirmPassword = "" }, []FieldError{{FieldConfirmPassword, Blank}}},
		{"terms not accepted", func(r *Registration) { r.AcceptedTerms = false }, []FieldError{{FieldAcceptedTerms, NotAccepted}}},
		{"everything, in Spryker's order", func(r *Registration) { *r = Registration{ShopKey: "acme", RequireProfile: true} }, []FieldError{
			{FieldEmail, Blank}, {FieldGender, Blank}, {FieldSalutation, Blank}, {FieldFirstName, Blank}, {FieldLastName, Blank},
			{FieldPassword, Blank}, {FieldConfirmPassword, Blank}, {FieldAcceptedTerms, NotAccepted},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := validRegistration()
			tt.mutate(&r)
			_, err := f.svc.Register(context.Background(), r)
			var invalid *InvalidInput
			require.ErrorAs(t, err, &invalid)
			require.Equal(t, tt.want, invalid.Fields)
			require.Empty(t, f.store.customers)
			require.Empty(t, f.store.mails)
			require.Zero(t, f.pw.hashes, "refused before any hashing")
		})
	}
}

func TestRegisterOptionalProfile(t *testing.T) {
	f := newFixture(t)
	r := validRegistration()
	r.RequireProfile, r.Salutation, r.Gender = false, "", ""
	acc, err := f.svc.Register(context.Background(), r)
	require.NoError(t, err)
	require.Equal(t, "", acc.Profile.Gender)
}

// TestRegisterKnownAddress: an address that has an account gets a mail
// instead of a second account; the caller gets ErrEmailTaken (which only
// the Spryker dialect shows). The password is hashed either way, so both
// take the same time.
func TestRegisterKnownAddress(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		customer storage.Customer
		wantKind string // "" for no mail
	}{
		{"verified: a note that they have an account", storage.Customer{Email: "ann@example.com", Name: "Ann Old", EmailVerifiedAt: &now}, mail.KindAlreadyRegistered},
		{"unconfirmed: a new confirmation link", storage.Customer{Email: "ann@example.com", Name: "Ann Old"}, mail.KindConfirmEmail},
		{"disabled: nothing", storage.Customer{Email: "ann@example.com", EmailVerifiedAt: &now, DisabledAt: &now}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			existing := f.store.add(tt.customer)
			_, err := f.svc.Register(context.Background(), validRegistration())
			require.ErrorIs(t, err, ErrEmailTaken)
			require.Equal(t, 1, f.pw.hashes, "hashed like a new registration")
			require.Len(t, f.store.customers, 1, "no second account")
			mails := f.mails(t)
			if tt.wantKind == "" {
				require.Empty(t, mails)
				return
			}
			require.Len(t, mails, 1)
			require.Equal(t, tt.wantKind, mails[0].Kind)
			require.Equal(t, "ann@example.com", mails[0].To)
			require.Equal(t, "Ann", mails[0].Name)
			if tt.wantKind == mail.KindAlreadyRegistered {
				require.Equal(t, "https://auth.example/account/forgot?shop=acme", mails[0].Link)
				require.Empty(t, f.store.keys, "a note carries no key")
				return
			}
			key := keyOf(t, mails[0].Link, PathConfirm)
			k := f.store.keys[tokens.HashToken(key)]
			require.Equal(t, existing.ID, k.CustomerID)
			require.Equal(t, "client_id=app&state=s1", k.ContinueTo)
		})
	}
}

func TestRegisterRefusals(t *testing.T) {
	t.Run("rate limited before anything", func(t *testing.T) {
		f := newFixture(t)
		f.limiter.refuse = true
		_, err := f.svc.Register(context.Background(), validRegistration())
		require.ErrorIs(t, err, oautherr.ErrSlowDown)
		require.Equal(t, 7, oautherr.From(err).RetryAfter)
		require.Zero(t, f.pw.hashes)
		require.Empty(t, f.store.customers)
	})
	for _, shop := range []string{"nope", "closed", ""} {
		t.Run("unknown shop "+shop, func(t *testing.T) {
			f := newFixture(t)
			r := validRegistration()
			r.ShopKey = shop
			_, err := f.svc.Register(context.Background(), r)
			require.ErrorIs(t, err, ErrUnknownShop)
			require.Zero(t, f.pw.hashes)
		})
	}
	t.Run("hashing busy", func(t *testing.T) {
		f := newFixture(t)
		f.pw.err = oautherr.ErrTemporarilyUnavailable.WithRetryAfter(1)
		_, err := f.svc.Register(context.Background(), validRegistration())
		require.ErrorIs(t, err, oautherr.ErrTemporarilyUnavailable)
		require.Empty(t, f.store.customers)
	})
	t.Run("database unavailable", func(t *testing.T) {
		f := newFixture(t)
		f.store.fault = storage.ErrUnavailable
		_, err := f.svc.Register(context.Background(), validRegistration())
		require.ErrorIs(t, err, storage.ErrUnavailable)
		require.Zero(t, f.notifier.n, "nothing written, nothing to send")
	})
}

// register registers ann and returns her confirmation key.
func (f *fixture) register(t *testing.T) (storage.Customer, string) {
	t.Helper()
	acc, err := f.svc.Register(context.Background(), validRegistration())
	require.NoError(t, err)
	mails := f.mails(t)
	return acc.Customer, keyOf(t, mails[len(mails)-1].Link, PathConfirm)
}

func TestConfirm(t *testing.T) {
	f := newFixture(t)
	ann, key := f.register(t)
	shop, err := f.svc.CheckConfirmKey(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, "acme", shop.Key)

	f.clock.Advance(71 * time.Hour)
	got, err := f.svc.Confirm(context.Background(), key, "192.0.2.1")
	require.NoError(t, err)
	require.Equal(t, Confirmed{ShopKey: "acme", CustomerID: ann.ID, Email: "Ann@Example.com", ContinueTo: "client_id=app&state=s1"}, got)
	require.NotNil(t, f.store.customers[ann.ID].EmailVerifiedAt)

	_, err = f.svc.Confirm(context.Background(), key, "192.0.2.1")
	require.ErrorIs(t, err, ErrInvalidKey, "single use")
	_, err = f.svc.CheckConfirmKey(context.Background(), key)
	require.ErrorIs(t, err, ErrInvalidKey)
}

func TestConfirmInvalidKeys(t *testing.T) {
	f := newFixture(t)
	_, key := f.register(t)
	f.clock.Advance(72 * time.Hour)
	_, err := f.svc.Confirm(context.Background(), key, "")
	require.ErrorIs(t, err, ErrInvalidKey, "expired after 72 h")

	reads := f.store.keyReads
	for _, bad := range []string{"", "short", strings.Repeat("A", 44), strings.Repeat("A", 42) + "=", key[:42] + "!", "<script>"} {
		_, err := f.svc.Confirm(context.Background(), bad, "")
		require.ErrorIs(t, err, ErrInvalidKey, "%q", bad)
		_, err = f.svc.CheckResetKey(context.Background(), bad)
		require.ErrorIs(t, err, ErrInvalidKey, "%q", bad)
	}
	require.Equal(t, reads, f.store.keyReads, "a malformed key is refused without a database round trip")
	f.limiter.refuse = true
	_, err = f.svc.Confirm(context.Background(), key, "")
	require.ErrorIs(t, err, oautherr.ErrSlowDown)
}

func TestForgot(t *testing.T) {
	f := newFixture(t)
	ann := f.store.add(storage.Customer{Email: "ann@example.com", Name: "Ann Smith", PasswordHash: "hash:old"})
	now := time.Now()
	f.store.add(storage.Customer{Email: "gone@example.com", DisabledAt: &now})

	for _, email := range []string{"nobody@example.com", "gone@example.com"} {
		require.NoError(t, f.svc.Forgot(context.Background(), "acme", email, "", "192.0.2.1"), "the same answer for %s", email)
	}
	require.Empty(t, f.store.mails, "no mail for unknown or disabled addresses")

	require.NoError(t, f.svc.Forgot(context.Background(), "acme", " ANN@example.com", "client_id=app", "192.0.2.1"))
	mails := f.mails(t)
	require.Len(t, mails, 1)
	require.Equal(t, mail.KindResetPassword, mails[0].Kind)
	require.Equal(t, time.Hour, mails[0].ValidFor)
	require.Equal(t, "ann@example.com", mails[0].To)
	key := keyOf(t, mails[0].Link, PathReset)
	k := f.store.keys[tokens.HashToken(key)]
	require.Equal(t, ann.ID, k.CustomerID)
	require.Equal(t, storage.KeyResetPassword, k.Purpose)
	require.Equal(t, f.clock.Now().Add(time.Hour), k.ExpiresAt)
	require.Equal(t, "client_id=app", k.ContinueTo)

	var invalid *InvalidInput
	require.ErrorAs(t, f.svc.Forgot(context.Background(), "acme", "not-an-email", "", ""), &invalid)
	require.True(t, invalid.Has(FieldEmail, Invalid))
	require.ErrorIs(t, f.svc.Forgot(context.Background(), "nope", "ann@example.com", "", ""), ErrUnknownShop)
}

// forgot mails ann a reset key and returns it.
func (f *fixture) forgot(t *testing.T, email string) string {
	t.Helper()
	require.NoError(t, f.svc.Forgot(context.Background(), "acme", email, "", ""))
	mails := f.mails(t)
	return keyOf(t, mails[len(mails)-1].Link, PathReset)
}

func TestResetPassword(t *testing.T) {
	f := newFixture(t)
	ann := f.store.add(storage.Customer{Email: "ann@example.com", PasswordHash: "hash:old"})
	older := f.forgot(t, "ann@example.com")
	key := f.forgot(t, "ann@example.com")

	_, err := f.svc.ResetPassword(context.Background(), Reset{Key: older, Password: "brand-new-pw", ConfirmPassword: "brand-new-pw"})
	require.ErrorIs(t, err, ErrInvalidKey, "a newer key voids the older")
	require.Zero(t, f.pw.hashes, "a wrong key costs no hashing")

	check, err := f.svc.CheckResetKey(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, "acme", check.Shop.Key)

	done, err := f.svc.ResetPassword(context.Background(), Reset{Key: key, Password: "brand-new-pw", ConfirmPassword: "brand-new-pw"})
	require.NoError(t, err)
	require.Equal(t, Done{ShopKey: "acme", Email: "ann@example.com"}, done)
	require.Equal(t, "hash:brand-new-pw", f.store.customers[ann.ID].PasswordHash)

	_, err = f.svc.ResetPassword(context.Background(), Reset{Key: key, Password: "another-pw-1", ConfirmPassword: "another-pw-1"})
	require.ErrorIs(t, err, ErrInvalidKey, "single use")
}

func TestResetPasswordRefusals(t *testing.T) {
	tests := []struct {
		name    string
		reset   func(key string) Reset
		advance time.Duration
		wantErr error
		fields  []FieldError
	}{
		{name: "expired after an hour", reset: func(k string) Reset { return Reset{Key: k, Password: "brand-new-pw", ConfirmPassword: "brand-new-pw"} },
			advance: time.Hour, wantErr: ErrInvalidKey},
		{name: "malformed key", reset: func(string) Reset { return Reset{Key: "x", Password: "brand-new-pw", ConfirmPassword: "brand-new-pw"} },
			wantErr: ErrInvalidKey},
		{name: "common password", reset: func(k string) Reset { return Reset{Key: k, Password: "iloveyou", ConfirmPassword: "iloveyou"} },
			fields: []FieldError{{FieldPassword, PasswordCommon}}},
		{name: "mismatch", reset: func(k string) Reset { return Reset{Key: k, Password: "brand-new-pw", ConfirmPassword: "brand-new-pX"} },
			fields: []FieldError{{FieldConfirmPassword, Mismatch}}},
		{name: "blank", reset: func(k string) Reset { return Reset{Key: k} },
			fields: []FieldError{{FieldPassword, Blank}, {FieldConfirmPassword, Blank}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ann := f.store.add(storage.Customer{Email: "ann@example.com", PasswordHash: "hash:old"})
			key := f.forgot(t, "ann@example.com")
			f.clock.Advance(tt.advance)
			_, err := f.svc.ResetPassword(context.Background(), tt.reset(key))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				var invalid *InvalidInput
				require.ErrorAs(t, err, &invalid)
				require.Equal(t, tt.fields, invalid.Fields)
			}
			require.Zero(t, f.pw.hashes)
			require.Equal(t, "hash:old", f.store.customers[ann.ID].PasswordHash)
			require.Empty(t, f.store.resets)
		})
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	ann := f.store.add(storage.Customer{Email: "ann@example.com", PasswordHash: "hash:current-pw", EmailVerifiedAt: &now})
	change := Change{
		ShopKey: "acme", CustomerID: ann.ID, CurrentPassword: "current-pw", NewPassword: "next-password", ConfirmPassword: "next-password",
		SessionToken: "cookie-value", AccessJTI: "jti-1", ClientIP: "192.0.2.1",
	}
	require.NoError(t, f.svc.ChangePassword(context.Background(), change))
	require.Equal(t, []storage.PasswordChange{{
		CustomerID: ann.ID, OldHash: "hash:current-pw", NewHash: "hash:next-password",
		KeepSessionHash: tokens.HashToken("cookie-value"), KeepAccessJTI: "jti-1", Now: f.clock.Now(),
	}}, f.store.changes)

	err := f.svc.ChangePassword(context.Background(), change)
	require.ErrorIs(t, err, ErrWrongPassword, "the old password is no longer current")
	require.Len(t, f.store.changes, 1)
}

func TestChangePasswordRefusals(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *Change)
		wantErr error
		fields  []FieldError
	}{
		{name: "wrong current password", mutate: func(c *Change) { c.CurrentPassword = "nope" }, wantErr: ErrWrongPassword},
		{name: "another shop's customer", mutate: func(c *Change) { c.ShopKey = "other" }, wantErr: ErrUnknownCustomer},
		{name: "blank current password", mutate: func(c *Change) { c.CurrentPassword = "" }, fields: []FieldError{{FieldCurrentPassword, Blank}}},
		{name: "new password too short", mutate: func(c *Change) { c.NewPassword, c.ConfirmPassword = "1234567", "1234567" },
			fields: []FieldError{{FieldNewPassword, PasswordTooShort}}},
		{name: "new password common", mutate: func(c *Change) { c.NewPassword, c.ConfirmPassword = "qwertyuiop", "qwertyuiop" },
			fields: []FieldError{{FieldNewPassword, PasswordCommon}}},
		{name: "confirmation differs", mutate: func(c *Change) { c.ConfirmPassword = "x" }, fields: []FieldError{{FieldConfirmPassword, Mismatch}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ann := f.store.add(storage.Customer{Email: "ann@example.com", PasswordHash: "hash:current-pw"})
			c := Change{ShopKey: "acme", CustomerID: ann.ID, CurrentPassword: "current-pw", NewPassword: "next-password", ConfirmPassword: "next-password"}
			tt.mutate(&c)
			err := f.svc.ChangePassword(context.Background(), c)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				var invalid *InvalidInput
				require.ErrorAs(t, err, &invalid)
				require.Equal(t, tt.fields, invalid.Fields)
			}
			require.Empty(t, f.store.changes)
			require.Equal(t, "hash:current-pw", f.store.customers[ann.ID].PasswordHash)
		})
	}
}

func TestAccount(t *testing.T) {
	f := newFixture(t)
	acc, err := f.svc.Register(context.Background(), validRegistration())
	require.NoError(t, err)
	got, err := f.svc.Account(context.Background(), "acme", acc.Customer.ID)
	require.NoError(t, err)
	require.True(t, got.HasProfile)
	require.Equal(t, "Smith", got.Profile.LastName)

	op := f.store.add(storage.Customer{Email: "op@example.com", Name: "Sonia"})
	got, err = f.svc.Account(context.Background(), "acme", op.ID)
	require.NoError(t, err)
	require.False(t, got.HasProfile)
	require.Equal(t, "Sonia", got.Profile.FirstName, "an operator's customer: the name is all there is")

	_, err = f.svc.Account(context.Background(), "other", op.ID)
	require.ErrorIs(t, err, ErrUnknownCustomer)
	_, err = f.svc.Account(context.Background(), "acme", 999)
	require.ErrorIs(t, err, ErrUnknownCustomer)
}

func TestNewChecksConfig(t *testing.T) {
	f := newFixture(t)
	base := Config{Shops: f.store, Customers: f.store, Outbox: f.store, Keys: f.store, Passwords: f.pw, Sealer: fakeSealer{},
		LinkBase: "https://auth.example", ReferencePrefix: "DE"}
	for name, mutate := range map[string]func(c *Config){
		"no store":      func(c *Config) { c.Keys = nil },
		"no sealer":     func(c *Config) { c.Sealer = nil },
		"relative base": func(c *Config) { c.LinkBase = "/x" },
		"ftp base":      func(c *Config) { c.LinkBase = "ftp://x" },
		"no prefix":     func(c *Config) { c.ReferencePrefix = "" },
	} {
		c := base
		mutate(&c)
		_, err := New(c)
		require.Error(t, err, name)
	}
	_, err := New(base)
	require.NoError(t, err)
	require.False(t, errors.Is(err, ErrInvalidKey))
}

func TestSessionAccount(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	ann := f.store.add(storage.Customer{Email: "ann@example.com", Name: "Ann", EmailVerifiedAt: &now})
	off := f.store.add(storage.Customer{Email: "off@example.com", EmailVerifiedAt: &now, DisabledAt: &now})
	f.store.sessions = map[string]storage.BrowserSession{
		tokens.HashToken("ann-cookie"): {ShopKey: "acme", CustomerID: ann.ID, ExpiresAt: now.Add(time.Hour)},
		tokens.HashToken("off-cookie"): {ShopKey: "acme", CustomerID: off.ID, ExpiresAt: now.Add(time.Hour)},
		tokens.HashToken("old-cookie"): {ShopKey: "acme", CustomerID: ann.ID, ExpiresAt: now},
	}
	got, err := f.svc.SessionAccount(context.Background(), "ann-cookie")
	require.NoError(t, err)
	require.Equal(t, ann.ID, got.Account.Customer.ID)
	require.Equal(t, "acme", got.Shop.Key)
	for _, cookie := range []string{"", "unknown", "off-cookie", "old-cookie", strings.Repeat("x", 300)} {
		_, err := f.svc.SessionAccount(context.Background(), cookie)
		require.ErrorIs(t, err, ErrNoSession, "%q", cookie)
	}
}
