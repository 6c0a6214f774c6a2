package refusal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// Kind is why a request was refused.
type Kind uint8

// Kinds of refusal. The zero Kind is Fault: not a refusal at all.
const (
	// Fault: something broke; the caller did nothing wrong (500).
	Fault Kind = iota
	// InvalidRequest: a parameter is missing, repeated or malformed.
	InvalidRequest
	// InvalidClient: client authentication failed.
	InvalidClient
	// UnauthorizedClient: the client may not do this (grant allow-list,
	// first-party only, confidential only).
	UnauthorizedClient
	// UnsupportedGrantType: a grant_type the server does not implement.
	UnsupportedGrantType
	// InvalidScope: a scope outside the client's or the grant's.
	InvalidScope
	// BadCredentials: the login failed — unknown e-mail, wrong password,
	// locked or disabled account, a shop the client does not serve — and
	// nothing tells which.
	BadCredentials
	// NotVerified: the right password for an account whose e-mail address
	// is not confirmed.
	NotVerified
	// InvalidGrant: a refresh token or authorization code that is
	// unknown, expired, spent, revoked or another client's.
	InvalidGrant
	// InvalidToken: a Bearer access token that is not live (RFC 6750 §3.1).
	InvalidToken
	// InsufficientScope: a live access token without the scope the
	// resource needs.
	InsufficientScope
	// AccessDenied: the customer said no on the consent page.
	AccessDenied
	// Throttled: too many attempts from this address; RetryAfter says
	// when the next one is allowed.
	Throttled
	// Unavailable: the server cannot answer now (the database is away,
	// every hashing slot is busy, the shop is switched off); RetryAfter
	// says when to try again, when known.
	Unavailable
	// UnknownShop: the shop key names no active shop.
	UnknownShop
	// LoginRequired, ConsentRequired and UnsupportedResponseType exist only
	// in the authorization endpoint's redirects (OIDC Core §3.1.2.6,
	// RFC 6749 §4.1.2.1).
	LoginRequired
	ConsentRequired
	UnsupportedResponseType
)

var kindNames = [...]string{
	Fault: "fault", InvalidRequest: "invalid request", InvalidClient: "invalid client",
	UnauthorizedClient: "unauthorized client", UnsupportedGrantType: "unsupported grant type",
	InvalidScope: "invalid scope", BadCredentials: "bad credentials", NotVerified: "not verified",
	InvalidGrant: "invalid grant", InvalidToken: "invalid token", InsufficientScope: "insufficient scope",
	AccessDenied: "access denied", Throttled: "throttled", Unavailable: "unavailable",
	UnknownShop: "unknown shop", LoginRequired: "login required", ConsentRequired: "consent required",
	UnsupportedResponseType: "unsupported response type",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is a refusal: its Kind, the core's words for dialects that show
// them (the OAuth dialects; the legacy dialects have their own), and when
// to retry.
type Error struct {
	Kind Kind
	// Description says more than the Kind, in RFC 6749 §5.2's character
	// set; "" leaves the dialect's own words.
	Description string
	// RetryAfter is when the caller may try again (Throttled,
	// Unavailable); 0: not said.
	RetryAfter time.Duration
	cause      error
}

// New returns a refusal of kind with a description ("" for none).
func New(kind Kind, description string) *Error {
	return &Error{Kind: kind, Description: description}
}

func (e *Error) Error() string {
	msg := "refused: " + e.Kind.String()
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap exposes the cause to errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is a refusal of the same Kind, so
// errors.Is(err, refusal.ErrInvalidGrant) holds for every copy.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

// WithCause returns a copy carrying cause for errors.Is/As and logs.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithDescription returns a copy with another description.
func (e *Error) WithDescription(description string) *Error {
	c := *e
	c.Description = description
	return &c
}

// WithRetryAfter returns a copy that tells the caller to wait d.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, as a
// Retry-After header carries it (RFC 9110 §10.2.3); 0 when not said.
func (e *Error) RetryAfterSeconds() int {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// Predeclared refusals without a description, for errors.Is and for
// returning as they are.
var (
	ErrInvalidRequest       = New(InvalidRequest, "")
	ErrInvalidClient        = New(InvalidClient, "")
	ErrUnauthorizedClient   = New(UnauthorizedClient, "")
	ErrUnsupportedGrantType = New(UnsupportedGrantType, "")
	ErrInvalidScope         = New(InvalidScope, "")
	ErrBadCredentials       = New(BadCredentials, "")
	ErrNotVerified          = New(NotVerified, "")
	ErrInvalidGrant         = New(InvalidGrant, "")
	ErrInvalidToken         = New(InvalidToken, "")
	ErrInsufficientScope    = New(InsufficientScope, "")
	ErrAccessDenied         = New(AccessDenied, "")
	ErrThrottled            = New(Throttled, "")
	ErrUnavailable          = New(Unavailable, "")
	ErrUnknownShop          = New(UnknownShop, "")
	ErrLoginRequired        = New(LoginRequired, "")
	ErrConsentRequired      = New(ConsentRequired, "")
)

// StorageRetryAfter is what a caller is told to wait when the database
// cannot answer (storage.ErrUnavailable).
const StorageRetryAfter = time.Second

// Of classifies err: a refusal as it is; storage.ErrUnavailable, wherever
// it is wrapped, as Unavailable (RetryAfter StorageRetryAfter); so is a
// context that ended (context.DeadlineExceeded or context.Canceled,
// wherever wrapped): the request's deadline (SHOPAUTH_REQUEST_TIMEOUT)
// passed while it waited for the database, a hashing slot or a lock, and
// the caller may try again — it did nothing wrong, and nothing broke.
// Anything else is a Fault carrying err. Of(nil) is nil.
func Of(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, storage.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ErrUnavailable.WithRetryAfter(StorageRetryAfter).WithCause(err)
	}
	return &Error{Kind: Fault, cause: err}
}

// KindOf is Of(err).Kind; Fault for nil.
func KindOf(err error) Kind {
	if e := Of(err); e != nil {
		return e.Kind
	}
	return Fault
}
