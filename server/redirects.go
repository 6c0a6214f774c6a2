package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
)

// CheckClientRedirects checks a client registration's redirect URIs: a
// client of the authorization code flow needs at least one and a shop to
// sign customers in to, and every URI must be one the authorization
// endpoint may redirect to.
func CheckClientRedirects(grants []string, shopKey string, redirectURIs, postLogoutURIs []string) error {
	if slices.Contains(grants, GrantAuthorizationCode) {
		if len(redirectURIs) == 0 {
			return errors.New("the authorization_code grant needs at least one --redirect-uri")
		}
		if shopKey == "" {
			return errors.New("the authorization_code grant needs a --shop: its login page is a shop's")
		}
	}
	for _, u := range append(slices.Clone(redirectURIs), postLogoutURIs...) {
		if err := CheckRedirectURI(u); err != nil {
			return fmt.Errorf("redirect URI %q: %w", u, err)
		}
	}
	return nil
}

// CheckRedirectURI accepts an absolute URI without a fragment (RFC 6749
// §3.1.2) that is https, or http on a loopback host for native apps and
// local development (RFC 9700 §2.6, RFC 8252 §7.3). Custom schemes of
// native apps (com.example.app:/cb) are accepted too (RFC 8252 §7.1).
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URI")
	case !u.IsAbs():
		return errors.New("not absolute")
	case u.Fragment != "" || u.RawFragment != "" || len(raw) > 0 && raw[len(raw)-1] == '#':
		return errors.New("has a fragment")
	case u.Scheme == "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return errors.New("http is only allowed on a loopback host; use https")
		}
	case u.Scheme == "https":
		if u.Host == "" {
			return errors.New("has no host")
		}
	case u.Scheme == "javascript" || u.Scheme == "data" || u.Scheme == "file":
		return fmt.Errorf("the %s scheme is not a redirect target", u.Scheme)
	}
	return nil
}
