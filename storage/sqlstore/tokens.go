package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/shopauth/shopauth/storage"
)

// CreateRefreshToken stores the first token of a family and the access
// token minted with it, in one transaction. An access token with an empty
// JTI records nothing.
func (s *Store) CreateRefreshToken(ctx context.Context, rt storage.RefreshToken, access storage.IssuedAccessToken) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		return insertTokens(tx, rt, access)
	})
	if err != nil {
		return fmt.Errorf("create refresh token: %w", convertErr(err))
	}
	return nil
}

func insertTokens(tx *gorm.DB, rt storage.RefreshToken, access storage.IssuedAccessToken) error {
	m := fromRefreshToken(rt)
	if err := tx.Create(&m).Error; err != nil {
		return err
	}
	return insertAccessToken(tx, access)
}

// insertAccessToken records an issued access token; an empty JTI records
// nothing.
func insertAccessToken(tx *gorm.DB, access storage.IssuedAccessToken) error {
	if access.JTI == "" {
		return nil
	}
	a := fromIssuedAccessToken(access)
	return tx.Create(&a).Error
}

// GetRefreshToken returns the stored token with the given hash, or
// storage.ErrNotFound.
func (s *Store) GetRefreshToken(ctx context.Context, tokenHash string) (storage.RefreshToken, error) {
	var m refreshTokenModel
	if err := s.scanOne(ctx, selectRefreshToken, []any{tokenHash}, m.scanTargets()...); err != nil {
		return storage.RefreshToken{}, err
	}
	return m.toStorage(), nil
}

// RotateRefreshToken spends the token oldHash and stores its successor next
// and the access token minted with it, atomically. The spend is one
// conditional UPDATE that only matches a token of next's client and family
// that is neither spent, revoked nor expired at now; unless it matches
// exactly one row nothing is written and the result is storage.ErrConflict.
// Of concurrent rotations of one token — in one process or several —
// exactly one succeeds. spent_at keeps microseconds: the reuse grace is
// measured from it.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next storage.RefreshToken, access storage.IssuedAccessToken) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&refreshTokenModel{}).
			Where("token_hash = ? AND client_id = ? AND family_id = ?", oldHash, next.ClientID, next.FamilyID).
			Where("spent_at IS NULL AND revoked_at IS NULL AND expires_at > ?", dbTime(now)).
			Updates(map[string]any{"spent_at": dbFineTime(now), "successor_hash": next.TokenHash})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return storage.ErrConflict
		}
		return insertTokens(tx, next, access)
	})
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", convertErr(err))
	}
	return nil
}

// RecordIssuedAccessToken remembers the jti of an access token minted from
// a refresh family, so that revoking the family revokes it too.
func (s *Store) RecordIssuedAccessToken(ctx context.Context, t storage.IssuedAccessToken) error {
	m := fromIssuedAccessToken(t)
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("record issued access token: %w", convertErr(err))
	}
	return nil
}

// AttachAccessToken records an access token of the family of the refresh
// token liveHash while that token is live at now. The token's row is read
// with FOR UPDATE (SQLite's writers are serialized anyway): a concurrent
// RevokeRefreshFamily, whose UPDATE takes the same row lock, either waits
// for this transaction and then lists the new jti, or has committed first,
// and then the locking read finds the row revoked and nothing is recorded
// (storage.ErrConflict).
func (s *Store) AttachAccessToken(ctx context.Context, liveHash string, now time.Time, access storage.IssuedAccessToken) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var live []string
		if err := tx.Model(&refreshTokenModel{}).Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("token_hash = ? AND family_id = ?", liveHash, access.FamilyID).
			Where("spent_at IS NULL AND revoked_at IS NULL AND expires_at > ?", dbTime(now)).
			Pluck("token_hash", &live).Error; err != nil {
			return err
		}
		if len(live) != 1 {
			return storage.ErrConflict
		}
		return insertAccessToken(tx, access)
	})
	if err != nil {
		return fmt.Errorf("attach access token: %w", convertErr(err))
	}
	return nil
}

// revokeBatch bounds the rows of one multi-row INSERT.
const revokeBatch = 200

// RevokeRefreshFamily revokes every not-yet-revoked token of the family and
// every access token issued from it that is still recorded (expired or
// not: see revokeFamilies), in one transaction, and reports how many
// refresh tokens it revoked. Running it again is harmless.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) (revoked int64, err error) {
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		revoked, err = revokeFamily(tx, familyID, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke refresh family: %w", convertErr(err))
	}
	return revoked, nil
}

// revokeFamilies revokes, inside tx, every not-yet-revoked refresh token of
// the families and every access token issued from them that is still
// recorded, and reports how many refresh tokens it revoked.
func revokeFamilies(tx *gorm.DB, families []string, now time.Time) (int64, error) {
	var revoked int64
	for batch := range slices.Chunk(families, revokeBatch) {
		res := tx.Model(&refreshTokenModel{}).
			Where("family_id IN ? AND revoked_at IS NULL", batch).
			Update("revoked_at", now)
		if res.Error != nil {
			return 0, res.Error
		}
		revoked += res.RowsAffected

		// Every jti still recorded, whether or not it expired by this
		// clock: a verifier accepts a token until exp plus its leeway by
		// its own clock, and the sweeper keeps a record exactly until no
		// replica can accept its token any more.
		var live []revokedAccessTokenModel
		if err := tx.Model(&issuedAccessTokenModel{}).
			Select("jti", "expires_at").
			Where("family_id IN ?", batch).
			Find(&live).Error; err != nil {
			return 0, err
		}
		if len(live) == 0 {
			continue
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&live, revokeBatch).Error; err != nil {
			return 0, err
		}
	}
	return revoked, nil
}

// revokeFamily is RevokeRefreshFamily inside the caller's transaction.
func revokeFamily(tx *gorm.DB, familyID string, now time.Time) (revoked int64, err error) {
	return revokeFamilies(tx, []string{familyID}, dbTime(now))
}

// RevokeAccessToken records a revoked jti until ExpiresAt. Revoking the
// same jti again is not an error.
func (s *Store) RevokeAccessToken(ctx context.Context, t storage.RevokedAccessToken) error {
	m := revokedAccessTokenModel{JTI: t.JTI, ExpiresAt: dbTimeOrNull(t.ExpiresAt)}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
		return fmt.Errorf("revoke access token: %w", convertErr(err))
	}
	return nil
}

// SpendAccessToken revokes jti as RevokeAccessToken does, but only once:
// storage.ErrConflict when it is revoked already, so that of concurrent
// callers exactly one succeeds. A plain INSERT, because MySQL's upsert
// with clientFoundRows counts a duplicate as a changed row.
func (s *Store) SpendAccessToken(ctx context.Context, t storage.RevokedAccessToken) error {
	m := revokedAccessTokenModel{JTI: t.JTI, ExpiresAt: dbTimeOrNull(t.ExpiresAt)}
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("spend access token: %w", convertErr(err))
	}
	return nil
}

// IsAccessTokenRevoked reports whether jti has been revoked.
func (s *Store) IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error) {
	var one int
	switch err := s.scanOne(ctx, selectRevokedJTI, []any{jti}, &one); {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check revoked access token: %w", err)
	}
	return true, nil
}

// RevokeAccessTokenFamily revokes the refresh family the access token jti
// was issued from, with every access token issued from it, in one
// transaction, and reports how many refresh tokens it revoked. A jti of
// no family (a token minted without a refresh token) revokes nothing.
func (s *Store) RevokeAccessTokenFamily(ctx context.Context, jti string, now time.Time) (revoked int64, err error) {
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		var families []string
		if err := tx.Model(&issuedAccessTokenModel{}).Where("jti = ? AND family_id <> ''", jti).
			Pluck("family_id", &families).Error; err != nil {
			return err
		}
		revoked, err = revokeFamilies(tx, families, dbTime(now))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke access token family: %w", convertErr(err))
	}
	return revoked, nil
}

// AttachToFamilyOf records access in the refresh family the access token
// oldJTI was issued from, so that revoking that family revokes access too
// (an access token exchanged for another, shopKey's refresh). It reports
// the family, or "" when oldJTI belongs to none (nothing is recorded). It
// serializes with revokeFamilies like AttachAccessToken: it locks the
// family's not-yet-revoked refresh tokens, and when there are none — the
// family was revoked first — the result is storage.ErrConflict and
// nothing is recorded.
func (s *Store) AttachToFamilyOf(ctx context.Context, oldJTI string, access storage.IssuedAccessToken) (family string, err error) {
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		var families []string
		if err := tx.Model(&issuedAccessTokenModel{}).Where("jti = ? AND family_id <> ''", oldJTI).
			Pluck("family_id", &families).Error; err != nil {
			return err
		}
		if len(families) == 0 {
			return nil
		}
		var live []string
		if err := tx.Model(&refreshTokenModel{}).Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("family_id = ? AND revoked_at IS NULL", families[0]).
			Pluck("token_hash", &live).Error; err != nil {
			return err
		}
		if len(live) == 0 {
			return storage.ErrConflict
		}
		access.FamilyID = families[0]
		family = families[0]
		return insertAccessToken(tx, access)
	})
	if err != nil {
		return "", fmt.Errorf("attach to family of access token: %w", convertErr(err))
	}
	return family, nil
}
