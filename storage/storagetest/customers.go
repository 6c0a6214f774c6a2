package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

func testCustomers(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	at := baseTime()

	full := storage.Customer{
		ShopKey:           "demo",
		Email:             "Ann.Smith@Example.com",
		EmailNormalized:   "ann.smith@example.com",
		Name:              "Ann Smith",
		PasswordHash:      "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		EmailVerifiedAt:   ptr(at.Add(time.Hour)),
		DisabledAt:        ptr(at.Add(2 * time.Hour)),
		AccountID:         1 << 40,
		CustomerReference: "DE--21",
		CompanyUserID:     "cu-7",
		FailedLogins:      3,
		LastFailedAt:      ptr(at.Add(3 * time.Hour)),
		LockedUntil:       ptr(at.Add(4 * time.Hour)),
		CreatedAt:         at,
		UpdatedAt:         at.Add(time.Minute),
	}

	t.Run("assigned id, every field round trips", func(t *testing.T) {
		c := full
		require.NoError(t, s.CreateCustomer(ctx, &c))
		require.NotZero(t, c.ID, "ID written back")

		want := full
		want.ID = c.ID
		want.EmailVerifiedAt = ptr(stored(*full.EmailVerifiedAt))
		want.DisabledAt = ptr(stored(*full.DisabledAt))
		want.LastFailedAt = ptr(stored(*full.LastFailedAt))
		want.LockedUntil = ptr(stored(*full.LockedUntil))
		want.CreatedAt = stored(full.CreatedAt)
		want.UpdatedAt = stored(full.UpdatedAt)

		got, err := s.GetCustomer(ctx, "demo", c.ID)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, time.UTC, got.CreatedAt.Location())

		got, err = s.GetCustomerByEmail(ctx, "demo", "ann.smith@example.com")
		require.NoError(t, err)
		require.Equal(t, want, got)
	})

	t.Run("nil pointers and zero times", func(t *testing.T) {
		c := storage.Customer{ShopKey: "demo", Email: "bob@example.com", EmailNormalized: "bob@example.com"}
		require.NoError(t, s.CreateCustomer(ctx, &c))
		got, err := s.GetCustomer(ctx, "demo", c.ID)
		require.NoError(t, err)
		require.Nil(t, got.EmailVerifiedAt)
		require.Nil(t, got.DisabledAt)
		require.Nil(t, got.LastFailedAt)
		require.Nil(t, got.LockedUntil)
		require.False(t, got.Verified())
		require.False(t, got.CreatedAt.IsZero(), "zero CreatedAt is set to now")
		require.Equal(t, c.CreatedAt, got.CreatedAt, "CreatedAt written back")
	})

	t.Run("explicit id is kept and later ids follow it", func(t *testing.T) {
		c := storage.Customer{ID: 2100, ShopKey: "demo", EmailNormalized: "op@example.com"}
		require.NoError(t, s.CreateCustomer(ctx, &c))
		require.EqualValues(t, 2100, c.ID)
		next := storage.Customer{ShopKey: "demo", EmailNormalized: "after@example.com"}
		require.NoError(t, s.CreateCustomer(ctx, &next))
		require.Greater(t, next.ID, uint64(2100))
	})

	conflicts := []struct {
		name string
		c    storage.Customer
	}{
		{name: "duplicate id", c: storage.Customer{ID: 2100, ShopKey: "other", EmailNormalized: "fresh@example.com"}},
		{name: "duplicate email in shop", c: storage.Customer{ShopKey: "demo", EmailNormalized: "bob@example.com"}},
	}
	for _, tt := range conflicts {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			require.ErrorIs(t, s.CreateCustomer(ctx, &c), storage.ErrConflict)
		})
	}

	t.Run("same email in another shop", func(t *testing.T) {
		c := storage.Customer{ShopKey: "other", EmailNormalized: "bob@example.com"}
		require.NoError(t, s.CreateCustomer(ctx, &c))
		got, err := s.GetCustomerByEmail(ctx, "other", "bob@example.com")
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
	})

	bob, err := s.GetCustomerByEmail(ctx, "demo", "bob@example.com")
	require.NoError(t, err)
	lookups := []struct {
		name  string
		get   func() (storage.Customer, error)
		want  uint64
		found bool
	}{
		{name: "by id", get: func() (storage.Customer, error) { return s.GetCustomer(ctx, "demo", bob.ID) }, want: bob.ID, found: true},
		{name: "by id in another shop", get: func() (storage.Customer, error) { return s.GetCustomer(ctx, "other", bob.ID) }},
		{name: "unknown id", get: func() (storage.Customer, error) { return s.GetCustomer(ctx, "demo", 999999) }},
		{name: "unknown email", get: func() (storage.Customer, error) { return s.GetCustomerByEmail(ctx, "demo", "nobody@example.com") }},
		{name: "email is compared exactly", get: func() (storage.Customer, error) { return s.GetCustomerByEmail(ctx, "demo", "BOB@example.com") }},
		{name: "email in unknown shop", get: func() (storage.Customer, error) { return s.GetCustomerByEmail(ctx, "nowhere", "bob@example.com") }},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if !tt.found {
				require.ErrorIs(t, err, storage.ErrNotFound)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.ID)
		})
	}

	t.Run("GetTokenHolder", func(t *testing.T) {
		require.NoError(t, s.RevokeAccessToken(ctx, storage.RevokedAccessToken{JTI: "revoked-jti", ExpiresAt: baseTime().Add(time.Hour)}))
		verified, disabled := baseTime(), baseTime().Add(time.Minute)
		carol := storage.Customer{ShopKey: "demo", Email: "Carol@example.com", EmailNormalized: "carol@example.com",
			EmailVerifiedAt: &verified, DisabledAt: &disabled, CreatedAt: baseTime(), UpdatedAt: baseTime()}
		require.NoError(t, s.CreateCustomer(ctx, &carol))
		carol, err := s.GetCustomer(ctx, "demo", carol.ID) // as stored: whole seconds, UTC
		require.NoError(t, err)
		tests := []struct {
			name, shop, jti string
			id              uint64
			want            storage.TokenHolder
			found, mayUse   bool
		}{
			{name: "live token", shop: "demo", id: bob.ID, jti: "live-jti", found: true,
				want: storage.TokenHolder{Email: bob.Email, EmailVerifiedAt: bob.EmailVerifiedAt, DisabledAt: bob.DisabledAt}, mayUse: bob.MayUseTokens()},
			{name: "revoked token", shop: "demo", id: bob.ID, jti: "revoked-jti", found: true,
				want: storage.TokenHolder{Email: bob.Email, EmailVerifiedAt: bob.EmailVerifiedAt, DisabledAt: bob.DisabledAt, Revoked: true}, mayUse: bob.MayUseTokens()},
			{name: "verified and disabled", shop: "demo", id: carol.ID, jti: "live-jti", found: true,
				want: storage.TokenHolder{Email: "Carol@example.com", EmailVerifiedAt: carol.EmailVerifiedAt, DisabledAt: carol.DisabledAt}},
			{name: "customer of another shop", shop: "other", id: bob.ID, jti: "live-jti"},
			{name: "unknown customer", shop: "demo", id: 999999, jti: "revoked-jti"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.GetTokenHolder(ctx, tt.shop, tt.id, tt.jti)
				if !tt.found {
					require.ErrorIs(t, err, storage.ErrNotFound)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				require.Equal(t, tt.mayUse, got.MayUseTokens())
			})
		}
	})
}

func testCustomerUpdates(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	ctx := context.Background()
	c := storage.Customer{ShopKey: "demo", EmailNormalized: "ann@example.com", PasswordHash: "h1", CreatedAt: baseTime(), UpdatedAt: baseTime()}
	require.NoError(t, s.CreateCustomer(ctx, &c))

	t.Run("UpdatePasswordHash", func(t *testing.T) {
		// Steps run in order: each starts from the state the previous left.
		steps := []struct {
			name     string
			id       uint64
			old, new string
			wantErr  error
			wantHash string
		}{
			{name: "matching old hash", id: c.ID, old: "h1", new: "h2", wantHash: "h2"},
			{name: "stale old hash loses", id: c.ID, old: "h1", new: "h3", wantErr: storage.ErrConflict, wantHash: "h2"},
			{name: "old hash compared case-sensitively", id: c.ID, old: "H2", new: "h3", wantErr: storage.ErrConflict, wantHash: "h2"},
			{name: "unchanged hash still succeeds", id: c.ID, old: "h2", new: "h2", wantHash: "h2"},
			{name: "unknown customer", id: 999999, old: "h2", new: "h3", wantErr: storage.ErrNotFound, wantHash: "h2"},
		}
		for _, tt := range steps {
			t.Run(tt.name, func(t *testing.T) {
				err := s.UpdatePasswordHash(ctx, tt.id, tt.old, tt.new)
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
				} else {
					require.NoError(t, err)
				}
				got, err := s.GetCustomer(ctx, "demo", c.ID)
				require.NoError(t, err)
				require.Equal(t, tt.wantHash, got.PasswordHash)
			})
		}
		got, err := s.GetCustomer(ctx, "demo", c.ID)
		require.NoError(t, err)
		require.NotEqual(t, stored(baseTime()), got.UpdatedAt, "UpdatedAt moves to the store's clock")
	})

	t.Run("SetEmailVerified", func(t *testing.T) {
		at := baseTime().Add(time.Hour)
		steps := []struct {
			name    string
			id      uint64
			at      *time.Time
			wantErr error
			want    *time.Time
		}{
			{name: "set", id: c.ID, at: &at, want: ptr(stored(at))},
			{name: "set the same time again", id: c.ID, at: &at, want: ptr(stored(at))},
			{name: "clear", id: c.ID, at: nil, want: nil},
			{name: "unknown customer", id: 999999, at: &at, wantErr: storage.ErrNotFound, want: nil},
		}
		for _, tt := range steps {
			t.Run(tt.name, func(t *testing.T) {
				err := s.SetEmailVerified(ctx, tt.id, tt.at)
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
				} else {
					require.NoError(t, err)
				}
				got, err := s.GetCustomer(ctx, "demo", c.ID)
				require.NoError(t, err)
				require.Equal(t, tt.want, got.EmailVerifiedAt)
			})
		}
	})
}
