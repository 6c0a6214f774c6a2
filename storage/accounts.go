package storage

import "time"

// Purposes of an account key: what presenting it does.
const (
	// KeyConfirmEmail confirms the customer's e-mail address (the link of
	// the registration mail).
	KeyConfirmEmail = "confirm"
	// KeyResetPassword sets a new password (the link of the reset mail).
	KeyResetPassword = "reset"
)

// AccountKey is the stored form of a registration (confirmation) or
// password-reset key sent by mail: never the key itself, only its SHA-256.
// A key is used at most once, stops working at ExpiresAt, and is voided by
// a newer key of the same purpose or a password change (docs/accounts.md).
type AccountKey struct {
	KeyHash    string // lowercase hex SHA-256 of the key
	Purpose    string // KeyConfirmEmail or KeyResetPassword
	ShopKey    string
	CustomerID uint64
	// ContinueTo is the authorization request (its query string) the
	// customer was in when they registered, to continue once confirmed;
	// empty when there is none.
	ContinueTo string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	VoidedAt   *time.Time
}

// Usable reports whether the key may still be used at now.
func (k AccountKey) Usable(now time.Time) bool {
	return k.UsedAt == nil && k.VoidedAt == nil && now.Before(k.ExpiresAt)
}

// CustomerProfile is what a customer gave when they registered beyond
// their e-mail and name: Spryker's customer attributes.
type CustomerProfile struct {
	CustomerID uint64
	Salutation string
	FirstName  string
	LastName   string
	Gender     string
}

// OutboxMail is one mail waiting in the transactional outbox. It is
// written in the same transaction as the key it carries, and its message
// (recipient, words, link) is sealed by the mail sender: the outbox holds
// a live key until the mail is delivered, so it is never kept in clear.
type OutboxMail struct {
	ID     uint64
	Sealed []byte
	// NextAttemptAt is when the sender may try (again); nil once the mail
	// is settled (sent, or given up).
	NextAttemptAt *time.Time
	Attempts      int
	CreatedAt     time.Time
	SentAt        *time.Time
	FailedAt      *time.Time // given up
	LastError     string
}

// Registration is a new customer written in one transaction with their
// profile, their confirmation key and the mail carrying it.
type Registration struct {
	// Customer is stored with a new ID; an empty CustomerReference becomes
	// ReferencePrefix + "--" + ID (Spryker's form, "DE--21") and a zero
	// AccountID the ID.
	Customer        *Customer
	ReferencePrefix string
	Profile         CustomerProfile
	Key             AccountKey
	Mail            OutboxMail
}

// PasswordChange replaces a customer's password hash and ends what the
// old password opened: their reset keys, refresh families and browser
// sessions, except the session the change was made from.
type PasswordChange struct {
	CustomerID uint64
	// OldHash must still be the stored hash (storage.ErrConflict if not).
	OldHash string
	NewHash string
	// KeepSessionHash is the browser session the change was made from
	// (hosted page), kept signed in; empty for none.
	KeepSessionHash string
	// KeepAccessJTI names the access token the change was made with (an
	// API call): its refresh family is kept. Empty for none.
	KeepAccessJTI string
	Now           time.Time
}
