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

type authorizationCodeModel struct {
	CodeHash       string `gorm:"column:code_hash;primaryKey"`
	ClientID       string `gorm:"column:client_id"`
	CustomerID     uint64 `gorm:"column:customer_id"`
	ShopKey        string `gorm:"column:shop_key"`
	RedirectURI    string `gorm:"column:redirect_uri"`
	Scope          string `gorm:"column:scope"`
	Nonce          string `gorm:"column:nonce"`
	CodeChallenge  string `gorm:"column:code_challenge"`
	AuthTime       *time.Time
	FamilyID       string `gorm:"column:family_id"`
	IssuedAt       *time.Time
	ExpiresAt      *time.Time
	RedeemedAt     *time.Time
	TokensIssuedAt *time.Time
	RevokedAt      *time.Time
	SessionHash    string `gorm:"column:session_hash"`
}

func (authorizationCodeModel) TableName() string { return "authorization_codes" }

type consentModel struct {
	CustomerID uint64 `gorm:"column:customer_id;primaryKey;autoIncrement:false"`
	ClientID   string `gorm:"column:client_id;primaryKey"`
	Scopes     string `gorm:"column:scopes"`
	GrantedAt  time.Time
}

func (consentModel) TableName() string { return "consents" }

type browserSessionModel struct {
	IDHash     string `gorm:"column:id_hash;primaryKey"`
	ShopKey    string `gorm:"column:shop_key"`
	CustomerID uint64 `gorm:"column:customer_id"`
	AuthTime   *time.Time
	ExpiresAt  *time.Time
}

func (browserSessionModel) TableName() string { return "browser_sessions" }

// CreateAuthorizationCode stores a new code; storage.ErrConflict if its
// hash exists.
func (s *Store) CreateAuthorizationCode(ctx context.Context, c storage.AuthorizationCode) error {
	m := authorizationCodeModel{
		CodeHash: c.CodeHash, ClientID: c.ClientID, CustomerID: c.CustomerID, ShopKey: c.ShopKey,
		RedirectURI: c.RedirectURI, Scope: c.Scope, Nonce: c.Nonce, CodeChallenge: c.CodeChallenge,
		AuthTime: dbTimeOrNull(c.AuthTime), FamilyID: c.FamilyID, IssuedAt: dbTimeOrNull(c.IssuedAt),
		ExpiresAt: dbTimeOrNull(c.ExpiresAt), RedeemedAt: dbTimePtr(c.RedeemedAt),
		TokensIssuedAt: dbTimePtr(c.TokensIssuedAt), RevokedAt: dbTimePtr(c.RevokedAt), SessionHash: c.SessionHash,
	}
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("create authorization code: %w", convertErr(err))
	}
	return nil
}

// RedeemAuthorizationCode marks the code redeemed at now with one
// conditional UPDATE and returns it. Of concurrent redemptions exactly one
// gets a nil error; the others, and every later one, get the code with
// storage.ErrConflict, so the caller can revoke what the first one issued.
// An unknown hash is storage.ErrNotFound. Expiry and bindings are the
// caller's to check: a redeemed code is spent whatever the outcome.
func (s *Store) RedeemAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (storage.AuthorizationCode, error) {
	db := s.db.WithContext(ctx)
	res := db.Model(&authorizationCodeModel{}).
		Where("code_hash = ? AND redeemed_at IS NULL", codeHash).
		Update("redeemed_at", dbTime(now))
	if res.Error != nil {
		return storage.AuthorizationCode{}, fmt.Errorf("redeem authorization code: %w", convertErr(res.Error))
	}
	var m authorizationCodeModel
	if err := db.Where("code_hash = ?", codeHash).Take(&m).Error; err != nil {
		return storage.AuthorizationCode{}, convertErr(err)
	}
	if res.RowsAffected != 1 {
		return m.toStorage(), storage.ErrConflict
	}
	return m.toStorage(), nil
}

// IssueCodeTokens records the tokens issued from a redeemed code: the
// access token's jti and, when one was issued, the first refresh token of
// the code's family. It fails with storage.ErrConflict, writing nothing,
// when tokens were already recorded or the code was revoked meanwhile: the
// code row is updated first, so this and RevokeAuthorizationCode serialize
// on it and a revocation never misses tokens issued in a race.
func (s *Store) IssueCodeTokens(ctx context.Context, codeHash string, now time.Time, refresh *storage.RefreshToken, access storage.IssuedAccessToken) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&authorizationCodeModel{}).
			Where("code_hash = ? AND redeemed_at IS NOT NULL AND tokens_issued_at IS NULL AND revoked_at IS NULL", codeHash).
			Update("tokens_issued_at", dbTime(now))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return storage.ErrConflict
		}
		if refresh == nil {
			return insertAccessToken(tx, access)
		}
		return insertTokens(tx, *refresh, access)
	})
	if err != nil {
		return fmt.Errorf("issue code tokens: %w", convertErr(err))
	}
	return nil
}

// RevokeAuthorizationCode revokes a code and every token issued from it
// (its refresh family and the access tokens recorded with it), in one
// transaction, and reports how many refresh tokens it revoked. Revoking a
// revoked code again is harmless; an unknown hash is storage.ErrNotFound.
func (s *Store) RevokeAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (revoked int64, err error) {
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		// The UPDATE comes first: it locks the code row against a
		// concurrent IssueCodeTokens before the family is read.
		if err := tx.Model(&authorizationCodeModel{}).
			Where("code_hash = ? AND revoked_at IS NULL", codeHash).
			Update("revoked_at", dbTime(now)).Error; err != nil {
			return err
		}
		var m authorizationCodeModel
		if err := tx.Select("family_id").Where("code_hash = ?", codeHash).Take(&m).Error; err != nil {
			return err
		}
		revoked, err = revokeFamily(tx, m.FamilyID, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke authorization code: %w", convertErr(err))
	}
	return revoked, nil
}

func (m authorizationCodeModel) toStorage() storage.AuthorizationCode {
	return storage.AuthorizationCode{
		CodeHash: m.CodeHash, ClientID: m.ClientID, CustomerID: m.CustomerID, ShopKey: m.ShopKey,
		RedirectURI: m.RedirectURI, Scope: m.Scope, Nonce: m.Nonce, CodeChallenge: m.CodeChallenge,
		AuthTime: fromDBOrZero(m.AuthTime), FamilyID: m.FamilyID, IssuedAt: fromDBOrZero(m.IssuedAt),
		ExpiresAt: fromDBOrZero(m.ExpiresAt), RedeemedAt: fromDBPtr(m.RedeemedAt),
		TokensIssuedAt: fromDBPtr(m.TokensIssuedAt), RevokedAt: fromDBPtr(m.RevokedAt), SessionHash: m.SessionHash,
	}
}

// RevokeSessionRefreshTokens ends what one browser session produced: it
// revokes every authorization code issued in the session (so a code not
// yet redeemed, or redeemed but not yet answered, issues nothing any more)
// and every refresh family started from those codes, with the access
// tokens issued from them, in one transaction. The families are found by
// their own session_hash too, so they are found long after the codes were
// swept. It reports how many refresh tokens it revoked; an empty
// sessionHash revokes nothing.
func (s *Store) RevokeSessionRefreshTokens(ctx context.Context, sessionHash string, now time.Time) (revoked int64, err error) {
	if sessionHash == "" {
		return 0, nil
	}
	now = dbTime(now)
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		// The UPDATE comes first: it locks the codes against a concurrent
		// IssueCodeTokens before the families are read (as
		// RevokeAuthorizationCode does).
		if err := tx.Model(&authorizationCodeModel{}).
			Where("session_hash = ? AND revoked_at IS NULL", sessionHash).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		var fromCodes, fromTokens []string
		if err := tx.Model(&authorizationCodeModel{}).Where("session_hash = ?", sessionHash).
			Pluck("family_id", &fromCodes).Error; err != nil {
			return err
		}
		if err := tx.Model(&refreshTokenModel{}).Distinct("family_id").
			Where("session_hash = ? AND revoked_at IS NULL", sessionHash).
			Pluck("family_id", &fromTokens).Error; err != nil {
			return err
		}
		families := slices.Compact(slices.Sorted(slices.Values(append(fromCodes, fromTokens...))))
		families = slices.DeleteFunc(families, func(f string) bool { return f == "" })
		revoked, err = revokeFamilies(tx, families, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke session refresh tokens: %w", convertErr(err))
	}
	return revoked, nil
}

// SaveConsent stores a customer's consent to a client's scopes, replacing
// an earlier one for the same customer and client.
func (s *Store) SaveConsent(ctx context.Context, c storage.Consent) error {
	m := consentModel{CustomerID: c.CustomerID, ClientID: c.ClientID, Scopes: encodeList(c.Scopes), GrantedAt: dbTime(c.GrantedAt)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "customer_id"}, {Name: "client_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"scopes", "granted_at"}),
	}).Create(&m).Error
	if err != nil {
		return fmt.Errorf("save consent: %w", convertErr(err))
	}
	return nil
}

// GetConsent returns the customer's consent for the client, or
// storage.ErrNotFound.
func (s *Store) GetConsent(ctx context.Context, customerID uint64, clientID string) (storage.Consent, error) {
	var m consentModel
	if err := s.db.WithContext(ctx).Where("customer_id = ? AND client_id = ?", customerID, clientID).Take(&m).Error; err != nil {
		return storage.Consent{}, convertErr(err)
	}
	scopes, err := decodeList("consents.scopes", m.Scopes)
	if err != nil {
		return storage.Consent{}, err
	}
	return storage.Consent{CustomerID: m.CustomerID, ClientID: m.ClientID, Scopes: scopes, GrantedAt: fromDB(m.GrantedAt)}, nil
}

// RevokeConsent forgets the customer's consent for the client; revoking a
// consent that does not exist is storage.ErrNotFound.
func (s *Store) RevokeConsent(ctx context.Context, customerID uint64, clientID string) error {
	res := s.db.WithContext(ctx).Where("customer_id = ? AND client_id = ?", customerID, clientID).Delete(&consentModel{})
	if res.Error != nil {
		return fmt.Errorf("revoke consent: %w", convertErr(res.Error))
	}
	if res.RowsAffected == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// CreateBrowserSession stores a new session; storage.ErrConflict if its
// hash exists.
func (s *Store) CreateBrowserSession(ctx context.Context, bs storage.BrowserSession) error {
	m := browserSessionModel{
		IDHash: bs.IDHash, ShopKey: bs.ShopKey, CustomerID: bs.CustomerID,
		AuthTime: dbTimeOrNull(bs.AuthTime), ExpiresAt: dbTimeOrNull(bs.ExpiresAt),
	}
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("create browser session: %w", convertErr(err))
	}
	return nil
}

// GetBrowserSession returns the session with the given hash, expired or
// not, or storage.ErrNotFound.
func (s *Store) GetBrowserSession(ctx context.Context, idHash string) (storage.BrowserSession, error) {
	var m browserSessionModel
	if err := s.db.WithContext(ctx).Where("id_hash = ?", idHash).Take(&m).Error; err != nil {
		return storage.BrowserSession{}, convertErr(err)
	}
	return storage.BrowserSession{
		IDHash: m.IDHash, ShopKey: m.ShopKey, CustomerID: m.CustomerID,
		AuthTime: fromDBOrZero(m.AuthTime), ExpiresAt: fromDBOrZero(m.ExpiresAt),
	}, nil
}

// DeleteBrowserSession ends a session. Ending one that does not exist is
// not an error: logout is idempotent (RP-Initiated Logout §4).
func (s *Store) DeleteBrowserSession(ctx context.Context, idHash string) error {
	err := s.db.WithContext(ctx).Where("id_hash = ?", idHash).Delete(&browserSessionModel{}).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("delete browser session: %w", convertErr(err))
	}
	return nil
}
