package oautherr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

func TestIsComparesCode(t *testing.T) {
	cause := errors.New("customer not verified")
	err := fmt.Errorf("password grant: %w", ErrInvalidGrant.WithDescription("x").WithCause(cause))
	require.ErrorIs(t, err, ErrInvalidGrant)
	require.ErrorIs(t, err, cause)
	require.NotErrorIs(t, err, ErrInvalidClient)
	require.Equal(t, "The provided authorization grant or refresh token is invalid, expired, revoked, or was issued to another client.", ErrInvalidGrant.Description, "WithDescription must not modify the shared value")
}

func TestStatuses(t *testing.T) {
	tests := []struct {
		err    *Error
		status int
	}{
		{ErrInvalidRequest, 400}, {ErrInvalidGrant, 400}, {ErrUnauthorizedClient, 400},
		{ErrUnsupportedGrantType, 400}, {ErrInvalidScope, 400}, {ErrInvalidClient, 401},
		{ErrServerError, 500}, {ErrTemporarilyUnavailable, 503}, {ErrSlowDown, http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.err.Code, func(t *testing.T) {
			require.Equal(t, tt.status, tt.err.Status)
			require.Equal(t, tt.err.Description, Sanitize(tt.err.Description), "description must use only RFC 6749 §5.2 characters")
		})
	}
}

func TestSanitize(t *testing.T) {
	require.Equal(t, "bad input ", Sanitize("bad \"input\" \\\n\té"))
}

func TestFromHidesUnknownErrors(t *testing.T) {
	cause := errors.New("dial tcp: secret dsn")
	e := From(cause)
	require.Equal(t, "server_error", e.Code)
	require.ErrorIs(t, e, cause)
	require.NotContains(t, e.Description, "dsn")
	require.Same(t, ErrInvalidScope, From(ErrInvalidScope))
}

// TestFromRefusals is the OAuth dialect's table: each refusal's code,
// status, default words and Retry-After.
func TestFromRefusals(t *testing.T) {
	tests := []struct {
		err         error
		code        string
		status      int
		description string
		retryAfter  int
	}{
		{refusal.ErrInvalidRequest, "invalid_request", 400, ErrInvalidRequest.Description, 0},
		{refusal.New(refusal.InvalidRequest, `The "x" parameter.`), "invalid_request", 400, "The x parameter.", 0},
		{refusal.ErrInvalidClient, "invalid_client", 401, ErrInvalidClient.Description, 0},
		{refusal.ErrUnauthorizedClient, "unauthorized_client", 400, ErrUnauthorizedClient.Description, 0},
		{refusal.ErrUnsupportedGrantType, "unsupported_grant_type", 400, ErrUnsupportedGrantType.Description, 0},
		{refusal.ErrInvalidScope, "invalid_scope", 400, ErrInvalidScope.Description, 0},
		{refusal.ErrBadCredentials, "invalid_grant", 400, "The user credentials were incorrect.", 0},
		{refusal.ErrNotVerified, "invalid_grant", 400, "The e-mail address of this account is not verified.", 0},
		{refusal.ErrInvalidGrant, "invalid_grant", 400, ErrInvalidGrant.Description, 0},
		{refusal.ErrInvalidToken, "invalid_token", 401, ErrInvalidToken.Description, 0},
		{refusal.ErrInsufficientScope, "insufficient_scope", 403, ErrInsufficientScope.Description, 0},
		{refusal.ErrThrottled.WithRetryAfter(3 * time.Second), "slow_down", 429, ErrSlowDown.Description, 3},
		{refusal.ErrUnavailable.WithRetryAfter(time.Second), "temporarily_unavailable", 503, ErrTemporarilyUnavailable.Description, 1},
		{fmt.Errorf("load client: %w", storage.ErrUnavailable), "temporarily_unavailable", 503, ErrTemporarilyUnavailable.Description, 1},
		{refusal.ErrLoginRequired, "login_required", 400, "The customer is not signed in.", 0},
		{refusal.ErrConsentRequired, "consent_required", 400, "The customer has not consented.", 0},
		{errors.New("disk on fire"), "server_error", 500, ErrServerError.Description, 0},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			e := From(tt.err)
			require.Equal(t, tt.code, e.Code)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.description, e.Description)
			require.Equal(t, tt.retryAfter, e.RetryAfter)
			require.ErrorIs(t, e, tt.err)
		})
	}
}
