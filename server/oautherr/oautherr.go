package oautherr

import (
	"errors"
	"net/http"
	"strings"

	"github.com/shopauth/shopauth/server/refusal"
)

// Error is an OAuth 2.0 error response: a code from the RFC registry, a
// human-readable description restricted to the RFC's character set, the
// HTTP status it is answered with, and an optional cause that is only ever
// logged or inspected with errors.Is/As.
type Error struct {
	Code        string
	Description string
	Status      int
	// RetryAfter, when positive, is sent as a Retry-After header (seconds).
	RetryAfter int
	cause      error
}

// Predeclared errors (RFC 6749 §5.2, RFC 6750 §3, RFC 7009 §2.2.1).
var (
	ErrInvalidRequest = &Error{Code: "invalid_request", Status: http.StatusBadRequest,
		Description: "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."}
	// ErrInvalidClient answers 401; the writer adds WWW-Authenticate (RFC 6749 §5.2).
	ErrInvalidClient = &Error{Code: "invalid_client", Status: http.StatusUnauthorized,
		Description: "Client authentication failed."}
	ErrInvalidGrant = &Error{Code: "invalid_grant", Status: http.StatusBadRequest,
		Description: "The provided authorization grant or refresh token is invalid, expired, revoked, or was issued to another client."}
	ErrUnauthorizedClient = &Error{Code: "unauthorized_client", Status: http.StatusBadRequest,
		Description: "The client is not authorized to use this authorization grant type."}
	ErrUnsupportedGrantType = &Error{Code: "unsupported_grant_type", Status: http.StatusBadRequest,
		Description: "The authorization grant type is not supported by the authorization server."}
	ErrInvalidScope = &Error{Code: "invalid_scope", Status: http.StatusBadRequest,
		Description: "The requested scope is invalid, unknown, or exceeds the scope granted."}
	ErrAccessDenied = &Error{Code: "access_denied", Status: http.StatusForbidden,
		Description: "The resource owner or authorization server denied the request."}
	ErrUnsupportedTokenType = &Error{Code: "unsupported_token_type", Status: http.StatusBadRequest,
		Description: "The authorization server does not support the revocation of the presented token type."}
	// ErrInvalidToken is the RFC 6750 §3.1 bearer-token error.
	ErrInvalidToken = &Error{Code: "invalid_token", Status: http.StatusUnauthorized,
		Description: "The access token is invalid, expired or revoked."}
	ErrInsufficientScope = &Error{Code: "insufficient_scope", Status: http.StatusForbidden,
		Description: "The access token does not carry the scope this resource requires."}
	ErrTemporarilyUnavailable = &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable,
		Description: "The authorization server is temporarily unable to handle the request."}
	// ErrSlowDown is answered when a caller exceeds a rate limit; 429 with
	// Retry-After is what rate-limited HTTP clients understand.
	ErrSlowDown = &Error{Code: "slow_down", Status: http.StatusTooManyRequests,
		Description: "Too many requests. Retry later."}
	// ErrServerError is answered for faults; its cause is logged, never sent.
	ErrServerError = &Error{Code: "server_error", Status: http.StatusInternalServerError,
		Description: "The authorization server encountered an unexpected condition."}
)

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.cause.Error()
	}
	return e.Code
}

// Unwrap exposes the cause to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code, so
// errors.Is(err, ErrInvalidGrant) holds for every copy of it.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithDescription returns a copy with another description. Characters the
// RFC forbids (RFC 6749 §5.2: only %x20-21 / %x23-5B / %x5D-7E) are dropped
// so no caller can put a quote, backslash or control byte on the wire.
func (e *Error) WithDescription(description string) *Error {
	c := *e
	c.Description = Sanitize(description)
	return &c
}

// WithCause returns a copy carrying cause for errors.Is/As and logs.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithRetryAfter returns a copy answered with a Retry-After header.
func (e *Error) WithRetryAfter(seconds int) *Error {
	c := *e
	c.RetryAfter = seconds
	return &c
}

// Sanitize keeps only the characters RFC 6749 §5.2 allows in error and
// error_description.
func Sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == 0x20 || r == 0x21, r >= 0x23 && r <= 0x5B, r >= 0x5D && r <= 0x7E:
			return r
		}
		return -1
	}, s)
}

// Codes that exist only in the authorization endpoint's redirects.
var (
	errLoginRequired           = &Error{Code: "login_required", Status: http.StatusBadRequest, Description: "The customer is not signed in."}
	errConsentRequired         = &Error{Code: "consent_required", Status: http.StatusBadRequest, Description: "The customer has not consented."}
	errUnsupportedResponseType = &Error{Code: "unsupported_response_type", Status: http.StatusBadRequest,
		Description: "The authorization server does not support obtaining an authorization code using this method."}
)

// byKind is the OAuth dialect's one table from the core's refusals to the
// wire (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1). The token endpoint's JSON,
// the Bearer challenges and the authorization endpoint's redirects all
// read it through From.
var byKind = map[refusal.Kind]*Error{
	refusal.InvalidRequest:       ErrInvalidRequest,
	refusal.InvalidClient:        ErrInvalidClient,
	refusal.UnauthorizedClient:   ErrUnauthorizedClient,
	refusal.UnsupportedGrantType: ErrUnsupportedGrantType,
	refusal.InvalidScope:         ErrInvalidScope,
	// A login that failed, for whatever reason, and one of a shop the
	// client does not serve, read the same (RFC 6749 §5.2 invalid_grant).
	refusal.BadCredentials:          ErrInvalidGrant.WithDescription("The user credentials were incorrect."),
	refusal.UnknownShop:             ErrInvalidGrant.WithDescription("The user credentials were incorrect."),
	refusal.NotVerified:             ErrInvalidGrant.WithDescription("The e-mail address of this account is not verified."),
	refusal.InvalidGrant:            ErrInvalidGrant,
	refusal.InvalidToken:            ErrInvalidToken,
	refusal.InsufficientScope:       ErrInsufficientScope,
	refusal.AccessDenied:            ErrAccessDenied,
	refusal.Throttled:               ErrSlowDown,
	refusal.Unavailable:             ErrTemporarilyUnavailable,
	refusal.LoginRequired:           errLoginRequired,
	refusal.ConsentRequired:         errConsentRequired,
	refusal.UnsupportedResponseType: errUnsupportedResponseType,
}

// From returns err as an *Error: itself when it is one (the dialect's own
// parsing errors), the table's entry for a refusal (its description and
// Retry-After carried over), and ErrServerError, with err as cause, for
// anything else: unknown faults never leak.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	r := refusal.Of(err)
	base, ok := byKind[r.Kind]
	if !ok {
		return ErrServerError.WithCause(err)
	}
	out := base.WithCause(err)
	if r.Description != "" {
		out.Description = Sanitize(r.Description)
	}
	out.RetryAfter = r.RetryAfterSeconds()
	return out
}
