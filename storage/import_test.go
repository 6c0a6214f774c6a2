package storage

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMergeImport(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(24 * time.Hour)
	row := func(mod func(*Customer)) Customer {
		c := Customer{Email: "A@example.com", EmailNormalized: "a@example.com", Name: "Ann", PasswordHash: "$2y$10$file",
			AccountID: 7, CustomerReference: "DE--7", CompanyUserID: "cu-7"}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	// stored is a customer as the first import of row(nil) left it.
	stored := func(mod func(*Customer)) Customer {
		c := row(nil)
		c.ID, c.ShopKey, c.CreatedAt = 21, "shop", t0
		if mod != nil {
			mod(&c)
		}
		return c
	}
	first := NewImportRecord(row(nil))

	tests := []struct {
		name        string
		stored      Customer
		last        *ImportRecord
		row         Customer
		want        Customer
		wantChanged bool
	}{
		{name: "same file again", stored: stored(nil), last: &first, row: row(nil), want: stored(nil)},
		{name: "new export: every field the import owns is replaced",
			stored: stored(nil), last: &first,
			row: row(func(c *Customer) {
				c.Email, c.Name, c.PasswordHash = "a@EXAMPLE.com", "Ann B", "$2y$10$next"
				c.AccountID, c.CustomerReference, c.CompanyUserID = 8, "DE--8", "cu-8"
				c.EmailVerifiedAt = &t1
			}),
			want: stored(func(c *Customer) {
				c.Email, c.Name, c.PasswordHash = "a@EXAMPLE.com", "Ann B", "$2y$10$next"
				c.AccountID, c.CustomerReference, c.CompanyUserID = 8, "DE--8", "cu-8"
				c.EmailVerifiedAt = &t1
			}),
			wantChanged: true},
		{name: "fields changed in shopauth are kept",
			stored: stored(func(c *Customer) {
				c.Name, c.PasswordHash, c.AccountID, c.CustomerReference, c.CompanyUserID = "Ann S", "$argon2id$new", 9, "DE--9", "cu-9"
				c.Email = "a@example.COM"
			}),
			last: &first,
			row: row(func(c *Customer) {
				c.Name, c.PasswordHash, c.AccountID, c.CustomerReference, c.CompanyUserID = "Ann B", "$2y$10$next", 8, "DE--8", "cu-8"
				c.Email = "a@EXAMPLE.com"
			}),
			want: stored(func(c *Customer) {
				c.Name, c.PasswordHash, c.AccountID, c.CustomerReference, c.CompanyUserID = "Ann S", "$argon2id$new", 9, "DE--9", "cu-9"
				c.Email = "a@example.COM"
			})},
		{name: "never imported: nothing is replaced",
			stored: stored(func(c *Customer) { c.Name = "Native" }), last: nil,
			row:  row(func(c *Customer) { c.Name, c.PasswordHash, c.EmailVerifiedAt = "Ann B", "$2y$10$next", &t1 }),
			want: stored(func(c *Customer) { c.Name = "Native" })},
		{name: "never un-verifies",
			stored: stored(func(c *Customer) { c.EmailVerifiedAt = &t0 }), last: &first, row: row(nil),
			want: stored(func(c *Customer) { c.EmailVerifiedAt = &t0 })},
		{name: "never restamps a verification",
			stored: stored(func(c *Customer) { c.EmailVerifiedAt = &t0 }),
			last:   new(NewImportRecord(row(func(c *Customer) { c.EmailVerifiedAt = &t0 }))),
			row:    row(func(c *Customer) { c.EmailVerifiedAt = &t1 }),
			want:   stored(func(c *Customer) { c.EmailVerifiedAt = &t0 })},
		{name: "does not verify again what was un-verified in shopauth",
			stored: stored(nil),
			last:   new(NewImportRecord(row(func(c *Customer) { c.EmailVerifiedAt = &t0 }))),
			row:    row(func(c *Customer) { c.EmailVerifiedAt = &t1 }),
			want:   stored(nil)},
		{name: "never enables or disables",
			stored: stored(func(c *Customer) { c.DisabledAt = &t0 }), last: &first,
			row:  row(func(c *Customer) { c.Name = "Ann B" }),
			want: stored(func(c *Customer) { c.DisabledAt = &t0; c.Name = "Ann B" }), wantChanged: true},
		{name: "identity and lockout are the store's",
			stored: stored(func(c *Customer) { c.FailedLogins, c.LockedUntil = 3, &t1 }), last: &first,
			row: row(func(c *Customer) {
				c.ID, c.ShopKey, c.EmailNormalized, c.FailedLogins, c.CreatedAt = 99, "other", "b@example.com", 0, t1
			}),
			want: stored(func(c *Customer) { c.FailedLogins, c.LockedUntil = 3, &t1 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, record, changed := MergeImport(tt.stored, tt.last, tt.row)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantChanged, changed)
			require.Equal(t, NewImportRecord(tt.row), record, "the record is always the row's")
		})
	}
}

func TestImportRecordKeepsNoHash(t *testing.T) {
	r := NewImportRecord(Customer{PasswordHash: "$2y$10$secret-hash"})
	require.NotContains(t, r.PasswordHashSHA256, "secret")
	require.Len(t, r.PasswordHashSHA256, 64)
}
