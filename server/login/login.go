package login

import (
	"context"
	"errors"

	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

// Authenticator checks a customer's password within a shop;
// *customers.Authenticator implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error)
}

// RateLimiter limits password attempts per client address. Allow returns a
// Throttled refusal when the address is over its limit.
type RateLimiter interface {
	Allow(clientIP string) error
}

var _ Authenticator = (*customers.Authenticator)(nil)

// Config holds the check's dependencies.
type Config struct {
	Authenticator Authenticator
	// Limiter, when set, is asked before every attempt. Nil: no
	// per-address limit.
	Limiter RateLimiter
}

// Checker is the password check.
type Checker struct {
	authn   Authenticator
	limiter RateLimiter
}

// New checks cfg and returns a Checker.
func New(cfg Config) (*Checker, error) {
	if cfg.Authenticator == nil {
		return nil, errors.New("login: an Authenticator is required")
	}
	return &Checker{authn: cfg.Authenticator, limiter: cfg.Limiter}, nil
}

// Allow asks the per-address limiter, when there is one. Callers ask it
// before anything else they check, so a throttled address costs nothing.
func (c *Checker) Allow(clientIP string) error {
	if c.limiter == nil {
		return nil
	}
	return c.limiter.Allow(clientIP)
}

// Authenticate checks email and password in shopKey: BadCredentials for an
// unknown e-mail, a wrong password, a locked or disabled account alike;
// NotVerified only after the right password; Unavailable when no hashing
// slot is free.
func (c *Checker) Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error) {
	customer, err := c.authn.Authenticate(ctx, shopKey, email, password)
	switch {
	case errors.Is(err, customers.ErrNotVerified):
		return storage.Customer{}, refusal.ErrNotVerified.WithCause(err)
	case errors.Is(err, customers.ErrInvalidCredentials):
		return storage.Customer{}, refusal.ErrBadCredentials.WithCause(err)
	case err != nil:
		return storage.Customer{}, err
	}
	return customer, nil
}
