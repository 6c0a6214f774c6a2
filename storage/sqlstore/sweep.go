package sqlstore

import (
	"context"
	"fmt"
	"time"

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
	return s.sweep(ctx, "revoked_access_tokens", "jti", "expires_at < ?", []any{dbTime(before)}, limit)
}

// SweepIssuedAccessTokens deletes at most limit issued-jti rows (kept only
// to revoke a family's access tokens) that expired before before.
func (s *Store) SweepIssuedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error) {
	return s.sweep(ctx, "issued_access_tokens", "jti", "expires_at < ?", []any{dbTime(before)}, limit)
}

// SweepRefreshTokens deletes at most limit refresh-token rows that expired
// before expiredBefore, or were spent or revoked before settledBefore.
func (s *Store) SweepRefreshTokens(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error) {
	settled := dbTime(settledBefore)
	return s.sweep(ctx, "refresh_tokens", "token_hash", "expires_at < ? OR spent_at < ? OR revoked_at < ?",
		[]any{dbTime(expiredBefore), settled, settled}, limit)
}

// sweep deletes one batch: it reads at most limit keys of matching rows
// (a plain read, no locks), then deletes those rows by primary key with the
// condition checked again, so each DELETE locks only the rows it removes,
// for as short as one small statement takes. Portable: MySQL refuses LIMIT
// inside an IN subquery, and SQLite builds usually lack DELETE … LIMIT.
func (s *Store) sweep(ctx context.Context, table, key, where string, args []any, limit int) (int64, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("sweep %s: limit must be positive", table)
	}
	db := s.db.WithContext(ctx)
	var keys []string
	if err := db.Table(table).Where(where, args...).Limit(limit).Pluck(key, &keys).Error; err != nil {
		return 0, fmt.Errorf("sweep %s: %w", table, convertErr(err))
	}
	if len(keys) == 0 {
		return 0, nil
	}
	res := db.Exec("DELETE FROM "+table+" WHERE "+key+" IN ? AND ("+where+")", append([]any{keys}, args...)...)
	if res.Error != nil {
		return 0, fmt.Errorf("sweep %s: %w", table, convertErr(res.Error))
	}
	return res.RowsAffected, nil
}
