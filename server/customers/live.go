package customers

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ErrGone is returned by Live for a customer who is unknown, disabled or
// no longer verified: their tokens are not honoured.
var ErrGone = errors.New("customers: unknown, disabled or unverified")

// Reader loads customers by id.
type Reader interface {
	GetCustomer(ctx context.Context, shopKey string, id uint64) (storage.Customer, error)
}

// Live loads the customer a token speaks for, who must still be allowed to
// use tokens (storage.Customer.MayUseTokens), or returns ErrGone. Every
// grant that issues tokens from an earlier login and every route that
// honours an access token asks it.
func Live(ctx context.Context, r Reader, shopKey string, id uint64) (storage.Customer, error) {
	c, err := r.GetCustomer(ctx, shopKey, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !c.MayUseTokens()) {
		return storage.Customer{}, ErrGone
	}
	if err != nil {
		return storage.Customer{}, fmt.Errorf("load customer: %w", err)
	}
	return c, nil
}

// LiveOf loads the live customer a verified access token speaks for:
// ErrGone also for a token that speaks for no customer (a client's own).
func LiveOf(ctx context.Context, r Reader, c tokens.AccessClaims) (storage.Customer, error) {
	id, ok := c.CustomerID()
	if !ok {
		return storage.Customer{}, ErrGone
	}
	return Live(ctx, r, c.Shop, id)
}
