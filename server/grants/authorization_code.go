package grants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// CodeStore redeems authorization codes. Redemption is one storage-owned
// atomic operation; so is recording the tokens issued from a code against
// a concurrent revocation.
type CodeStore interface {
	RedeemAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (storage.AuthorizationCode, error)
	IssueCodeTokens(ctx context.Context, codeHash string, now time.Time, refresh *storage.RefreshToken, access storage.IssuedAccessToken) error
	RevokeAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (int64, error)
}

// AuthorizationCodeConfig holds the authorization_code grant's
// dependencies.
type AuthorizationCodeConfig struct {
	Issuance
	Codes     CodeStore
	Customers customers.Reader
}

// AuthorizationCode redeems a code the authorization endpoint issued (RFC
// 6749 §4.1.3) with PKCE (RFC 7636). go-oauth2's code path double-spends
// codes and matches redirect URIs by suffix; this one does neither.
type AuthorizationCode struct {
	cfg AuthorizationCodeConfig
}

// NewAuthorizationCode checks cfg and returns the grant.
func NewAuthorizationCode(cfg AuthorizationCodeConfig) (*AuthorizationCode, error) {
	if err := cfg.prepare(); err != nil {
		return nil, err
	}
	if cfg.Codes == nil || cfg.Customers == nil {
		return nil, errors.New("grants: the authorization_code grant needs Codes and Customers")
	}
	return &AuthorizationCode{cfg: cfg}, nil
}

// Run spends the code and issues its tokens. The spend is one
// storage-owned conditional UPDATE, so of two concurrent redemptions one
// wins; any later one revokes what the first issued (RFC 6749 §4.1.2).
// Every failure is invalid_grant (RFC 6749 §5.2, RFC 7636 §4.6), without
// saying which check failed.
func (g *AuthorizationCode) Run(ctx context.Context, client *clients.Info, req server.TokenRequest) (*server.TokenResponse, error) {
	if req.Code == "" {
		return nil, refusal.New(refusal.InvalidRequest, "The code parameter is required.")
	}
	now := g.cfg.clock()
	hash := tokens.HashToken(req.Code)
	code, err := g.cfg.Codes.RedeemAuthorizationCode(ctx, hash, now)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, refusal.ErrInvalidGrant
	case errors.Is(err, storage.ErrConflict):
		n, rerr := g.cfg.Codes.RevokeAuthorizationCode(ctx, hash, now)
		if rerr != nil {
			return nil, fmt.Errorf("revoke replayed authorization code: %w", rerr)
		}
		g.cfg.Logger.WarnContext(ctx, "authorization code replayed: its tokens are revoked",
			"client_id", client.ID, "code_client_id", code.ClientID, "family_id", code.FamilyID, "revoked_refresh_tokens", n)
		return nil, refusal.ErrInvalidGrant
	case err != nil:
		return nil, fmt.Errorf("redeem authorization code: %w", err)
	}
	if !codeMatches(code, client, req, now) {
		return nil, refusal.ErrInvalidGrant
	}
	customer, err := liveCustomer(ctx, g.cfg.Customers, code.ShopKey, code.CustomerID)
	if err != nil {
		return nil, err
	}
	minted, err := g.cfg.mint(ctx, client, &customer, code.Scope, code.AuthTime, code.Nonce, now)
	if err != nil {
		return nil, err
	}
	var row *storage.RefreshToken
	var refresh string
	if wantsRefresh(client, code.Scope) {
		f := g.cfg.Policy.NewFamily(code.FamilyID, client, customer, code.Scope, code.AuthTime, now)
		// The family remembers the browser session the code came from:
		// RP-initiated logout of that session ends it.
		f.SessionHash = code.SessionHash
		token, first, err := g.cfg.startFamily(f, now)
		if err != nil {
			return nil, err
		}
		refresh, row = token, &first
	}
	err = g.cfg.Codes.IssueCodeTokens(ctx, hash, now, row, issued(minted, code.FamilyID))
	if errors.Is(err, storage.ErrConflict) {
		// A replay revoked the code between the redemption and now.
		return nil, refusal.ErrInvalidGrant
	}
	if err != nil {
		return nil, fmt.Errorf("record code tokens: %w", err)
	}
	return response(client, customer, minted, refresh, code.Scope), nil
}

// codeMatches checks a redeemed code against the token request: the same
// client, not expired, the identical redirect URI (RFC 6749 §4.1.3), and
// the PKCE verifier (RFC 7636 §4.6). A verifier for a code without a
// challenge is a downgrade attempt (RFC 9700 §4.8.2).
func codeMatches(code storage.AuthorizationCode, client *clients.Info, req server.TokenRequest, now time.Time) bool {
	switch {
	case code.ClientID != client.ID, !now.Before(code.ExpiresAt):
		return false
	case req.RedirectURI != code.RedirectURI:
		return false
	case code.CodeChallenge == "":
		return req.CodeVerifier == ""
	}
	return server.VerifyPKCE(code.CodeChallenge, req.CodeVerifier)
}
