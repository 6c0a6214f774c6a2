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

// RefreshStore keeps refresh-token families. Spending a token is one
// storage-owned atomic operation (RotateRefreshToken), never read-then-write
// here.
type RefreshStore interface {
	GetRefreshToken(ctx context.Context, tokenHash string) (storage.RefreshToken, error)
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next storage.RefreshToken, access storage.IssuedAccessToken) error
	AttachAccessToken(ctx context.Context, liveHash string, now time.Time, access storage.IssuedAccessToken) error
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) (int64, error)
}

// RefreshConfig holds the refresh grant's dependencies.
type RefreshConfig struct {
	Issuance
	Store     RefreshStore
	Customers customers.Reader
}

// Refresh is the refresh_token grant (RFC 6749 §6) with rotation and reuse
// detection (RFC 9700 §4.14.2), as RefreshPolicy decides.
type Refresh struct {
	cfg RefreshConfig
}

// NewRefresh checks cfg and returns the grant.
func NewRefresh(cfg RefreshConfig) (*Refresh, error) {
	if err := cfg.prepare(); err != nil {
		return nil, err
	}
	if cfg.Store == nil || cfg.Customers == nil {
		return nil, errors.New("grants: the refresh grant needs Store and Customers")
	}
	return &Refresh{cfg: cfg}, nil
}

var errExpired = refusal.New(refusal.InvalidGrant, "The refresh token has expired.")

// Run spends the presented refresh token and issues its successor. A spent
// token presented again within the reuse grace gets the same successor;
// later, it revokes the family. No nonce: it binds an ID token to one
// authentication, and a refresh is none (OIDC Core §12.2).
func (g *Refresh) Run(ctx context.Context, client *clients.Info, req server.TokenRequest) (*server.TokenResponse, error) {
	if req.RefreshToken == "" {
		return nil, refusal.New(refusal.InvalidRequest, "The refresh_token parameter is required.")
	}
	// The spend and the grace are measured to the clock's precision (the
	// store keeps microseconds); what is written and minted is in whole
	// seconds.
	now := g.cfg.now()
	sec := now.Truncate(time.Second)
	hash := tokens.HashToken(req.RefreshToken)
	// Two attempts: a lost race is re-read once and then judged as a retry.
	for range 2 {
		row, err := g.cfg.Store.GetRefreshToken(ctx, hash)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, refusal.ErrInvalidGrant
		}
		if err != nil {
			return nil, fmt.Errorf("load refresh token: %w", err)
		}
		switch g.cfg.Policy.Judge(row, client.ID, now) {
		case Refuse:
			return nil, refusal.ErrInvalidGrant
		case Expired:
			return nil, errExpired
		case Retry:
			return g.retry(ctx, client, row, req, now)
		case Reuse:
			return nil, g.reuse(ctx, client, row, now)
		}
		scope, ok := g.cfg.Policy.NarrowScope(req.Scope, row.Scope)
		if !ok {
			return nil, refusal.ErrInvalidScope
		}
		customer, err := liveCustomer(ctx, g.cfg.Customers, row.ShopKey, row.CustomerID)
		if err != nil {
			return nil, err
		}
		minted, err := g.cfg.mint(ctx, client, &customer, scope, row.AuthTime, "", sec)
		if err != nil {
			return nil, err
		}
		successor := g.cfg.Secrets.Successor(req.RefreshToken)
		next := g.cfg.Policy.Row(FamilyOf(row), tokens.HashToken(successor), sec)
		// Sealed under the presented token, so a retry on a replica that
		// derives successors with another key gets this one.
		if next.PredecessorSeal, err = g.cfg.Secrets.Seal(req.RefreshToken, successor); err != nil {
			return nil, err
		}
		err = g.cfg.Store.RotateRefreshToken(ctx, hash, now, next, issued(minted, row.FamilyID))
		if errors.Is(err, storage.ErrConflict) {
			continue // someone spent it first: judge again as a retry
		}
		if err != nil {
			return nil, fmt.Errorf("rotate refresh token: %w", err)
		}
		return response(client, customer, minted, successor, scope), nil
	}
	return nil, refusal.ErrInvalidGrant
}

// retry answers a spent token presented within the grace with its
// successor, if the successor is still live; otherwise it is reuse. The
// successor is opened from its seal with the presented token, so a retry
// on any replica gets it (rows spent before the seal existed: derived
// again). A storage error is a fault, never a revocation. The new access
// token is attached to the family only while the successor is live, in one
// step with that check: a revocation racing the retry either takes the
// token with it or refuses the retry.
func (g *Refresh) retry(ctx context.Context, client *clients.Info, row storage.RefreshToken, req server.TokenRequest, now time.Time) (*server.TokenResponse, error) {
	next, err := g.cfg.Store.GetRefreshToken(ctx, row.SuccessorHash)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, g.reuse(ctx, client, row, now)
	}
	if err != nil {
		return nil, fmt.Errorf("load successor: %w", err)
	}
	successor, ok := g.successorOf(req.RefreshToken, row, next)
	if !ok || next.SpentAt != nil || next.RevokedAt != nil || !now.Before(next.ExpiresAt) {
		return nil, g.reuse(ctx, client, row, now)
	}
	scope, ok := g.cfg.Policy.NarrowScope(req.Scope, next.Scope)
	if !ok {
		return nil, refusal.ErrInvalidScope
	}
	customer, err := liveCustomer(ctx, g.cfg.Customers, next.ShopKey, next.CustomerID)
	if err != nil {
		return nil, err
	}
	minted, err := g.cfg.mint(ctx, client, &customer, scope, next.AuthTime, "", now.Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	err = g.cfg.Store.AttachAccessToken(ctx, next.TokenHash, now, issued(minted, next.FamilyID))
	if errors.Is(err, storage.ErrConflict) {
		// Revoked, spent or expired since it was read: as if it had been
		// then.
		return nil, g.reuse(ctx, client, row, now)
	}
	if err != nil {
		return nil, fmt.Errorf("attach access token: %w", err)
	}
	return response(client, customer, minted, successor, scope), nil
}

// successorOf is the successor of presented, recorded as row's: opened
// from next's seal, or, for rows sealed by no one, derived again.
func (g *Refresh) successorOf(presented string, row, next storage.RefreshToken) (string, bool) {
	if len(next.PredecessorSeal) > 0 {
		successor, err := g.cfg.Secrets.Open(presented, next.PredecessorSeal, row.SuccessorHash)
		return successor, err == nil
	}
	successor := g.cfg.Secrets.Successor(presented)
	return successor, tokens.HashToken(successor) == row.SuccessorHash
}

// reuse revokes the family of a token presented again outside the grace:
// someone holds a token they should not (RFC 9700 §4.14.2).
func (g *Refresh) reuse(ctx context.Context, client *clients.Info, row storage.RefreshToken, now time.Time) error {
	n, err := g.cfg.Store.RevokeRefreshFamily(ctx, row.FamilyID, now)
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	g.cfg.Logger.WarnContext(ctx, "refresh token reuse: family revoked",
		"client_id", client.ID, "family_id", row.FamilyID, "revoked", n)
	return refusal.ErrInvalidGrant
}
