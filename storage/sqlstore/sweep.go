package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

type leaseModel struct {
	Name       string `gorm:"column:name;primaryKey"`
	Holder     string `gorm:"column:holder"`
	ExpiresAt  *time.Time
	Generation int64 `gorm:"column:generation"`
}

func (leaseModel) TableName() string { return "leases" }

// AcquireLease makes holder the holder of the named lease until now+ttl and
// reports whether it is: true when the lease was free, expired, or already
// held by holder (a renewal); false while another holder's lease runs. It
// is one conditional UPDATE, so of concurrent callers on any number of
// replicas at most one wins. generation changes on every success, so MySQL,
// which counts changed rather than matched rows, reports the renewal too.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	now = dbTime(now)
	db := s.db.WithContext(ctx)
	// Created outside the UPDATE (see RecordLoginAttempt for why), already
	// expired, so the first caller takes it.
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&leaseModel{Name: name, ExpiresAt: &now}).Error; err != nil {
		return false, fmt.Errorf("acquire lease: %w", convertErr(err))
	}
	until := now.Add(ttl)
	res := db.Exec("UPDATE leases SET holder = ?, expires_at = ?, generation = generation + 1 "+
		"WHERE name = ? AND (holder = ? OR expires_at IS NULL OR expires_at <= ?)", holder, until, name, holder, now)
	if res.Error != nil {
		return false, fmt.Errorf("acquire lease: %w", convertErr(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// SweepRevokedAccessTokens deletes at most limit revoked-jti rows that
// expired before before, and reports how many it deleted.
func (s *Store) SweepRevokedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.sweep(ctx, "revoked_access_tokens", []string{"jti"}, "expires_at < ?", []any{dbTime(before)}, limit)
}

// SweepIssuedAccessTokens deletes at most limit issued-jti rows (kept only
// to revoke a family's access tokens) that expired before before.
func (s *Store) SweepIssuedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.sweep(ctx, "issued_access_tokens", []string{"jti"}, "expires_at < ?", []any{dbTime(before)}, limit)
}

// SweepRefreshTokens deletes at most limit refresh-token rows that no
// longer protect anything: never-spent ones that expired before
// expiredBefore, ones revoked before settledBefore, and any whose family
// ended (family_expires_at) before settledBefore. A spent token is kept
// until then whatever its own expiry — with an idle TTL that is only its
// idle deadline, while the family its thief refreshes lives on — so that
// presenting it again is detected as reuse and revokes the family for as
// long as the family can live, plus the retention. Each condition is swept
// by its own index (three statements at most), not one OR no index serves.
func (s *Store) SweepRefreshTokens(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("sweep refresh_tokens: limit must be positive")
	}
	expired, settled := dbTime(expiredBefore), dbTime(settledBefore)
	var total int64
	for _, c := range []struct {
		where string
		arg   time.Time
	}{
		// An expired token is kept while its family has access tokens
		// recorded: revoking the customer's families (logout, consent,
		// a disabled account) must still find the family to revoke them.
		{"expires_at < ? AND spent_at IS NULL AND NOT EXISTS (SELECT 1 FROM issued_access_tokens i WHERE i.family_id = refresh_tokens.family_id)", expired},
		{"revoked_at < ?", settled},
		{"family_expires_at < ?", settled},
	} {
		if int(total) >= limit {
			break
		}
		n, err := s.sweep(ctx, "refresh_tokens", []string{"token_hash"}, c.where, []any{c.arg}, limit-int(total))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// SweepLoginFailures deletes at most limit failed-login records whose last
// failure and lock end (where set) both lie before before — pass
// storage.LockoutPolicy.ForgottenBefore: such a record neither locks nor
// counts toward a lock, and a missing record is the same as an empty one.
// A cleared record (no failure, no lock) goes too. RecordLoginAttempt
// copes with a record deleted under it.
func (s *Store) SweepLoginFailures(ctx context.Context, before time.Time, limit int) (int64, error) {
	b := dbTime(before)
	return s.sweep(ctx, "login_failures", []string{"shop_key", "email_normalized"},
		"(last_failed_at IS NULL OR last_failed_at < ?) AND (locked_until IS NULL OR locked_until < ?)",
		[]any{b, b}, limit)
}

// SweepAuthorizationCodes deletes at most limit authorization codes: never
// redeemed ones that expired before expiredBefore (nothing was issued from
// them; redeeming them fails either way), and any that expired before
// settledBefore. A redeemed code is kept until then so that presenting it
// again is still detected as reuse and revokes its tokens (RFC 6749
// §4.1.2); once it is gone, it is merely unknown (still invalid_grant).
// settledBefore must not be after expiredBefore.
func (s *Store) SweepAuthorizationCodes(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error) {
	expired, settled := dbTime(expiredBefore), dbTime(settledBefore)
	if settled.After(expired) {
		return 0, fmt.Errorf("sweep authorization_codes: settledBefore %v is after expiredBefore %v", settled, expired)
	}
	// The leading expires_at < ? is implied by the rest; it lets the index
	// on expires_at bound the whole search.
	return s.sweep(ctx, "authorization_codes", []string{"code_hash"},
		"expires_at < ? AND ((redeemed_at IS NULL AND expires_at < ?) OR expires_at < ?)",
		[]any{expired, expired, settled}, limit)
}

// SweepBrowserSessions deletes at most limit hosted-login browser sessions
// that expired before before: an expired session signs nobody in, and
// ending one that is gone is already harmless (logout is idempotent).
func (s *Store) SweepBrowserSessions(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.sweep(ctx, "browser_sessions", []string{"id_hash"}, "expires_at < ?", []any{dbTime(before)}, limit)
}

// SweepSigningKeys deletes at most limit signing keys removed from the
// JWKS before before: nothing verifies with them any more, and their
// encrypted private keys need not stay at rest. A key still published, or
// one never scheduled for removal (NULL), is kept.
func (s *Store) SweepSigningKeys(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.sweep(ctx, "signing_keys", []string{"kid"}, "remove_after < ?", []any{dbTime(before)}, limit)
}

// sweep deletes one batch: it reads the primary keys (key, one or more
// string columns) of at most limit matching rows (a plain read, no locks),
// then deletes those rows by primary key with the condition checked again,
// so each DELETE locks only the rows it removes, for as short as one small
// statement takes, and a row that changed in between (a new failed login,
// a redemption) is left alone. Portable: MySQL refuses LIMIT inside an IN
// subquery, and SQLite builds usually lack DELETE … LIMIT.
//
// A composite key (login_failures) is deleted one row per statement, each
// an equality on the whole primary key, which MySQL always resolves
// through it: SQLite takes no list of row values after IN, and a DELETE of
// many rows could be planned through an index of a column the condition
// names (last_failed_at), locking index entry before row while a login
// attempt, holding its row, updates that entry — a deadlock.
func (s *Store) sweep(ctx context.Context, table string, key []string, where string, args []any, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("sweep %s: limit must be positive", table)
	}
	db := s.db.WithContext(ctx)
	found, err := sweepKeys(db.Table(table).Select(key).Where(where, args...).Limit(limit), len(key))
	if err != nil {
		return 0, fmt.Errorf("sweep %s: %w", table, convertErr(err))
	}
	if len(found) == 0 {
		return 0, nil
	}
	if len(key) == 1 {
		ids := make([]string, len(found))
		for i, k := range found {
			ids[i] = k[0]
		}
		res := db.Exec("DELETE FROM "+table+" WHERE "+key[0]+" IN ? AND ("+where+")", append([]any{ids}, args...)...)
		if res.Error != nil {
			return 0, fmt.Errorf("sweep %s: %w", table, convertErr(res.Error))
		}
		return res.RowsAffected, nil
	}
	del := "DELETE FROM " + table + " WHERE " + strings.Join(key, " = ? AND ") + " = ? AND (" + where + ")"
	var deleted int64
	for _, k := range found {
		kargs := make([]any, 0, len(k)+len(args))
		for _, v := range k {
			kargs = append(kargs, v)
		}
		res := db.Exec(del, append(kargs, args...)...)
		if res.Error != nil {
			return deleted, fmt.Errorf("sweep %s: %w", table, convertErr(res.Error))
		}
		deleted += res.RowsAffected
	}
	return deleted, nil
}

// sweepKeys runs q, which selects n string columns, and returns its rows.
func sweepKeys(q *gorm.DB, n int) ([][]string, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found [][]string
	for rows.Next() {
		k := make([]string, n)
		dest := make([]any, n)
		for i := range k {
			dest[i] = &k[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		found = append(found, k)
	}
	return found, rows.Err()
}
