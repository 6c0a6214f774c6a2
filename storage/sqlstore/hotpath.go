package sqlstore

import (
	"context"
	"strings"
)

// The reads that every token, refresh and introspection request makes go
// straight to database/sql with a fixed column list: gorm's statement
// building and reflective Scan were half of their CPU in the introspection
// profile. TestHotPathColumns holds each list to its gorm model, so a new
// column cannot be forgotten here. These reads skip the gorm logger's
// slow-query line.

var customerColumns = []string{
	"id", "shop_key", "email", "email_normalized", "name", "password_hash",
	"email_verified_at", "disabled_at", "account_id", "customer_reference",
	"company_user_id", "failed_logins", "last_failed_at", "locked_until",
	"created_at", "updated_at",
}

func (m *customerModel) scanTargets() []any {
	return []any{
		&m.ID, &m.ShopKey, &m.Email, &m.EmailNormalized, &m.Name, &m.PasswordHash,
		&m.EmailVerifiedAt, &m.DisabledAt, &m.AccountID, &m.CustomerReference,
		&m.CompanyUserID, &m.FailedLogins, &m.LastFailedAt, &m.LockedUntil,
		&m.CreatedAt, &m.UpdatedAt,
	}
}

var refreshTokenColumns = []string{
	"token_hash", "family_id", "client_id", "customer_id", "shop_key", "scope",
	"auth_time", "issued_at", "expires_at", "family_expires_at", "spent_at",
	"revoked_at", "successor_hash", "predecessor_seal", "session_hash",
}

func (m *refreshTokenModel) scanTargets() []any {
	return []any{
		&m.TokenHash, &m.FamilyID, &m.ClientID, &m.CustomerID, &m.ShopKey, &m.Scope,
		&m.AuthTime, &m.IssuedAt, &m.ExpiresAt, &m.FamilyExpiresAt, &m.SpentAt,
		&m.RevokedAt, &m.SuccessorHash, &m.PredecessorSeal, &m.SessionHash,
	}
}

var (
	selectCustomer     = "SELECT " + strings.Join(customerColumns, ", ") + " FROM customers WHERE id = ? AND shop_key = ?"
	selectRefreshToken = "SELECT " + strings.Join(refreshTokenColumns, ", ") + " FROM refresh_tokens WHERE token_hash = ?"
	selectRevokedJTI   = "SELECT 1 FROM revoked_access_tokens WHERE jti = ?"
	// selectTokenHolder asks only what TokenHolder holds: the driver
	// parses every statement anew, and the long column list cost a tenth
	// of an introspection. EXISTS is 0 or 1 on SQLite and MySQL alike.
	selectTokenHolder = "SELECT email, email_verified_at, disabled_at, " +
		"EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?) FROM customers WHERE id = ? AND shop_key = ?"
)

// scanOne runs query, which selects at most one row, into dest;
// storage.ErrNotFound when there is none. On SQLite it runs without its
// caller's cancellation, once the context is found live: for a
// cancellable context, database/sql and the driver each start a goroutine
// per query to watch it, and those goroutines queued before the one writer
// in the scheduler (docs/performance.md). A point read by key takes
// microseconds, and an interrupt could not stop a read blocked on the disk
// anyway. On MySQL the context still bounds the network round trip.
func (s *Store) scanOne(ctx context.Context, query string, args []any, dest ...any) error {
	if s.dialect == dialectSQLite {
		if err := ctx.Err(); err != nil {
			return convertErr(err)
		}
		ctx = context.WithoutCancel(ctx)
	}
	return convertErr(s.sql.QueryRowContext(ctx, query, args...).Scan(dest...))
}
