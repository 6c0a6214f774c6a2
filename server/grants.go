package server

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/oautherr"
)

// codeGrant redeems an authorization code (RFC 6749 §4.1.3). go-oauth2
// dispatches it to the Manager, which redeems atomically and matches the
// redirect URI exactly; go-oauth2's own code path does neither.
func (a *Authority) codeGrant(ctx context.Context, client *clients.Info, req TokenRequest) (*TokenResponse, error) {
	if req.Code == "" {
		return nil, oautherr.ErrInvalidRequest.WithDescription("The code parameter is required.")
	}
	ctx = withGrant(ctx, grantContext{client: client})
	ti, err := a.oauth.GetAccessToken(ctx, oauth2.AuthorizationCode, &oauth2.TokenGenerateRequest{
		ClientID:     client.ID,
		Code:         req.Code,
		RedirectURI:  req.RedirectURI,
		CodeVerifier: req.CodeVerifier,
	})
	if err != nil {
		return nil, translate(err)
	}
	return a.response(ti, client)
}

// clientCredentialsGrant issues an access token to a confidential client
// for itself (RFC 6749 §4.4): `sub` is the client id (RFC 9068 §2.2), no
// refresh token (§4.4.3).
func (a *Authority) clientCredentialsGrant(ctx context.Context, client *clients.Info, req TokenRequest) (*TokenResponse, error) {
	if client.IsPublic() {
		return nil, oautherr.ErrUnauthorizedClient.WithDescription("The client_credentials grant is for confidential clients only.")
	}
	// RFC 9700 §4.15.1: a client id that reads like a customer id would
	// make the client's tokens indistinguishable from the customer's.
	if _, err := strconv.ParseUint(client.ID, 10, 64); err == nil {
		return nil, oautherr.ErrUnauthorizedClient.WithDescription("A numeric client id cannot be a token subject.")
	}
	scopes, ok := client.GrantScope(req.Scope)
	if !ok {
		return nil, oautherr.ErrInvalidScope
	}
	// Without an end user there is no ID token and nothing to keep
	// offline: those scopes are dropped from the default set and refused
	// when asked for.
	customerOnly := func(s string) bool { return s == ScopeOpenID || s == ScopeOfflineAccess }
	if strings.TrimSpace(req.Scope) != "" && slices.ContainsFunc(scopes, customerOnly) {
		return nil, oautherr.ErrInvalidScope.WithDescription("openid and offline_access need a customer.")
	}
	scopes = slices.DeleteFunc(scopes, customerOnly)
	ctx = withGrant(ctx, grantContext{client: client})
	ti, err := a.oauth.GetAccessToken(ctx, oauth2.ClientCredentials, &oauth2.TokenGenerateRequest{
		ClientID: client.ID,
		Scope:    strings.Join(scopes, " "),
	})
	if err != nil {
		return nil, translate(err)
	}
	return a.response(ti, client)
}
