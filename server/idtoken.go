package server

import (
	"slices"
	"strings"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// userClaims are the claims about customer that scopes release (OIDC Core
// §5.4): email and email_verified with `email`, name with `profile`. The
// ID token and UserInfo both use it, so their `sub` is always equal (OIDC
// Core §5.3.2).
func userClaims(customer storage.Customer, scopes []string) tokens.UserClaims {
	u := tokens.UserClaims{Subject: customerSubject(customer.ID), Shop: customer.ShopKey}
	if slices.Contains(scopes, ScopeEmail) {
		verified := customer.Verified()
		u.Email, u.EmailVerified = customer.Email, &verified
	}
	if slices.Contains(scopes, ScopeProfile) {
		u.Name = customer.Name
	}
	return u
}

// idToken mints the ID token of a grant whose scope has openid, or returns
// "" (OIDC Core §3.1.3.3). The nonce is the one the grant recorded on the
// token (the authorization request's, or the password grant's parameter). It lives as long as the access token issued with
// it. On refresh, iss, sub and aud are the login's, iat is new and
// auth_time stays the login's (OIDC Core §12.2).
func (a *Authority) idToken(ti oauth2.TokenInfo, client *clients.Info) (string, error) {
	scopes := strings.Fields(ti.GetScope())
	issued, ok := ti.(*issuedToken)
	if !ok || !slices.Contains(scopes, ScopeOpenID) {
		return "", nil
	}
	iat := ti.GetAccessCreateAt().UTC()
	return a.minter.IDToken(client.IDTokenAlg, tokens.IDClaims{
		Audience:   tokens.Audience{client.ID},
		IssuedAt:   iat.Unix(),
		ExpiresAt:  iat.Add(ti.GetAccessExpiresIn()).Unix(),
		AuthTime:   issued.authTime.Unix(),
		Nonce:      issued.nonce,
		UserClaims: userClaims(issued.customer, scopes),
	})
}
