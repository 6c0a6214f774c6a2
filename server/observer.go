package server

import (
	"errors"
	"slices"

	"github.com/shopauth/shopauth/server/oautherr"
)

// Dialects a TokenRequest can arrive in, for metrics. Each legacy adapter
// sets its own; the standard token endpoint sets DialectOAuth2.
const (
	DialectOAuth2  = "oauth2"
	DialectSpryker = "spryker"
	DialectShopKey = "shopkey"
	// dialectOther labels a request whose dialect was not set.
	dialectOther = "other"
	// grantOther labels an unsupported or missing grant_type: the label
	// must not echo what a caller typed, or an attacker could grow the
	// metric without bound.
	grantOther = "other"
)

// Observer is told the outcome of every grant the Authority runs, so that
// metrics see every dialect without each handler counting for itself. Its
// methods must be cheap and safe for concurrent use.
type Observer interface {
	// TokenIssued counts a grant that issued tokens to an authenticated
	// client (a registered, hence bounded, client id).
	TokenIssued(grant, dialect, clientID string)
	// TokenFailed counts a refused or failed grant. reason is the RFC 6749
	// error code, or "server_error" for faults. No client id: an
	// unauthenticated one is whatever the caller sent.
	TokenFailed(grant, dialect, reason string)
}

// nopObserver is the Observer of an Authority configured without one.
type nopObserver struct{}

func (nopObserver) TokenIssued(string, string, string) {}
func (nopObserver) TokenFailed(string, string, string) {}

var _ Observer = nopObserver{}

// observe reports the outcome of req to the observer with bounded labels.
func (a *Authority) observe(req TokenRequest, resp *TokenResponse, err error) {
	grant := req.GrantType
	if !slices.Contains(SupportedGrantTypes(), grant) {
		grant = grantOther
	}
	dialect := req.Dialect
	if dialect == "" {
		dialect = dialectOther
	}
	if err == nil {
		a.observer.TokenIssued(grant, dialect, resp.Client.ID)
		return
	}
	reason := oautherr.ErrServerError.Code
	var oe *oautherr.Error
	if errors.As(err, &oe) {
		reason = oe.Code
	}
	a.observer.TokenFailed(grant, dialect, reason)
}
