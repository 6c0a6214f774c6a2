package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ExchangeAccessToken trades a verified, still-live access token of
// clientID for a new one with the same customer, scope and auth_time, and
// revokes the old token's jti. It is the shopKey dialect's `refresh`, a
// dialect without refresh tokens. The new token is minted by the Manager's
// own path (mintAccess, go-oauth2's AccessGenerate), so there is one way
// tokens are made. The customer must still be allowed to sign in.
func (a *Authority) ExchangeAccessToken(ctx context.Context, clientID string, old tokens.AccessClaims) (*TokenResponse, error) {
	m, err := a.manager()
	if err != nil {
		return nil, err
	}
	// A token issued to another client is not this dialect's to renew.
	if old.ClientID != clientID {
		return nil, oautherr.ErrInvalidToken
	}
	c, err := a.clients.GetClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	client := &clients.Info{Client: c}
	customer, err := a.TokenCustomer(ctx, old)
	if err != nil {
		return nil, err
	}
	// Spend the old token first, atomically: of concurrent exchanges of one
	// token exactly one gets a new one (the others find it revoked), and
	// should minting fail the caller signs in again rather than holding two
	// live tokens.
	err = a.revoker.SpendAccessToken(ctx, revocationEntry(old))
	if errors.Is(err, storage.ErrConflict) {
		return nil, oautherr.ErrInvalidToken.WithDescription("The access token was already exchanged or revoked.")
	}
	if err != nil {
		return nil, fmt.Errorf("spend access token: %w", err)
	}
	now := m.clock()
	ti, err := m.mintAccess(ctx, client, customer, old.Scope, now, time.Unix(old.AuthTime, 0).UTC())
	if err != nil {
		return nil, err
	}
	return a.response(ti, client)
}

// manager is the Authority's go-oauth2 Manager.
func (a *Authority) manager() (*Manager, error) {
	m, ok := a.oauth.Manager.(*Manager)
	if !ok {
		return nil, errors.New("server: the go-oauth2 server does not run shopauth's Manager")
	}
	return m, nil
}
