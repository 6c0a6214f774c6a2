package storagetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// AccountStore is what customers running their own accounts need: the
// registration, its keys and the mail outbox.
type AccountStore interface {
	RegisterCustomer(ctx context.Context, r *storage.Registration) error
	IssueAccountKey(ctx context.Context, key storage.AccountKey, mail storage.OutboxMail) error
	EnqueueMail(ctx context.Context, mail storage.OutboxMail) error
	GetAccountKey(ctx context.Context, keyHash string) (storage.AccountKey, error)
	ConfirmEmail(ctx context.Context, keyHash string, now time.Time) (storage.AccountKey, error)
	ResetPassword(ctx context.Context, keyHash, newHash string, now time.Time) (storage.AccountKey, error)
	ChangePassword(ctx context.Context, ch storage.PasswordChange) error
	GetCustomerProfile(ctx context.Context, customerID uint64) (storage.CustomerProfile, error)

	DueMail(ctx context.Context, now time.Time, limit int) ([]storage.OutboxMail, error)
	GetOutboxMail(ctx context.Context, id uint64) (storage.OutboxMail, error)
	MarkMailSent(ctx context.Context, id uint64, now time.Time) error
	MarkMailRetry(ctx context.Context, id uint64, attempts int, next time.Time, lastErr string) error
	MarkMailFailed(ctx context.Context, id uint64, now time.Time, lastErr string) error
	SweepAccountKeys(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepOutbox(ctx context.Context, before time.Time, limit int) (int64, error)
}

// accountKey is a live key of purpose for the customer, made from name.
func accountKey(name, purpose string, customerID uint64, now time.Time) storage.AccountKey {
	return storage.AccountKey{
		KeyHash: hashOf(name), Purpose: purpose, ShopKey: "demo", CustomerID: customerID,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
}

// outboxMail is a due mail whose sealed message is name.
func outboxMail(name string, now time.Time) storage.OutboxMail {
	return storage.OutboxMail{Sealed: []byte(name), NextAttemptAt: ptr(now), CreatedAt: now}
}

// registration is a new customer of shop "demo" with e-mail email.
func registration(email string, now time.Time) *storage.Registration {
	return &storage.Registration{
		Customer: &storage.Customer{
			ShopKey: "demo", Email: email, EmailNormalized: email, Name: "Ann Smith",
			PasswordHash: "$argon2id$old", CreatedAt: now, UpdatedAt: now,
		},
		ReferencePrefix: "DE",
		Profile:         storage.CustomerProfile{Salutation: "Ms", FirstName: "Ann", LastName: "Smith", Gender: "Female"},
		Key:             accountKey("confirm-"+email, storage.KeyConfirmEmail, 0, now),
		Mail:            outboxMail("mail-"+email, now),
	}
}

// register stores a registration and returns the customer.
func register(t *testing.T, s Store, email string, now time.Time) storage.Customer {
	t.Helper()
	r := registration(email, now)
	require.NoError(t, s.RegisterCustomer(context.Background(), r))
	return *r.Customer
}

// dueSealed lists the sealed messages of every due mail, oldest first.
func dueSealed(t *testing.T, s Store, now time.Time) []string {
	t.Helper()
	due, err := s.DueMail(context.Background(), now, 1000)
	require.NoError(t, err)
	var out []string
	for _, m := range due {
		out = append(out, string(m.Sealed))
	}
	return out
}

func testRegisterCustomer(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()

	t.Run("customer, profile, key and mail in one go", func(t *testing.T) {
		s := open(t)
		r := registration("ann@example.com", now)
		r.Key.ContinueTo = "client_id=app&state=xyz"
		require.NoError(t, s.RegisterCustomer(ctx, r))
		c := r.Customer
		require.NotZero(t, c.ID)
		require.Equal(t, fmt.Sprintf("DE--%d", c.ID), c.CustomerReference)
		require.Equal(t, c.ID, c.AccountID)

		got, err := s.GetCustomer(ctx, "demo", c.ID)
		require.NoError(t, err)
		require.Equal(t, c.CustomerReference, got.CustomerReference)
		require.Equal(t, c.ID, got.AccountID)
		require.Nil(t, got.EmailVerifiedAt, "a registration is unverified")

		profile, err := s.GetCustomerProfile(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, storage.CustomerProfile{CustomerID: c.ID, Salutation: "Ms", FirstName: "Ann", LastName: "Smith", Gender: "Female"}, profile)

		key, err := s.GetAccountKey(ctx, r.Key.KeyHash)
		require.NoError(t, err)
		require.Equal(t, storage.AccountKey{
			KeyHash: r.Key.KeyHash, Purpose: storage.KeyConfirmEmail, ShopKey: "demo", CustomerID: c.ID,
			ContinueTo: "client_id=app&state=xyz", CreatedAt: stored(now), ExpiresAt: stored(now.Add(time.Hour)),
		}, key)
		require.Equal(t, []string{"mail-ann@example.com"}, dueSealed(t, s, now))
	})

	t.Run("an explicit reference and account id are kept", func(t *testing.T) {
		s := open(t)
		r := registration("ref@example.com", now)
		r.Customer.CustomerReference, r.Customer.AccountID = "AT--7", 70
		require.NoError(t, s.RegisterCustomer(ctx, r))
		got, err := s.GetCustomer(ctx, "demo", r.Customer.ID)
		require.NoError(t, err)
		require.Equal(t, "AT--7", got.CustomerReference)
		require.EqualValues(t, 70, got.AccountID)
	})

	t.Run("a taken e-mail writes nothing", func(t *testing.T) {
		s := open(t)
		first := register(t, s, "taken@example.com", now)
		again := registration("taken@example.com", now)
		again.Key = accountKey("second-key", storage.KeyConfirmEmail, 0, now)
		again.Mail = outboxMail("second-mail", now)
		require.ErrorIs(t, s.RegisterCustomer(ctx, again), storage.ErrConflict)

		_, err := s.GetAccountKey(ctx, hashOf("second-key"))
		require.ErrorIs(t, err, storage.ErrNotFound, "no key of the refused registration")
		require.Equal(t, []string{"mail-taken@example.com"}, dueSealed(t, s, now), "no mail of the refused registration")
		got, err := s.GetCustomerByEmail(ctx, "demo", "taken@example.com")
		require.NoError(t, err)
		require.Equal(t, first.ID, got.ID)
	})

	t.Run("the same e-mail in another shop is another customer", func(t *testing.T) {
		s := open(t)
		register(t, s, "both@example.com", now)
		r := registration("both@example.com", now)
		r.Customer.ShopKey = "other"
		r.Key = accountKey("other-shop-key", storage.KeyConfirmEmail, 0, now)
		require.NoError(t, s.RegisterCustomer(ctx, r))
		key, err := s.GetAccountKey(ctx, hashOf("other-shop-key"))
		require.NoError(t, err)
		require.Equal(t, "other", key.ShopKey, "the key is the customer's shop's")
	})

	t.Run("a customer without a profile", func(t *testing.T) {
		s := open(t)
		_, err := s.GetCustomerProfile(ctx, 4242)
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func testAccountKeys(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()

	t.Run("a newer key voids older unused keys of its purpose only", func(t *testing.T) {
		s := open(t)
		ann := register(t, s, "ann@example.com", now)
		bob := register(t, s, "bob@example.com", now)
		older := accountKey("reset-1", storage.KeyResetPassword, ann.ID, now)
		require.NoError(t, s.IssueAccountKey(ctx, older, outboxMail("reset mail 1", now)))
		bobs := accountKey("reset-bob", storage.KeyResetPassword, bob.ID, now)
		require.NoError(t, s.IssueAccountKey(ctx, bobs, outboxMail("reset mail bob", now)))

		later := now.Add(time.Minute)
		newer := accountKey("reset-2", storage.KeyResetPassword, ann.ID, later)
		require.NoError(t, s.IssueAccountKey(ctx, newer, outboxMail("reset mail 2", later)))

		got, err := s.GetAccountKey(ctx, older.KeyHash)
		require.NoError(t, err)
		require.Equal(t, ptr(stored(later)), got.VoidedAt, "the older reset key is void")
		require.False(t, got.Usable(now))
		for _, live := range []string{"reset-2", "reset-bob", "confirm-ann@example.com"} {
			got, err := s.GetAccountKey(ctx, hashOf(live))
			require.NoError(t, err)
			require.Nil(t, got.VoidedAt, "%s is left alone", live)
		}
		require.Equal(t, []string{"mail-ann@example.com", "mail-bob@example.com", "reset mail 1", "reset mail bob", "reset mail 2"},
			dueSealed(t, s, later), "every mail is written with its key")
	})

	t.Run("a key hash is unique", func(t *testing.T) {
		s := open(t)
		ann := register(t, s, "ann@example.com", now)
		k := accountKey("dup", storage.KeyResetPassword, ann.ID, now)
		require.NoError(t, s.IssueAccountKey(ctx, k, outboxMail("first", now)))
		require.ErrorIs(t, s.IssueAccountKey(ctx, k, outboxMail("second", now)), storage.ErrConflict)
		require.Equal(t, []string{"mail-ann@example.com", "first"}, dueSealed(t, s, now), "the refused key's mail is not written")
		got, err := s.GetAccountKey(ctx, k.KeyHash)
		require.NoError(t, err)
		require.Nil(t, got.VoidedAt, "the refused issue voided nothing")
	})

	t.Run("GetAccountKey of an unknown hash", func(t *testing.T) {
		s := open(t)
		_, err := s.GetAccountKey(ctx, hashOf("nothing"))
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func testConfirmEmail(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()
	confirm := hashOf("confirm-ann@example.com")

	t.Run("confirms once", func(t *testing.T) {
		s := open(t)
		ann := register(t, s, "ann@example.com", now)
		at := now.Add(10 * time.Minute)
		key, err := s.ConfirmEmail(ctx, confirm, at)
		require.NoError(t, err)
		require.Equal(t, ann.ID, key.CustomerID)
		require.Equal(t, ptr(stored(at)), key.UsedAt)
		got, err := s.GetCustomer(ctx, "demo", ann.ID)
		require.NoError(t, err)
		require.Equal(t, ptr(stored(at)), got.EmailVerifiedAt)

		_, err = s.ConfirmEmail(ctx, confirm, at.Add(time.Minute))
		require.ErrorIs(t, err, storage.ErrConflict, "a used key")
		got, err = s.GetCustomer(ctx, "demo", ann.ID)
		require.NoError(t, err)
		require.Equal(t, ptr(stored(at)), got.EmailVerifiedAt, "the first confirmation's time stays")
	})

	tests := []struct {
		name    string
		prepare func(t *testing.T, s Store, ann storage.Customer) string // returns the hash to use
		at      time.Time
		wantErr error
	}{
		{"expired", func(*testing.T, Store, storage.Customer) string { return confirm }, now.Add(time.Hour), storage.ErrConflict},
		{"a second after expiry", func(*testing.T, Store, storage.Customer) string { return confirm }, now.Add(time.Hour + time.Second), storage.ErrConflict},
		{"voided by a newer key", func(t *testing.T, s Store, ann storage.Customer) string {
			require.NoError(t, s.IssueAccountKey(ctx, accountKey("confirm-2", storage.KeyConfirmEmail, ann.ID, now), outboxMail("m", now)))
			return confirm
		}, now.Add(time.Minute), storage.ErrConflict},
		{"a reset key does not confirm", func(t *testing.T, s Store, ann storage.Customer) string {
			require.NoError(t, s.IssueAccountKey(ctx, accountKey("reset", storage.KeyResetPassword, ann.ID, now), outboxMail("m", now)))
			return hashOf("reset")
		}, now.Add(time.Minute), storage.ErrNotFound},
		{"unknown", func(*testing.T, Store, storage.Customer) string { return hashOf("unknown") }, now, storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name+" writes nothing", func(t *testing.T) {
			s := open(t)
			ann := register(t, s, "ann@example.com", now)
			_, err := s.ConfirmEmail(ctx, tt.prepare(t, s, ann), tt.at)
			require.ErrorIs(t, err, tt.wantErr)
			got, err := s.GetCustomer(ctx, "demo", ann.ID)
			require.NoError(t, err)
			require.Nil(t, got.EmailVerifiedAt)
		})
	}

	t.Run("just before expiry still confirms", func(t *testing.T) {
		s := open(t)
		register(t, s, "ann@example.com", now)
		_, err := s.ConfirmEmail(ctx, confirm, now.Add(time.Hour-time.Second))
		require.NoError(t, err)
	})
}

// sessionsFixture gives customer ann two refresh families (a, b), each
// with a live access token, and two browser sessions; bob has one of
// each, as a bystander.
type sessionsFixture struct {
	s        Store
	ann, bob storage.Customer
}

func newSessionsFixture(t *testing.T, s Store, now time.Time) sessionsFixture {
	t.Helper()
	ctx := context.Background()
	f := sessionsFixture{s: s, ann: register(t, s, "ann@example.com", now), bob: register(t, s, "bob@example.com", now)}
	for _, fam := range []struct {
		name     string
		customer uint64
	}{{"a", f.ann.ID}, {"b", f.ann.ID}, {"bob", f.bob.ID}} {
		rt := newToken("rt-"+fam.name, fam.name, now)
		rt.CustomerID = fam.customer
		require.NoError(t, s.CreateRefreshToken(ctx, rt, newAccess("at-"+fam.name, fam.name, now.Add(time.Hour))))
	}
	for _, bs := range []struct {
		name     string
		customer uint64
	}{{"s1", f.ann.ID}, {"s2", f.ann.ID}, {"sbob", f.bob.ID}} {
		require.NoError(t, s.CreateBrowserSession(ctx, storage.BrowserSession{
			IDHash: hashOf(bs.name), ShopKey: "demo", CustomerID: bs.customer, AuthTime: now, ExpiresAt: now.Add(time.Hour),
		}))
	}
	return f
}

// requireLive checks which families and browser sessions still work.
func (f sessionsFixture) requireLive(t *testing.T, families, sessions []string) {
	t.Helper()
	ctx := context.Background()
	for _, fam := range []string{"a", "b", "bob"} {
		live := contains(families, fam)
		rt, err := f.s.GetRefreshToken(ctx, hashOf("rt-"+fam))
		require.NoError(t, err)
		require.Equal(t, live, rt.RevokedAt == nil, "refresh family %s live", fam)
		revoked, err := f.s.IsAccessTokenRevoked(ctx, "at-"+fam)
		require.NoError(t, err)
		require.Equal(t, live, !revoked, "access token of family %s live", fam)
	}
	for _, name := range []string{"s1", "s2", "sbob"} {
		_, err := f.s.GetBrowserSession(ctx, hashOf(name))
		if contains(sessions, name) {
			require.NoError(t, err, "session %s kept", name)
		} else {
			require.ErrorIs(t, err, storage.ErrNotFound, "session %s ended", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func testResetPassword(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()
	reset := hashOf("reset")

	t.Run("sets the hash and ends everything the old password opened", func(t *testing.T) {
		s := open(t)
		f := newSessionsFixture(t, s, now)
		p := storage.DefaultLockoutPolicy
		for range 3 {
			_, _, err := s.RecordLoginAttempt(ctx, "demo", "ann@example.com", now, p)
			require.NoError(t, err)
		}
		require.NoError(t, s.IssueAccountKey(ctx, accountKey("reset", storage.KeyResetPassword, f.ann.ID, now), outboxMail("m", now)))

		at := now.Add(time.Minute)
		key, err := s.ResetPassword(ctx, reset, "$argon2id$new", at)
		require.NoError(t, err)
		require.Equal(t, f.ann.ID, key.CustomerID)

		got, err := s.GetCustomer(ctx, "demo", f.ann.ID)
		require.NoError(t, err)
		require.Equal(t, "$argon2id$new", got.PasswordHash)
		require.Equal(t, ptr(stored(at)), got.EmailVerifiedAt, "the mailed key proves the address")
		rec, err := s.GetLoginFailures(ctx, "demo", "ann@example.com")
		require.NoError(t, err)
		require.Zero(t, rec.Count, "failed logins cleared")
		confirmKey, err := s.GetAccountKey(ctx, hashOf("confirm-ann@example.com"))
		require.NoError(t, err)
		require.Equal(t, ptr(stored(at)), confirmKey.VoidedAt, "other keys voided")
		f.requireLive(t, []string{"bob"}, []string{"sbob"})
		bob, err := s.GetCustomer(ctx, "demo", f.bob.ID)
		require.NoError(t, err)
		require.Equal(t, "$argon2id$old", bob.PasswordHash)

		_, err = s.ResetPassword(ctx, reset, "$argon2id$again", at)
		require.ErrorIs(t, err, storage.ErrConflict, "single use")
		got, err = s.GetCustomer(ctx, "demo", f.ann.ID)
		require.NoError(t, err)
		require.Equal(t, "$argon2id$new", got.PasswordHash)
	})

	t.Run("a verified address keeps its first time", func(t *testing.T) {
		s := open(t)
		ann := register(t, s, "ann@example.com", now)
		_, err := s.ConfirmEmail(ctx, hashOf("confirm-ann@example.com"), now)
		require.NoError(t, err)
		require.NoError(t, s.IssueAccountKey(ctx, accountKey("reset", storage.KeyResetPassword, ann.ID, now), outboxMail("m", now)))
		_, err = s.ResetPassword(ctx, reset, "$argon2id$new", now.Add(time.Minute))
		require.NoError(t, err)
		got, err := s.GetCustomer(ctx, "demo", ann.ID)
		require.NoError(t, err)
		require.Equal(t, ptr(stored(now)), got.EmailVerifiedAt)
	})

	for _, tt := range []struct {
		name    string
		key     string
		at      time.Time
		wantErr error
	}{
		{"expired", "reset", now.Add(time.Hour), storage.ErrConflict},
		{"a confirmation key does not reset", "confirm-ann@example.com", now, storage.ErrNotFound},
		{"unknown", "nothing", now, storage.ErrNotFound},
	} {
		t.Run(tt.name+" writes nothing", func(t *testing.T) {
			s := open(t)
			f := newSessionsFixture(t, s, now)
			require.NoError(t, s.IssueAccountKey(ctx, accountKey("reset", storage.KeyResetPassword, f.ann.ID, now), outboxMail("m", now)))
			_, err := s.ResetPassword(ctx, hashOf(tt.key), "$argon2id$new", tt.at)
			require.ErrorIs(t, err, tt.wantErr)
			got, err := s.GetCustomer(ctx, "demo", f.ann.ID)
			require.NoError(t, err)
			require.Equal(t, "$argon2id$old", got.PasswordHash)
			require.Nil(t, got.EmailVerifiedAt)
			f.requireLive(t, []string{"a", "b", "bob"}, []string{"s1", "s2", "sbob"})
		})
	}
}

func testChangePassword(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()
	at := now.Add(time.Minute)

	tests := []struct {
		name         string
		keepSession  string
		keepJTI      string
		wantFamilies []string
		wantSessions []string
	}{
		{name: "from a browser session: that session stays", keepSession: hashOf("s2"),
			wantFamilies: []string{"bob"}, wantSessions: []string{"s2", "sbob"}},
		{name: "from an access token: its family stays", keepJTI: "at-b",
			wantFamilies: []string{"b", "bob"}, wantSessions: []string{"sbob"}},
		{name: "another customer's token keeps nothing", keepJTI: "at-bob",
			wantFamilies: []string{"bob"}, wantSessions: []string{"sbob"}},
		{name: "nothing kept", wantFamilies: []string{"bob"}, wantSessions: []string{"sbob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			f := newSessionsFixture(t, s, now)
			require.NoError(t, s.IssueAccountKey(ctx, accountKey("reset", storage.KeyResetPassword, f.ann.ID, now), outboxMail("m", now)))
			require.NoError(t, s.ChangePassword(ctx, storage.PasswordChange{
				CustomerID: f.ann.ID, OldHash: "$argon2id$old", NewHash: "$argon2id$new",
				KeepSessionHash: tt.keepSession, KeepAccessJTI: tt.keepJTI, Now: at,
			}))
			got, err := s.GetCustomer(ctx, "demo", f.ann.ID)
			require.NoError(t, err)
			require.Equal(t, "$argon2id$new", got.PasswordHash)
			f.requireLive(t, tt.wantFamilies, tt.wantSessions)
			reset, err := s.GetAccountKey(ctx, hashOf("reset"))
			require.NoError(t, err)
			require.Equal(t, ptr(stored(at)), reset.VoidedAt, "a password change voids reset keys")
			confirm, err := s.GetAccountKey(ctx, hashOf("confirm-ann@example.com"))
			require.NoError(t, err)
			require.Nil(t, confirm.VoidedAt, "the confirmation key is not the password's")
		})
	}

	t.Run("a stale old hash writes nothing", func(t *testing.T) {
		s := open(t)
		f := newSessionsFixture(t, s, now)
		require.NoError(t, s.IssueAccountKey(ctx, accountKey("reset", storage.KeyResetPassword, f.ann.ID, now), outboxMail("m", now)))
		err := s.ChangePassword(ctx, storage.PasswordChange{CustomerID: f.ann.ID, OldHash: "$argon2id$stale", NewHash: "$argon2id$new", Now: at})
		require.ErrorIs(t, err, storage.ErrConflict)
		got, err := s.GetCustomer(ctx, "demo", f.ann.ID)
		require.NoError(t, err)
		require.Equal(t, "$argon2id$old", got.PasswordHash)
		f.requireLive(t, []string{"a", "b", "bob"}, []string{"s1", "s2", "sbob"})
		reset, err := s.GetAccountKey(ctx, hashOf("reset"))
		require.NoError(t, err)
		require.Nil(t, reset.VoidedAt)
	})

	t.Run("an unknown customer", func(t *testing.T) {
		s := open(t)
		err := s.ChangePassword(ctx, storage.PasswordChange{CustomerID: 999, OldHash: "x", NewHash: "y", Now: at})
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

// testConcurrentAccountKeys: one key, racers on any number of replicas,
// exactly one use.
func testConcurrentAccountKeys(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()

	t.Run("confirm", func(t *testing.T) {
		s := open(t)
		register(t, s, "ann@example.com", now)
		errs := race(func(int) error {
			_, err := s.ConfirmEmail(ctx, hashOf("confirm-ann@example.com"), now)
			return err
		})
		requireOneWinner(t, errs)
	})

	t.Run("reset", func(t *testing.T) {
		s := open(t)
		ann := register(t, s, "ann@example.com", now)
		require.NoError(t, s.IssueAccountKey(ctx, accountKey("reset", storage.KeyResetPassword, ann.ID, now), outboxMail("m", now)))
		errs := race(func(i int) error {
			_, err := s.ResetPassword(ctx, hashOf("reset"), fmt.Sprintf("$argon2id$racer-%d", i), now)
			return err
		})
		winner := requireOneWinner(t, errs)
		got, err := s.GetCustomer(ctx, "demo", ann.ID)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("$argon2id$racer-%d", winner), got.PasswordHash, "the winner's password is set")
	})

	t.Run("change", func(t *testing.T) {
		s := open(t)
		ann := register(t, s, "ann@example.com", now)
		errs := race(func(i int) error {
			return s.ChangePassword(ctx, storage.PasswordChange{
				CustomerID: ann.ID, OldHash: "$argon2id$old", NewHash: fmt.Sprintf("$argon2id$racer-%d", i), Now: now,
			})
		})
		winner := requireOneWinner(t, errs)
		got, err := s.GetCustomer(ctx, "demo", ann.ID)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("$argon2id$racer-%d", winner), got.PasswordHash)
	})

	t.Run("register", func(t *testing.T) {
		s := open(t)
		errs := race(func(i int) error {
			r := registration("same@example.com", now)
			r.Key = accountKey(fmt.Sprint("key-", i), storage.KeyConfirmEmail, 0, now)
			r.Mail = outboxMail(fmt.Sprint("mail-", i), now)
			return s.RegisterCustomer(ctx, r)
		})
		winner := requireOneWinner(t, errs)
		require.Equal(t, []string{fmt.Sprint("mail-", winner)}, dueSealed(t, s, now), "only the winner's mail")
	})
}

func testMailOutbox(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := baseTime()

	t.Run("due mail, oldest first, within the limit", func(t *testing.T) {
		s := open(t)
		for i := range 3 {
			require.NoError(t, s.EnqueueMail(ctx, outboxMail(fmt.Sprint("m", i), now)))
		}
		later := outboxMail("later", now)
		later.NextAttemptAt = ptr(now.Add(time.Minute))
		require.NoError(t, s.EnqueueMail(ctx, later))

		due, err := s.DueMail(ctx, now, 2)
		require.NoError(t, err)
		require.Len(t, due, 2)
		require.Equal(t, "m0", string(due[0].Sealed))
		require.Equal(t, "m1", string(due[1].Sealed))
		require.Less(t, due[0].ID, due[1].ID)
		require.Equal(t, ptr(stored(now)), due[0].NextAttemptAt)
		require.Equal(t, stored(now), due[0].CreatedAt)
		require.Equal(t, []string{"m0", "m1", "m2"}, dueSealed(t, s, now))
		require.Equal(t, []string{"m0", "m1", "m2", "later"}, dueSealed(t, s, now.Add(time.Minute)))
		_, err = s.DueMail(ctx, now, 0)
		require.Error(t, err)
	})

	t.Run("retry, send and give up", func(t *testing.T) {
		s := open(t)
		for _, name := range []string{"retried", "sent", "failed"} {
			require.NoError(t, s.EnqueueMail(ctx, outboxMail(name, now)))
		}
		due, err := s.DueMail(ctx, now, 10)
		require.NoError(t, err)
		retried, sent, failed := due[0].ID, due[1].ID, due[2].ID

		next := now.Add(30 * time.Second)
		require.NoError(t, s.MarkMailRetry(ctx, retried, 1, next, "451 try later"))
		require.NoError(t, s.MarkMailSent(ctx, sent, now))
		long := strings.Repeat("x", 2000)
		require.NoError(t, s.MarkMailFailed(ctx, failed, now, "550 no such user"+long))

		require.Empty(t, dueSealed(t, s, now), "nothing due until the retry")
		due, err = s.DueMail(ctx, next, 10)
		require.NoError(t, err)
		require.Len(t, due, 1)
		require.Equal(t, retried, due[0].ID)
		require.Equal(t, 1, due[0].Attempts)
		require.Equal(t, "451 try later", due[0].LastError)
		require.Equal(t, "retried", string(due[0].Sealed), "a retried mail keeps its message")

		m, err := s.GetOutboxMail(ctx, sent)
		require.NoError(t, err)
		require.Equal(t, ptr(stored(now)), m.SentAt)
		require.Nil(t, m.NextAttemptAt)
		require.Empty(t, m.Sealed, "a sent mail's message (and key) is forgotten")

		m, err = s.GetOutboxMail(ctx, failed)
		require.NoError(t, err)
		require.Equal(t, ptr(stored(now)), m.FailedAt)
		require.Empty(t, m.Sealed)
		require.True(t, len(m.LastError) <= 512 && len(m.LastError) > 0, "the error is kept, cut to its column")

		for _, id := range []uint64{sent, failed} {
			require.ErrorIs(t, s.MarkMailSent(ctx, id, now), storage.ErrNotFound, "a settled mail stays settled")
			require.ErrorIs(t, s.MarkMailRetry(ctx, id, 2, now, "x"), storage.ErrNotFound)
		}
		require.ErrorIs(t, s.MarkMailFailed(ctx, 99999, now, "x"), storage.ErrNotFound)
	})

	t.Run("sweep settled mail and expired keys", func(t *testing.T) {
		s := open(t)
		old, recent := now.Add(-48*time.Hour), now
		for _, m := range []struct {
			name   string
			at     time.Time
			settle string
		}{{"old-sent", old, "sent"}, {"old-failed", old, "failed"}, {"old-pending", old, ""}, {"new-sent", recent, "sent"}} {
			require.NoError(t, s.EnqueueMail(ctx, outboxMail(m.name, m.at)))
			due, err := s.DueMail(ctx, now, 100)
			require.NoError(t, err)
			id := due[len(due)-1].ID
			switch m.settle {
			case "sent":
				require.NoError(t, s.MarkMailSent(ctx, id, m.at))
			case "failed":
				require.NoError(t, s.MarkMailFailed(ctx, id, m.at, "gave up"))
			}
		}
		require.EqualValues(t, 2, drain(t, 1, func(l int) (int64, error) { return s.SweepOutbox(ctx, now.Add(-24*time.Hour), l) }))
		require.Equal(t, []string{"old-pending"}, dueSealed(t, s, now), "an unsettled mail is never swept")

		ann := register(t, s, "ann@example.com", old) // its key expired an hour after old
		require.NoError(t, s.IssueAccountKey(ctx, accountKey("live", storage.KeyResetPassword, ann.ID, now), outboxMail("m", now)))
		require.EqualValues(t, 1, drain(t, 5, func(l int) (int64, error) { return s.SweepAccountKeys(ctx, now, l) }))
		_, err := s.GetAccountKey(ctx, hashOf("confirm-ann@example.com"))
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetAccountKey(ctx, hashOf("live"))
		require.NoError(t, err)
	})
}
