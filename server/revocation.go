package server

import (
	"context"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// AccessTokenRevoker records revoked access-token jtis until the tokens
// expire.
type AccessTokenRevoker interface {
	RevokeAccessToken(ctx context.Context, t storage.RevokedAccessToken) error
}

// RevokeAccessToken revokes one verified access token by its jti; it stays
// on the revocation list until it would have expired anyway.
func (a *Authority) RevokeAccessToken(ctx context.Context, c tokens.AccessClaims) error {
	if err := a.revoker.RevokeAccessToken(ctx, storage.RevokedAccessToken{
		JTI: c.JTI, ExpiresAt: time.Unix(c.ExpiresAt, 0).UTC(),
	}); err != nil {
		return fmt.Errorf("revoke access token: %w", err)
	}
	return nil
}
