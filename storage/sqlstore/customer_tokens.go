package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// RevokeCustomerRefreshFamily revokes the family of the refresh token with
// tokenHash, and the access tokens issued from it, only if that token
// belongs to customerID in shopKey; otherwise nothing changes. It reports
// how many refresh tokens it revoked, in one transaction.
func (s *Store) RevokeCustomerRefreshFamily(ctx context.Context, customerID uint64, shopKey, tokenHash string, now time.Time) (revoked int64, err error) {
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		var families []string
		if err := tx.Model(&refreshTokenModel{}).
			Where("token_hash = ? AND customer_id = ? AND shop_key = ?", tokenHash, customerID, shopKey).
			Pluck("family_id", &families).Error; err != nil {
			return err
		}
		revoked, err = revokeFamilies(tx, families, dbTime(now))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke customer refresh family: %w", convertErr(err))
	}
	return revoked, nil
}

// RevokeCustomerRefreshTokens revokes every refresh-token family of
// customerID in shopKey, whatever the client, and the access tokens issued
// from them, in one transaction. A family counts until it is revoked, also
// when its refresh tokens have expired (idle or absolute TTL): the access
// tokens issued from it may still be live, and the sweeper keeps an
// expired refresh token while its family has access tokens recorded
// (SweepRefreshTokens). It reports how many refresh tokens it revoked.
func (s *Store) RevokeCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string, now time.Time) (revoked int64, err error) {
	revoked, err = s.revokeFamiliesWhere(ctx, "customer_id = ? AND shop_key = ?", customerID, shopKey)(now)
	if err != nil {
		return 0, fmt.Errorf("revoke customer refresh tokens: %w", err)
	}
	return revoked, nil
}

// RevokeCustomerClientRefreshTokens is RevokeCustomerRefreshTokens for
// the families of one client only (a consent revoked).
func (s *Store) RevokeCustomerClientRefreshTokens(ctx context.Context, customerID uint64, shopKey, clientID string, now time.Time) (revoked int64, err error) {
	revoked, err = s.revokeFamiliesWhere(ctx, "customer_id = ? AND shop_key = ? AND client_id = ?", customerID, shopKey, clientID)(now)
	if err != nil {
		return 0, fmt.Errorf("revoke customer client refresh tokens: %w", err)
	}
	return revoked, nil
}

// revokeFamiliesWhere returns the revocation, in one transaction, of every
// family with a not yet revoked refresh token matching where, with the
// access tokens issued from them.
func (s *Store) revokeFamiliesWhere(ctx context.Context, where string, args ...any) func(now time.Time) (int64, error) {
	return func(now time.Time) (revoked int64, err error) {
		now = dbTime(now)
		err = s.transaction(ctx, func(tx *gorm.DB) error {
			// The families are read first: MySQL cannot UPDATE a table
			// filtered by a subquery on that same table.
			var families []string
			if err := tx.Model(&refreshTokenModel{}).Distinct("family_id").
				Where(where+" AND revoked_at IS NULL", args...).
				Pluck("family_id", &families).Error; err != nil {
				return err
			}
			revoked, err = revokeFamilies(tx, families, now)
			return err
		})
		return revoked, convertErr(err)
	}
}
