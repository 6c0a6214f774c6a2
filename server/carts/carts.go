package carts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/shopauth/shopauth/storage"
)

// Request names the customer who just signed in and the anonymous cart
// token their storefront sent, if any.
type Request struct {
	ShopKey    string
	CustomerID uint64
	// Token is the anonymous cart's token; empty when none was sent.
	Token string
}

// Cart is the customer's cart after the hand-over: a stored cart, or the
// document a commerce back end answered, passed on as it came.
type Cart struct {
	Stored   *storage.Cart
	Document json.RawMessage
}

// HandOver gives the customer the anonymous cart named in req, if it is one
// of the shop's, and returns the customer's cart: nil (and no error) when
// they have none.
type HandOver interface {
	HandOver(ctx context.Context, req Request) (*Cart, error)
}

// Service runs the hand-over after a successful login.
type Service struct {
	backend HandOver
	logger  *slog.Logger
}

// New returns a Service over backend.
func New(backend HandOver, logger *slog.Logger) (*Service, error) {
	if backend == nil {
		return nil, errors.New("carts: a hand-over backend is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{backend: backend, logger: logger}, nil
}

// AfterLogin hands the anonymous cart over and returns the customer's cart.
// The login has already succeeded and must stay so (docs/shopkey.md): a
// failing cart store is logged as a warning and answered with no cart.
func (s *Service) AfterLogin(ctx context.Context, req Request) *Cart {
	cart, err := s.backend.HandOver(ctx, req)
	if err != nil {
		// The token is a bearer secret for the anonymous cart: never logged.
		s.logger.WarnContext(ctx, "cart hand-over failed; login answered without a cart",
			"shop", req.ShopKey, "customer_id", req.CustomerID, "with_token", req.Token != "", "err", err)
		return nil
	}
	return cart
}

// Store is what Database needs from storage.
type Store interface {
	GetCustomerCart(ctx context.Context, shopKey string, customerID uint64) (storage.Cart, error)
	ClaimAnonymousCart(ctx context.Context, shopKey, token string, customerID uint64) (storage.Cart, error)
}

// Database hands carts over inside shopauth's own database.
type Database struct {
	store Store
}

var _ HandOver = (*Database)(nil)

// NewDatabase returns a Database over store.
func NewDatabase(store Store) (*Database, error) {
	if store == nil {
		return nil, errors.New("carts: a store is required")
	}
	return &Database{store: store}, nil
}

// HandOver claims the anonymous cart (which removes the customer's
// previous one, in the same transaction) or, when the token names no
// anonymous cart of this shop, returns the customer's current cart.
func (d *Database) HandOver(ctx context.Context, req Request) (*Cart, error) {
	if req.Token != "" {
		c, err := d.store.ClaimAnonymousCart(ctx, req.ShopKey, req.Token, req.CustomerID)
		if err == nil {
			return &Cart{Stored: &c}, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("claim anonymous cart: %w", err)
		}
	}
	c, err := d.store.GetCustomerCart(ctx, req.ShopKey, req.CustomerID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load customer cart: %w", err)
	}
	return &Cart{Stored: &c}, nil
}
