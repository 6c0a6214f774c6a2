package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// redeemCode spends an authorization code and issues its tokens (RFC 6749
// §4.1.3). The spend is one storage-owned conditional UPDATE, so of two
// concurrent redemptions one wins; any later one revokes what the first
// issued (RFC 6749 §4.1.2). Every failure is invalid_grant (RFC 6749 §5.2,
// RFC 7636 §4.6), without saying which check failed.
func (m *Manager) redeemCode(ctx context.Context, client *clients.Info, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	now := m.clock()
	hash := tokens.HashToken(tgr.Code)
	code, err := m.codes.RedeemAuthorizationCode(ctx, hash, now)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, oautherr.ErrInvalidGrant
	case errors.Is(err, storage.ErrConflict):
		n, rerr := m.codes.RevokeAuthorizationCode(ctx, hash, now)
		if rerr != nil {
			return nil, fmt.Errorf("revoke replayed authorization code: %w", rerr)
		}
		m.logger.WarnContext(ctx, "authorization code replayed: its tokens are revoked",
			"client_id", client.ID, "code_client_id", code.ClientID, "family_id", code.FamilyID, "revoked_refresh_tokens", n)
		return nil, oautherr.ErrInvalidGrant
	case err != nil:
		return nil, fmt.Errorf("redeem authorization code: %w", err)
	}
	switch {
	case code.ClientID != client.ID, !now.Before(code.ExpiresAt):
		return nil, oautherr.ErrInvalidGrant
	// RFC 6749 §4.1.3: identical to the authorization request's.
	case tgr.RedirectURI != code.RedirectURI:
		return nil, oautherr.ErrInvalidGrant
	// RFC 7636 §4.6; a verifier for a code without a challenge is a
	// downgrade attempt (RFC 9700 §4.8.2).
	case code.CodeChallenge == "" && tgr.CodeVerifier != "",
		code.CodeChallenge != "" && !verifyPKCE(code.CodeChallenge, tgr.CodeVerifier):
		return nil, oautherr.ErrInvalidGrant
	}
	customer, err := m.liveCustomer(ctx, storage.RefreshToken{ShopKey: code.ShopKey, CustomerID: code.CustomerID})
	if err != nil {
		return nil, err
	}
	ti, err := m.mintAccess(ctx, client, customer, code.Scope, now, code.AuthTime)
	if err != nil {
		return nil, err
	}
	ti.nonce = code.Nonce
	var row *storage.RefreshToken
	var refresh string
	if slices.Contains(strings.Fields(code.Scope), ScopeOfflineAccess) && client.AllowsGrant(GrantRefreshToken) {
		if refresh, err = m.secrets.New(); err != nil {
			return nil, err
		}
		familyEnd := now.Add(client.RefreshTTL(m.refreshTTL))
		row = &storage.RefreshToken{
			TokenHash: tokens.HashToken(refresh), FamilyID: code.FamilyID, ClientID: client.ID,
			CustomerID: customer.ID, ShopKey: customer.ShopKey, Scope: code.Scope,
			AuthTime: code.AuthTime, IssuedAt: now, ExpiresAt: m.refreshExpiry(now, familyEnd), FamilyExpiresAt: familyEnd,
		}
	}
	err = m.codes.IssueCodeTokens(ctx, hash, now, row, issuedAccess(ti, code.FamilyID))
	if errors.Is(err, storage.ErrConflict) {
		// A replay revoked the code between the redemption and now.
		return nil, oautherr.ErrInvalidGrant
	}
	if err != nil {
		return nil, fmt.Errorf("record code tokens: %w", err)
	}
	if row != nil {
		setRefresh(ti, refresh, now, row.ExpiresAt)
	}
	return ti, nil
}

// clientTokens issues a client_credentials access token: the client is its
// own subject and there is no customer.
func (m *Manager) clientTokens(ctx context.Context, client *clients.Info, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	now := m.clock()
	ti := &issuedToken{Token: models.NewToken()}
	ti.SetClientID(client.ID)
	ti.SetUserID(client.ID)
	ti.SetScope(tgr.Scope)
	ti.SetAccessCreateAt(now)
	ti.SetAccessExpiresIn(client.AccessTTL(m.accessTTL))
	tokens.SetSubject(ti, tokens.Subject{ShopKey: client.ShopKey})
	access, _, err := m.minter.Token(ctx, &oauth2.GenerateBasic{
		Client: client, UserID: client.ID, CreateAt: now, TokenInfo: ti,
	}, false)
	if err != nil {
		return nil, err
	}
	ti.SetAccess(access)
	return ti, nil
}
