package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage"
)

// Actor is who makes a change: an admin client (ID its client id, Shop its
// shop binding, "" for every shop) or the CLI.
type Actor struct {
	ID   string
	Shop string
}

// CLI is the actor of the command line: every shop.
var CLI = Actor{ID: "cli"}

// allShops reports whether the actor manages every shop.
func (a Actor) allShops() bool { return a.Shop == "" }

// sees reports whether the actor may see a resource of shop.
func (a Actor) sees(shop string) bool { return a.allShops() || a.Shop == shop }

// Kind is why an operation was refused.
type Kind int

// Kinds of refusal.
const (
	// Invalid: a field is missing or malformed (Field names it).
	Invalid Kind = iota + 1
	// NotFound: no such resource, or one the actor may not see.
	NotFound
	// Conflict: the resource exists already (an id, a key, an e-mail).
	Conflict
	// PreconditionFailed: the resource changed since the ETag was read.
	PreconditionFailed
	// Forbidden: the actor may not do this at all (a shop-bound actor and
	// what has no shop).
	Forbidden
	// Unsupported: the server is not set up for it (invitations without
	// mail).
	Unsupported
)

// Error is a refusal: nothing was written.
type Error struct {
	Kind  Kind
	Field string // the offending field, for Invalid (and Conflict)
	// Message says what is wrong, in words a caller can show.
	Message string
}

func (e *Error) Error() string {
	if e.Kind == Invalid && e.Field != "" {
		return e.Field + " " + e.Message
	}
	return e.Message
}

func invalid(field, msg string, args ...any) error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(msg, args...)}
}

func refuse(kind Kind, msg string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(msg, args...)}
}

// KindOf returns the Kind of a refusal, 0 for anything else.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Store is what the service reads and writes.
type Store interface {
	storage.AdminStore
	GetShop(ctx context.Context, key string) (storage.Shop, error)
	ListShops(ctx context.Context) ([]storage.Shop, error)
	GetCustomer(ctx context.Context, shopKey string, id uint64) (storage.Customer, error)
	GetCustomerByEmail(ctx context.Context, shopKey, emailNormalized string) (storage.Customer, error)
	GetClient(ctx context.Context, id string) (storage.Client, error)
	ListClients(ctx context.Context) ([]storage.Client, error)
}

// Hasher hashes new passwords (*customers.Hasher).
type Hasher interface {
	Hash(password string) (string, error)
}

// Inviter builds an account key of purpose for a customer with the mail
// carrying it (*accounts.Service), and wakes the sender once it is stored.
type Inviter interface {
	Invitation(shop storage.Shop, c storage.Customer, purpose string) (storage.Invitation, error)
	Notify()
}

// Keys lists and rotates signing keys (*keys.Manager).
type Keys interface {
	List() []keys.KeyInfo
	Rotate(ctx context.Context, alg string, immediate bool) (keys.KeyInfo, error)
}

// Config holds the service's dependencies.
type Config struct {
	Store  Store
	Hasher Hasher
	// Inviter, when set, mails invitations and re-verifications; without
	// it, creating a customer by invitation is Unsupported and an e-mail
	// change only unverifies.
	Inviter Inviter
	// Keys, when set, serves the signing keys.
	Keys Keys
	// SigningAlgorithms, when set, lists the algorithms that have a
	// signing key: a client asking for another is refused.
	SigningAlgorithms func(ctx context.Context) ([]string, error)
	Now               func() time.Time
	Logger            *slog.Logger
}

// Service runs the administrative operations.
type Service struct {
	cfg Config
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Hasher == nil {
		return nil, errors.New("admin: Store and Hasher are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Second) }

// entry is the audit entry of a change by actor.
func (s *Service) entry(actor Actor, action, typ, id, shop string) storage.AuditEntry {
	return storage.AuditEntry{At: s.now(), Actor: actor.ID, Action: action, ResourceType: typ, ResourceID: id, ShopKey: shop}
}

// logged logs a change that was written (never a secret: ids only).
func (s *Service) logged(ctx context.Context, a storage.AuditEntry) {
	s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "admin change",
		slog.String("actor", a.Actor), slog.String("action", a.Action), slog.String("resource_type", a.ResourceType),
		slog.String("resource_id", a.ResourceID), slog.String("shop", a.ShopKey))
}

// notFound maps storage.ErrNotFound to the NotFound refusal.
func notFound(err error, what string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return refuse(NotFound, "%s not found", what)
	}
	return err
}

// etagOf is the strong ETag of v: a digest of everything stored about
// the resource, secrets included (never shown), so any change moves it.
func etagOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // storage types always marshal
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// checkETag refuses a change when ifMatch is given and is not current.
// "" skips the check (the CLI); "*" matches any.
func checkETag(ifMatch, current string) error {
	if ifMatch == "" || ifMatch == "*" || ifMatch == current {
		return nil
	}
	return refuse(PreconditionFailed, "the resource changed since it was read (ETag %s)", current)
}

// Page bounds.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

func pageSize(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageSize, nil
	case limit < 0 || limit > MaxPageSize:
		return 0, invalid("limit", "must be 1-%d", MaxPageSize)
	}
	return limit, nil
}
