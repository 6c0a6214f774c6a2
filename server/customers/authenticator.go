package customers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/shopauth/shopauth/storage"
)

// Errors of Authenticate. ErrInvalidCredentials covers an unknown e-mail, a
// wrong password and a disabled account alike, so callers cannot tell them
// apart; ErrNotVerified is only returned after the right password.
var (
	ErrInvalidCredentials = errors.New("customers: invalid credentials")
	ErrNotVerified        = errors.New("customers: e-mail address not verified")
)

// MaxPasswordBytes bounds the work a single request can ask for.
const MaxPasswordBytes = 1024

// Store is what the authenticator needs from storage.
type Store interface {
	GetCustomerByEmail(ctx context.Context, shopKey, emailNormalized string) (storage.Customer, error)
	UpdatePasswordHash(ctx context.Context, id uint64, oldHash, newHash string) error
}

// Authenticator checks a customer's e-mail and password within one shop.
type Authenticator struct {
	store  Store
	hasher *Hasher
	logger *slog.Logger
}

// NewAuthenticator returns an Authenticator over store using hasher.
func NewAuthenticator(store Store, hasher *Hasher, logger *slog.Logger) (*Authenticator, error) {
	if store == nil || hasher == nil {
		return nil, errors.New("customers: store and hasher are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Authenticator{store: store, hasher: hasher, logger: logger}, nil
}

// NormalizeEmail is the lookup form of an e-mail address: trimmed and
// lower-cased, so "  Sonia@Spryker.com" finds sonia@spryker.com.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Authenticate returns the customer of shopKey with this e-mail when the
// password is right and the account may sign in.
func (a *Authenticator) Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error) {
	if password == "" || len(password) > MaxPasswordBytes {
		return storage.Customer{}, ErrInvalidCredentials
	}
	c, err := a.store.GetCustomerByEmail(ctx, shopKey, NormalizeEmail(email))
	if errors.Is(err, storage.ErrNotFound) {
		a.hasher.VerifyDummy(password)
		return storage.Customer{}, ErrInvalidCredentials
	}
	if err != nil {
		return storage.Customer{}, fmt.Errorf("look up customer: %w", err)
	}
	ok, rehash, err := a.hasher.Verify(c.PasswordHash, password)
	if errors.Is(err, ErrUnknownHashFormat) {
		a.logger.WarnContext(ctx, "customer has an unreadable password hash", "shop", shopKey, "customer_id", c.ID)
		a.hasher.VerifyDummy(password)
		return storage.Customer{}, ErrInvalidCredentials
	}
	if err != nil {
		return storage.Customer{}, fmt.Errorf("verify password: %w", err)
	}
	if !ok || c.Disabled() {
		return storage.Customer{}, ErrInvalidCredentials
	}
	if !c.Verified() {
		return storage.Customer{}, ErrNotVerified
	}
	if rehash {
		a.upgradeHash(ctx, &c, password)
	}
	return c, nil
}

// upgradeHash replaces a legacy or weaker hash now that the plaintext is at
// hand. A failure only postpones the upgrade to the next login.
func (a *Authenticator) upgradeHash(ctx context.Context, c *storage.Customer, password string) {
	newHash, err := a.hasher.Hash(password)
	if err != nil {
		a.logger.WarnContext(ctx, "rehash password", "customer_id", c.ID, "err", err)
		return
	}
	if err := a.store.UpdatePasswordHash(ctx, c.ID, c.PasswordHash, newHash); err != nil {
		a.logger.WarnContext(ctx, "store upgraded password hash", "customer_id", c.ID, "err", err)
		return
	}
	c.PasswordHash = newHash
}
