package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// AccessTokenRevoker records revoked access-token jtis until the tokens
// expire.
type AccessTokenRevoker interface {
	RevokeAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
	// SpendAccessToken revokes like RevokeAccessToken but fails with
	// storage.ErrConflict when the jti is revoked already.
	SpendAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
}

// TokenQuery is a client's request about one token: revoke it (RFC 7009
// §2.1) or introspect it (RFC 7662 §2.1). Empty strings mean absent.
type TokenQuery struct {
	Client        ClientCredentials
	Token         string
	TokenTypeHint string // TokenTypeHintAccessToken or TokenTypeHintRefreshToken; anything else is ignored
}

// errForeignToken answers a client that tries to revoke another client's
// token. RFC 7009 §2.1 has the server refuse the request and inform the
// client of the error, naming no code; unauthorized_client is what Fosite
// answers. Unknown, expired and already revoked tokens still answer 200
// (RFC 7009 §2.2), so the refusal only tells a caller who already holds a
// live token that it is not theirs.
var errForeignToken = oautherr.ErrUnauthorizedClient.WithDescription("The token was not issued to this client.")

// Revoke revokes a token of the authenticated client (RFC 7009 §2.1). A
// refresh token revokes its whole family and every access token issued from
// it that has not expired; an access token revokes its jti until it
// expires. An unknown, malformed, expired or already revoked token is not an
// error (RFC 7009 §2.2). The hint only decides which kind is looked up
// first.
func (a *Authority) Revoke(ctx context.Context, q TokenQuery) error {
	client, err := a.authenticateClient(ctx, q.Client, false)
	if err != nil {
		return err
	}
	if q.Token == "" {
		return oautherr.ErrInvalidRequest.WithDescription("The token parameter is required.")
	}
	for _, kind := range lookupOrder(q.TokenTypeHint) {
		switch kind {
		case TokenTypeHintAccessToken:
			// Parsed without the revocation list (revoking twice is fine)
			// and past this replica's leeway: a replica whose clock lags
			// still accepts the token.
			claims, err := a.verifier.ParseRevocableAccessToken(q.Token)
			if err != nil {
				continue
			}
			if claims.ClientID != client.ID {
				return errForeignToken
			}
			return a.RevokeAccessToken(ctx, claims)
		case TokenTypeHintRefreshToken:
			row, err := a.refresh.GetRefreshToken(ctx, tokens.HashToken(q.Token))
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("load refresh token: %w", err)
			}
			if row.ClientID != client.ID {
				return errForeignToken
			}
			// Spent tokens too: presenting any token of a family is
			// asking to end the family.
			if _, err := a.refresh.RevokeRefreshFamily(ctx, row.FamilyID, a.now().UTC()); err != nil {
				return fmt.Errorf("revoke refresh family: %w", err)
			}
			return nil
		}
	}
	return nil
}

// lookupOrder is the order in which token kinds are searched: the hinted
// kind first, then the other (RFC 7009 §2.1, RFC 7662 §2.1). An unknown
// hint is ignored rather than refused.
func lookupOrder(hint string) []string {
	if hint == TokenTypeHintRefreshToken {
		return []string{TokenTypeHintRefreshToken, TokenTypeHintAccessToken}
	}
	return []string{TokenTypeHintAccessToken, TokenTypeHintRefreshToken}
}

// RevokeAccessToken revokes one verified access token by its jti; it stays
// on the revocation list until it would have expired anyway.
func (a *Authority) RevokeAccessToken(ctx context.Context, c tokens.AccessClaims) error {
	if err := a.revoker.RevokeAccessToken(ctx, revocationEntry(c)); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}

// revocationEntry lists c's jti until the token would have expired anyway.
func revocationEntry(c tokens.AccessClaims) storage.RevokedAccessToken {
	return storage.RevokedAccessToken{JTI: c.JTI, ExpiresAt: time.Unix(c.ExpiresAt, 0).UTC()}
}
