package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// Introspection is the RFC 7662 §2.2 answer about one token. When Active is
// false nothing else is set: the reason is not told (RFC 7662 §2.2).
type Introspection struct {
	Active    bool
	Scope     string
	ClientID  string
	Username  string // the customer's e-mail address
	TokenType string // "Bearer" for access tokens, "refresh_token" for refresh tokens
	ExpiresAt int64
	IssuedAt  int64
	NotBefore int64
	Subject   string
	Audience  []string
	Issuer    string
	JTI       string
}

// TokenTypeRefresh is the token_type introspection reports for refresh
// tokens, which have no RFC 6749 §7.1 access token type.
const TokenTypeRefresh = "refresh_token"

var inactive = Introspection{}

// errPublicIntrospection: RFC 7662 §2.1 requires authorization to stop
// token scanning, and a public client proves nothing.
var errPublicIntrospection = oautherr.ErrInvalidClient.WithDescription("Introspection requires a confidential client.")

// Introspect tells an authenticated confidential client whether a token is
// active (RFC 7662). Expired, revoked, spent, foreign-signed and malformed
// tokens are inactive, as are tokens whose customer is gone or disabled,
// and tokens the caller may not see: an access token is visible to the
// client it was issued to and to the clients named in its aud (the resource
// servers, RFC 7662 §4); a refresh token only to its own client.
func (a *Authority) Introspect(ctx context.Context, q TokenQuery) (Introspection, error) {
	client, err := a.authenticateClient(ctx, q.Client, false)
	if err != nil {
		return inactive, err
	}
	if client.IsPublic() {
		return inactive, errPublicIntrospection
	}
	if q.Token == "" {
		return inactive, oautherr.ErrInvalidRequest.WithDescription("The token parameter is required.")
	}
	for _, kind := range lookupOrder(q.TokenTypeHint) {
		var (
			result Introspection
			found  bool
			err    error
		)
		switch kind {
		case TokenTypeHintAccessToken:
			result, found, err = a.introspectAccess(ctx, client, q.Token)
		case TokenTypeHintRefreshToken:
			result, found, err = a.introspectRefresh(ctx, client, q.Token)
		}
		if err != nil || found {
			return result, err
		}
	}
	return inactive, nil
}

// introspectAccess reports found=false when raw is no live access token of
// this issuer (signature, type, time claims and revocation are checked).
// A customer's token costs one read: the customer and the revocation list
// together.
func (a *Authority) introspectAccess(ctx context.Context, caller *clients.Info, raw string) (Introspection, bool, error) {
	c, err := a.verifier.ParseAccessToken(raw)
	if errors.Is(err, tokens.ErrInvalidToken) {
		return inactive, false, nil
	}
	if err != nil {
		return inactive, false, err
	}
	if c.ClientID != caller.ID && !c.Audience.Contains(caller.ID) {
		return inactive, true, nil
	}
	var username string
	switch id, forCustomer := c.CustomerID(); {
	case forCustomer:
		holder, err := a.customers.GetTokenHolder(ctx, c.Shop, id, c.JTI)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return inactive, true, nil
		case err != nil:
			return inactive, false, fmt.Errorf("load customer: %w", err)
		case holder.Revoked:
			return inactive, false, nil
		case !holder.MayUseTokens():
			return inactive, true, nil
		}
		username = holder.Email
	case c.Subject != c.ClientID:
		// Neither a customer's token nor a client's own: nobody it can
		// speak for.
		return inactive, true, nil
	default:
		// A client_credentials token speaks for its client (sub =
		// client_id): only the revocation list applies.
		err := a.verifier.CheckRevocation(ctx, c.JTI)
		if errors.Is(err, tokens.ErrInvalidToken) {
			return inactive, false, nil
		}
		if err != nil {
			return inactive, false, err
		}
	}
	return Introspection{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, Username: username, TokenType: "Bearer",
		ExpiresAt: c.ExpiresAt, IssuedAt: c.IssuedAt, NotBefore: c.NotBefore,
		Subject: c.Subject, Audience: c.Audience, Issuer: c.Issuer, JTI: c.JTI,
	}, true, nil
}

// introspectRefresh reports found=false when no refresh token has raw's
// hash.
func (a *Authority) introspectRefresh(ctx context.Context, caller *clients.Info, raw string) (Introspection, bool, error) {
	row, err := a.refresh.GetRefreshToken(ctx, tokens.HashToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return inactive, false, nil
	}
	if err != nil {
		return inactive, false, fmt.Errorf("load refresh token: %w", err)
	}
	now := a.now()
	if row.ClientID != caller.ID || row.SpentAt != nil || row.RevokedAt != nil || !now.Before(row.ExpiresAt) {
		return inactive, true, nil
	}
	customer, err := a.liveCustomer(ctx, row.ShopKey, row.CustomerID)
	if errors.Is(err, oautherr.ErrInvalidToken) {
		return inactive, true, nil
	}
	if err != nil {
		return inactive, false, err
	}
	return Introspection{
		Active: true, Scope: row.Scope, ClientID: row.ClientID, Username: customer.Email, TokenType: TokenTypeRefresh,
		ExpiresAt: row.ExpiresAt.Unix(), IssuedAt: row.IssuedAt.Unix(), NotBefore: row.IssuedAt.Unix(),
		Subject: customerSubject(row.CustomerID), Audience: []string{row.ClientID}, Issuer: a.issuer,
	}, true, nil
}
