package storage

import (
	"context"
	"time"
)

// AuditEntry records one administrative change: who made it (an admin
// client's id, or "cli"), what (Action, e.g. "customer.disable"), on which
// resource, in which shop, when. It is written in the same transaction as
// the change it records (docs/admin.md, "Audit trail").
type AuditEntry struct {
	ID           uint64 // assigned by the store; increasing
	At           time.Time
	Actor        string
	Action       string
	ResourceType string // shop, customer, client, consent, key
	ResourceID   string
	ShopKey      string // "" for resources of no shop
}

// Invitation is an account key with the mail carrying it, written with
// the customer it invites.
type Invitation struct {
	Key  AccountKey
	Mail OutboxMail
}

// CustomerEffects are what an administrative customer change does beyond
// rewriting the customer's row, in the same transaction.
type CustomerEffects struct {
	// EndSessions revokes every refresh family of the customer (with the
	// access tokens issued from them) and deletes their browser sessions.
	EndSessions bool
	// ClearLoginFailures forgets the failed logins of the customer's
	// e-mail address before the change (ends a lockout).
	ClearLoginFailures bool
	// VoidKeys voids the customer's unused account keys (an e-mail change
	// makes a pending confirmation or reset link worthless).
	VoidKeys bool
	// Invitation, when set, is stored with its mail (a confirmation after
	// an e-mail change).
	Invitation *Invitation
	// Erase deletes what the customer's row does not hold: their profile,
	// account keys, consents and login failures (GDPR erasure).
	Erase bool
}

// CustomerQuery selects a page of a shop's customers in id order.
type CustomerQuery struct {
	ShopKey string
	// EmailPrefix, when set, keeps customers whose normalized e-mail starts
	// with it.
	EmailPrefix string
	AfterID     uint64 // the cursor: ids greater than this
	Limit       int
}

// AdminStore is what the administrative core writes: every change is one
// transaction with the audit entry that records it. A change function
// runs inside the transaction on the current row (locked against other
// writers); an error it returns aborts the transaction and comes back
// unwrapped, nothing written.
type AdminStore interface {
	CreateShopAudited(ctx context.Context, shop Shop, audit AuditEntry) error
	// UpdateShop applies change to the shop with key; ErrNotFound when
	// there is none.
	UpdateShop(ctx context.Context, key string, change func(*Shop) error, audit AuditEntry) (Shop, error)

	// CreateCustomerAudited is CreateCustomer with its audit entry and an
	// optional invitation stored with it (its key's CustomerID and ShopKey
	// are filled in).
	CreateCustomerAudited(ctx context.Context, c *Customer, invite *Invitation, audit AuditEntry) error
	// UpdateCustomer applies change to the customer id of shopKey and then
	// its effects; ErrNotFound when the shop has no such customer,
	// ErrConflict when the new e-mail is another customer's. The audit
	// entry's ResourceID and ShopKey are filled in when empty.
	UpdateCustomer(ctx context.Context, shopKey string, id uint64, change func(*Customer) (CustomerEffects, error), audit AuditEntry) (Customer, error)
	ListCustomers(ctx context.Context, q CustomerQuery) ([]Customer, error)

	CreateClientAudited(ctx context.Context, c Client, audit AuditEntry) error
	// UpdateClient applies change to the client id (its ID cannot change);
	// ErrNotFound when there is none.
	UpdateClient(ctx context.Context, id string, change func(*Client) error, audit AuditEntry) (Client, error)
	// DeleteClient deletes the client id once check accepts it, with its
	// consents; ErrNotFound when there is none.
	DeleteClient(ctx context.Context, id string, check func(Client) error, audit AuditEntry) error

	// ListConsents lists a customer's consents by client id.
	ListConsents(ctx context.Context, customerID uint64) ([]Consent, error)
	// RevokeConsentAudited deletes one consent; ErrNotFound when there is
	// none.
	RevokeConsentAudited(ctx context.Context, customerID uint64, clientID string, audit AuditEntry) error

	// RecordAudit stores an entry for a change made elsewhere (a key
	// rotation).
	RecordAudit(ctx context.Context, audit AuditEntry) error
	// ListAudit returns entries with an id greater than afterID in id
	// order, only shopKey's when it is not "".
	ListAudit(ctx context.Context, shopKey string, afterID uint64, limit int) ([]AuditEntry, error)
}
