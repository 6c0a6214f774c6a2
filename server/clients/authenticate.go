package clients

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

// Authenticator is the one client-authentication step of the token,
// revocation and introspection endpoints (RFC 6749 §2.3).
type Authenticator struct {
	store Store
}

// NewAuthenticator returns an Authenticator reading registrations from
// store (a Cache in production).
func NewAuthenticator(store Store) (*Authenticator, error) {
	if store == nil {
		return nil, errors.New("clients: a Store is required")
	}
	return &Authenticator{store: store}, nil
}

var errAuthRequired = refusal.New(refusal.InvalidClient, "Client authentication is required.")

// Authenticate checks how a client presented itself: a confidential client
// by its secret (HTTP Basic or the body, compared in constant time), a
// public client by its id alone. Every failure is InvalidClient, without
// saying which check failed.
func (a *Authenticator) Authenticate(ctx context.Context, creds server.ClientCredentials) (*Info, error) {
	info, err := a.load(ctx, creds.ID)
	if err != nil {
		return nil, err
	}
	if info.IsPublic() {
		// A public client proves nothing with a secret; one that sends one
		// is misconfigured, and accepting it would hide that.
		if creds.Secret != "" {
			return nil, refusal.ErrInvalidClient
		}
		return info, nil
	}
	if creds.Method == server.ClientAuthNone || !info.VerifyPassword(creds.Secret) {
		return nil, refusal.ErrInvalidClient
	}
	return info, nil
}

// Trusted loads the client a legacy adapter route stands for: the route is
// the client, so no secret is checked.
func (a *Authenticator) Trusted(ctx context.Context, id string) (*Info, error) {
	return a.load(ctx, id)
}

func (a *Authenticator) load(ctx context.Context, id string) (*Info, error) {
	if id == "" {
		return nil, errAuthRequired
	}
	c, err := a.store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, refusal.ErrInvalidClient
	}
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	return &Info{Client: c}, nil
}
