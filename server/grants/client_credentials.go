package grants

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

// ClientCredentials issues an access token to a confidential client for
// itself (RFC 6749 §4.4): `sub` is the client id (RFC 9068 §2.2), no
// refresh token (§4.4.3), no ID token.
type ClientCredentials struct {
	issuance Issuance
}

// NewClientCredentials checks is and returns the grant.
func NewClientCredentials(is Issuance) (*ClientCredentials, error) {
	if err := is.prepare(); err != nil {
		return nil, err
	}
	return &ClientCredentials{issuance: is}, nil
}

// Run issues the client's token.
func (g *ClientCredentials) Run(ctx context.Context, client *clients.Info, req server.TokenRequest) (*server.TokenResponse, error) {
	if client.IsPublic() {
		return nil, refusal.New(refusal.UnauthorizedClient, "The client_credentials grant is for confidential clients only.")
	}
	// RFC 9700 §4.15.1: a client id that reads like a customer id would
	// make the client's tokens indistinguishable from the customer's.
	if _, err := strconv.ParseUint(client.ID, 10, 64); err == nil {
		return nil, refusal.New(refusal.UnauthorizedClient, "A numeric client id cannot be a token subject.")
	}
	scopes, ok := client.GrantScope(req.Scope)
	if !ok {
		return nil, refusal.ErrInvalidScope
	}
	// Without an end user there is no ID token and nothing to keep
	// offline: those scopes are dropped from the default set and refused
	// when asked for.
	customerOnly := func(s string) bool { return s == server.ScopeOpenID || s == server.ScopeOfflineAccess }
	if strings.TrimSpace(req.Scope) != "" && slices.ContainsFunc(scopes, customerOnly) {
		return nil, refusal.New(refusal.InvalidScope, "openid and offline_access need a customer.")
	}
	scope := strings.Join(slices.DeleteFunc(scopes, customerOnly), " ")
	now := g.issuance.clock()
	minted, err := g.issuance.mint(ctx, client, nil, scope, time.Time{}, "", now)
	if err != nil {
		return nil, err
	}
	return response(client, storage.Customer{}, minted, "", scope), nil
}
