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

// RevokeCustomerRefreshTokens revokes every live refresh-token family of
// customerID in shopKey, whatever the client, and the access tokens issued
// from them, in one transaction. Families that ended before now are left
// alone: they cannot be used anyway. It reports how many refresh tokens it
// revoked.
func (s *Store) RevokeCustomerRefreshTokens(ctx context.Context, customerID uint64, shopKey string, now time.Time) (revoked int64, err error) {
	now = dbTime(now)
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		// The families are read first: MySQL cannot UPDATE a table filtered
		// by a subquery on that same table.
		var families []string
		if err := tx.Model(&refreshTokenModel{}).Distinct("family_id").
			Where("customer_id = ? AND shop_key = ? AND revoked_at IS NULL AND expires_at > ?", customerID, shopKey, now).
			Pluck("family_id", &families).Error; err != nil {
			return err
		}
		revoked, err = revokeFamilies(tx, families, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke customer refresh tokens: %w", convertErr(err))
	}
	return revoked, nil
}
