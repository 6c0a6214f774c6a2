package oautherr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
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
