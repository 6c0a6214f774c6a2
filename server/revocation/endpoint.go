package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ClientAuthenticator is the shared client-authentication step;
// *clients.Authenticator implements it.
type ClientAuthenticator interface {
	Authenticate(ctx context.Context, creds server.ClientCredentials) (*clients.Info, error)
}

// AccessTokenParser checks an access token's signature, type, issuer and
// time claims — for revocation, until no replica accepts it any more — and,
// apart, the revocation list; *tokens.Verifier implements it.
type AccessTokenParser interface {
	ParseRevocableAccessToken(raw string) (tokens.AccessClaims, error)
	CheckRevocation(ctx context.Context, jti string) error
}

// RefreshStore finds refresh tokens and revokes their families.
type RefreshStore interface {
	GetRefreshToken(ctx context.Context, tokenHash string) (storage.RefreshToken, error)
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) (int64, error)
}

// AccessTokenRevoker records revoked access-token jtis until the tokens
// expire.
type AccessTokenRevoker interface {
	RevokeAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
}

var (
	_ ClientAuthenticator = (*clients.Authenticator)(nil)
	_ AccessTokenParser   = (*tokens.Verifier)(nil)
)

// Config holds the endpoint's dependencies.
type Config struct {
	Clients      ClientAuthenticator
	AccessTokens AccessTokenParser
	Refresh      RefreshStore
	Revoker      AccessTokenRevoker
	// Customers tells whether a token's customer may still use tokens: a
	// token of one who may not is dead.
	Customers customers.Reader
	Now       func() time.Time
	Logger    *slog.Logger
}

// Endpoint is the revocation endpoint (RFC 7009).
type Endpoint struct {
	cfg Config
}

// New checks cfg and returns an Endpoint.
func New(cfg Config) (*Endpoint, error) {
	if cfg.Clients == nil || cfg.AccessTokens == nil || cfg.Refresh == nil || cfg.Revoker == nil || cfg.Customers == nil {
		return nil, errors.New("revocation: Clients, AccessTokens, Refresh, Revoker and Customers are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Endpoint{cfg: cfg}, nil
}

// errForeignToken answers a client that tries to revoke another client's
// live token. RFC 7009 §2.1 has the server refuse the request and inform
// the client of the error, naming no code; unauthorized_client is what
// Fosite answers. Every token that is not live — unknown, expired, spent,
// revoked, its customer gone — answers 200 whoever it was issued to (RFC
// 7009 §2.2), so the refusal only tells a caller who already holds a live
// token that it is not theirs.
var errForeignToken = refusal.New(refusal.UnauthorizedClient, "The token was not issued to this client.")

// Revoke revokes a token of the authenticated client (RFC 7009 §2.1). A
// refresh token revokes its whole family and every access token issued from
// it that has not expired; an access token revokes its jti until it
// expires. A token that is not live, whoever it was issued to, is not an
// error and changes nothing (RFC 7009 §2.2); only another client's live
// token is refused. The hint only decides which kind is looked up first.
func (e *Endpoint) Revoke(ctx context.Context, q server.TokenQuery) error {
	client, err := e.cfg.Clients.Authenticate(ctx, q.Client)
	if err != nil {
		return err
	}
	if q.Token == "" {
		return refusal.New(refusal.InvalidRequest, "The token parameter is required.")
	}
	for _, kind := range server.LookupOrder(q.TokenTypeHint) {
		switch kind {
		case server.TokenTypeHintAccessToken:
			// Parsed without the revocation list (revoking twice is fine)
			// and past this replica's leeway: a replica whose clock lags
			// still accepts the token.
			claims, err := e.cfg.AccessTokens.ParseRevocableAccessToken(q.Token)
			if err != nil {
				continue
			}
			if claims.ClientID != client.ID {
				return e.foreign(e.accessLive(ctx, claims))
			}
			if err := e.cfg.Revoker.RevokeAccessToken(ctx, claims.Revocation()); err != nil {
				return fmt.Errorf("revoke access token: %w", err)
			}
			return nil
		case server.TokenTypeHintRefreshToken:
			row, err := e.cfg.Refresh.GetRefreshToken(ctx, tokens.HashToken(q.Token))
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("load refresh token: %w", err)
			}
			if row.ClientID != client.ID {
				return e.foreign(e.refreshLive(ctx, row))
			}
			// Spent tokens too: presenting any token of a family is
			// asking to end the family.
			if _, err := e.cfg.Refresh.RevokeRefreshFamily(ctx, row.FamilyID, e.cfg.Now().UTC()); err != nil {
				return fmt.Errorf("revoke refresh family: %w", err)
			}
			return nil
		}
	}
	return nil
}

// foreign answers a request about another client's token: refused while
// the token is live, nothing to do once it is dead.
func (e *Endpoint) foreign(live bool, err error) error {
	switch {
	case err != nil:
		return err
	case live:
		return errForeignToken
	}
	return nil
}

// accessLive reports whether a parsed (signed, unexpired) access token is
// still honoured: not revoked, and its customer, if any, still allowed in.
func (e *Endpoint) accessLive(ctx context.Context, c tokens.AccessClaims) (bool, error) {
	err := e.cfg.AccessTokens.CheckRevocation(ctx, c.JTI)
	if errors.Is(err, tokens.ErrInvalidToken) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, forCustomer := c.CustomerID(); !forCustomer {
		return true, nil
	}
	return e.customerLive(customers.LiveOf(ctx, e.cfg.Customers, c))
}

// refreshLive reports whether a refresh token can still be used: neither
// spent, revoked nor expired, and its customer still allowed in.
func (e *Endpoint) refreshLive(ctx context.Context, row storage.RefreshToken) (bool, error) {
	if row.SpentAt != nil || row.RevokedAt != nil || !e.cfg.Now().Before(row.ExpiresAt) {
		return false, nil
	}
	return e.customerLive(customers.Live(ctx, e.cfg.Customers, row.ShopKey, row.CustomerID))
}

func (e *Endpoint) customerLive(_ storage.Customer, err error) (bool, error) {
	if errors.Is(err, customers.ErrGone) {
		return false, nil
	}
	return err == nil, err
}
