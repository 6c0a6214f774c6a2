// Package userinfo answers the OIDC UserInfo endpoint (OIDC Core §5.3):
// the claims a live access token's scopes release about its customer.
package userinfo
