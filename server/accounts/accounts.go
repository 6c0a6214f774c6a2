package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/mail"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// Errors of the service. A request refused for its fields is an
// *InvalidInput; a rate-limited one the limiter's error; a database that
// cannot answer storage.ErrUnavailable. Nothing is written in any of
// these cases.
var (
	// ErrInvalidKey: the key is unknown, used, voided by a newer one or a
	// password change, or expired. Callers cannot tell which.
	ErrInvalidKey = errors.New("accounts: the key is invalid, used or expired")
	// ErrEmailTaken: the shop has a customer with this address. Only the
	// Spryker dialect tells the caller (as Glue does); the registration
	// mailed the address's owner instead.
	ErrEmailTaken = errors.New("accounts: a customer with this e-mail address exists")
	// ErrWrongPassword: the current password of a change is not right.
	ErrWrongPassword = errors.New("accounts: the current password is wrong")
	// ErrUnknownCustomer: no such customer in the shop (a token of a
	// customer deleted since).
	ErrUnknownCustomer = errors.New("accounts: unknown customer")
	// ErrNoSession: no live browser session, or its customer may not sign
	// in any more.
	ErrNoSession = errors.New("accounts: not signed in")
	// ErrUnknownShop: no such active shop.
	ErrUnknownShop = errors.New("accounts: unknown or inactive shop")
)

// Shops reads shops.
type Shops interface {
	GetShop(ctx context.Context, key string) (storage.Shop, error)
}

// Customers reads customers and their profiles.
type Customers interface {
	GetCustomer(ctx context.Context, shopKey string, id uint64) (storage.Customer, error)
	GetCustomerByEmail(ctx context.Context, shopKey, emailNormalized string) (storage.Customer, error)
	GetCustomerProfile(ctx context.Context, customerID uint64) (storage.CustomerProfile, error)
}

// Outbox writes keys with the mails that carry them, in one transaction.
type Outbox interface {
	RegisterCustomer(ctx context.Context, r *storage.Registration) error
	IssueAccountKey(ctx context.Context, key storage.AccountKey, mail storage.OutboxMail) error
	EnqueueMail(ctx context.Context, mail storage.OutboxMail) error
}

// Keys uses keys and changes passwords, each in one transaction.
type Keys interface {
	GetAccountKey(ctx context.Context, keyHash string) (storage.AccountKey, error)
	ConfirmEmail(ctx context.Context, keyHash string, now time.Time) (storage.AccountKey, error)
	ResetPassword(ctx context.Context, keyHash, newHash string, now time.Time) (storage.AccountKey, error)
	ChangePassword(ctx context.Context, ch storage.PasswordChange) error
}

// Sessions reads the hosted pages' browser sessions.
type Sessions interface {
	GetBrowserSession(ctx context.Context, idHash string) (storage.BrowserSession, error)
}

// Passwords hashes new passwords and checks current ones, through the
// same bounded hashing pool and lockout as every login;
// *customers.Authenticator implements it.
type Passwords interface {
	HashPassword(ctx context.Context, password string) (string, error)
	Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error)
}

// Sealer seals a mail's message for the outbox; *mail.Sealer implements
// it.
type Sealer interface {
	Seal(m mail.Message) ([]byte, error)
}

// Limiter limits requests per client address; it returns an error (the
// core's slow_down with Retry-After) when the address is over its limit.
type Limiter interface {
	Allow(clientIP string) error
}

// Notifier wakes the mail sender after a mail is written; optional.
type Notifier interface {
	Notify()
}

var (
	_ Passwords = (*customers.Authenticator)(nil)
	_ Sealer    = (*mail.Sealer)(nil)
)

// Default key lifetimes (docs/accounts.md).
const (
	DefaultConfirmKeyTTL = 72 * time.Hour
	DefaultResetKeyTTL   = time.Hour
)

// Paths of the hosted pages the mails link to (web/hosted serves them).
const (
	PathConfirm = "/account/confirm"
	PathReset   = "/account/reset"
	PathForgot  = "/account/forgot"
)

// Config holds the service's dependencies and policy.
type Config struct {
	Shops     Shops
	Customers Customers
	Outbox    Outbox
	Keys      Keys
	Passwords Passwords
	Sealer    Sealer
	// Sessions, when set, lets a signed-in browser change its password
	// (SessionAccount).
	Sessions Sessions
	// Limiter, when set, is asked before every account request.
	Limiter Limiter
	// Notifier, when set, is told when a mail was written.
	Notifier Notifier
	// LinkBase is where the mails' links point: the issuer, whose hosted
	// pages confirm and reset.
	LinkBase string
	// ReferencePrefix starts the customer reference of a registration
	// ("DE" gives "DE--25", Spryker's form).
	ReferencePrefix string
	// ConfirmKeyTTL and ResetKeyTTL are the keys' lifetimes (0: 72 h, 1 h).
	ConfirmKeyTTL time.Duration
	ResetKeyTTL   time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// Service runs customers' own accounts: registration and its
// confirmation, the forgotten-password reset, the password change, and
// the profile. Every surface (the Spryker dialect, the hosted pages) calls
// it, so the policy is one.
type Service struct {
	cfg      Config
	linkBase string
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Shops == nil || cfg.Customers == nil || cfg.Outbox == nil || cfg.Keys == nil || cfg.Passwords == nil || cfg.Sealer == nil {
		return nil, errors.New("accounts: Shops, Customers, Outbox, Keys, Passwords and Sealer are required")
	}
	base, err := url.Parse(cfg.LinkBase)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("accounts: LinkBase %q is not an http(s) URL", cfg.LinkBase)
	}
	if cfg.ReferencePrefix == "" {
		return nil, errors.New("accounts: a ReferencePrefix is required")
	}
	if cfg.ConfirmKeyTTL <= 0 {
		cfg.ConfirmKeyTTL = DefaultConfirmKeyTTL
	}
	if cfg.ResetKeyTTL <= 0 {
		cfg.ResetKeyTTL = DefaultResetKeyTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, linkBase: strings.TrimRight(cfg.LinkBase, "/")}, nil
}

// Registration is what a new customer gives.
type Registration struct {
	ShopKey         string
	Email           string
	Salutation      string
	FirstName       string
	LastName        string
	Gender          string
	Password        string
	ConfirmPassword string
	AcceptedTerms   bool
	// RequireProfile makes salutation and gender required, as Spryker's
	// customers resource has them; the hosted page asks only for names.
	RequireProfile bool
	// ContinueTo is the authorization request (query string) to continue
	// once the address is confirmed; empty for none.
	ContinueTo string
	ClientIP   string
}

// Account is a customer and what they gave at registration.
type Account struct {
	Customer storage.Customer
	Profile  storage.CustomerProfile
	// HasProfile is false for customers an operator created.
	HasProfile bool
}

// Register creates an unverified customer and mails them a confirmation
// link, or, when the shop has a customer with the address, mails its owner
// instead (a new confirmation link while unconfirmed, else a note that
// they have an account) and returns ErrEmailTaken. Both paths hash the
// password first, so they take the same time. Nothing is written for an
// invalid request.
func (s *Service) Register(ctx context.Context, r Registration) (Account, error) {
	if err := s.allow(r.ClientIP); err != nil {
		return Account{}, err
	}
	r.Email, r.FirstName, r.LastName = strings.TrimSpace(r.Email), strings.TrimSpace(r.FirstName), strings.TrimSpace(r.LastName)
	// In the order of Spryker's validation of the customers resource.
	var v validation
	v.email(r.Email)
	if r.RequireProfile || r.Gender != "" {
		v.choice(FieldGender, r.Gender, Genders)
	}
	if r.RequireProfile || r.Salutation != "" {
		v.choice(FieldSalutation, r.Salutation, Salutations)
	}
	v.name(FieldFirstName, r.FirstName)
	v.name(FieldLastName, r.LastName)
	v.newPassword(FieldPassword, r.Password, r.ConfirmPassword)
	if !r.AcceptedTerms {
		v.add(FieldAcceptedTerms, NotAccepted)
	}
	if err := v.err(); err != nil {
		return Account{}, err
	}
	shop, err := s.shop(ctx, r.ShopKey)
	if err != nil {
		return Account{}, err
	}
	hash, err := s.cfg.Passwords.HashPassword(ctx, r.Password)
	if err != nil {
		return Account{}, err
	}
	now := s.cfg.Now()
	key, keyHash, err := newKey()
	if err != nil {
		return Account{}, err
	}
	c := &storage.Customer{
		ShopKey: shop.Key, Email: r.Email, EmailNormalized: customers.NormalizeEmail(r.Email),
		Name: r.FirstName + " " + r.LastName, PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	sealed, err := s.cfg.Sealer.Seal(mail.Message{
		Kind: mail.KindConfirmEmail, To: c.Email, Name: r.FirstName, ShopName: shop.Name, Locale: shop.Locale,
		Link: s.link(PathConfirm, key), ValidFor: s.cfg.ConfirmKeyTTL,
	})
	if err != nil {
		return Account{}, err
	}
	reg := &storage.Registration{
		Customer: c, ReferencePrefix: s.cfg.ReferencePrefix,
		Profile: storage.CustomerProfile{Salutation: r.Salutation, FirstName: r.FirstName, LastName: r.LastName, Gender: r.Gender},
		Key: storage.AccountKey{
			KeyHash: keyHash, Purpose: storage.KeyConfirmEmail, ShopKey: shop.Key, ContinueTo: r.ContinueTo,
			CreatedAt: now, ExpiresAt: now.Add(s.cfg.ConfirmKeyTTL),
		},
		Mail: s.outboxMail(sealed, now),
	}
	err = s.cfg.Outbox.RegisterCustomer(ctx, reg)
	if errors.Is(err, storage.ErrConflict) {
		return Account{}, s.registeredAgain(ctx, shop, c.EmailNormalized, r.ContinueTo)
	}
	if err != nil {
		return Account{}, err
	}
	s.notify()
	s.cfg.Logger.InfoContext(ctx, "customer registered", "shop", shop.Key, "customer_id", c.ID)
	return Account{Customer: *c, Profile: reg.Profile, HasProfile: true}, nil
}

// registeredAgain mails the owner of an address that registered again and
// returns ErrEmailTaken.
func (s *Service) registeredAgain(ctx context.Context, shop storage.Shop, emailNormalized, continueTo string) error {
	c, err := s.cfg.Customers.GetCustomerByEmail(ctx, shop.Key, emailNormalized)
	if err != nil {
		return fmt.Errorf("load registered customer: %w", err)
	}
	switch {
	case c.Disabled():
		// An operator closed the account: nothing to mail about.
	case !c.Verified():
		// They lost the first mail: a new link, which voids the old one.
		err = s.issueKey(ctx, shop, c, storage.KeyConfirmEmail, mail.KindConfirmEmail, s.cfg.ConfirmKeyTTL, continueTo)
	default:
		err = s.mailAlreadyRegistered(ctx, shop, c)
	}
	if err != nil {
		return err
	}
	return ErrEmailTaken
}

func (s *Service) mailAlreadyRegistered(ctx context.Context, shop storage.Shop, c storage.Customer) error {
	sealed, err := s.cfg.Sealer.Seal(mail.Message{
		Kind: mail.KindAlreadyRegistered, To: c.Email, Name: firstName(c.Name), ShopName: shop.Name, Locale: shop.Locale,
		Link: s.linkBase + PathForgot + "?" + url.Values{"shop": {shop.Key}}.Encode(),
	})
	if err != nil {
		return err
	}
	if err := s.cfg.Outbox.EnqueueMail(ctx, s.outboxMail(sealed, s.cfg.Now())); err != nil {
		return err
	}
	s.notify()
	return nil
}

// Confirmed is a confirmed registration.
type Confirmed struct {
	ShopKey    string
	CustomerID uint64
	Email      string
	// ContinueTo is the authorization request the customer registered
	// from, to continue now; empty for none.
	ContinueTo string
}

// Confirm confirms the address of the customer the key was mailed to.
// ErrInvalidKey for a key that is unknown, used, voided or expired.
func (s *Service) Confirm(ctx context.Context, key, clientIP string) (Confirmed, error) {
	if err := s.allow(clientIP); err != nil {
		return Confirmed{}, err
	}
	if !wellFormedKey(key) {
		return Confirmed{}, ErrInvalidKey
	}
	k, err := s.cfg.Keys.ConfirmEmail(ctx, tokens.HashToken(key), s.cfg.Now())
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
		return Confirmed{}, ErrInvalidKey
	}
	if err != nil {
		return Confirmed{}, err
	}
	out := Confirmed{ShopKey: k.ShopKey, CustomerID: k.CustomerID, ContinueTo: k.ContinueTo}
	if c, err := s.cfg.Customers.GetCustomer(ctx, k.ShopKey, k.CustomerID); err == nil {
		out.Email = c.Email
	}
	s.cfg.Logger.InfoContext(ctx, "customer confirmed their e-mail address", "shop", k.ShopKey, "customer_id", k.CustomerID)
	return out, nil
}

// Forgot mails a reset link to the customer with this address, if the
// shop has one who may sign in. The answer is the same whether or not it
// does: nil, unless the request is invalid or a fault occurred.
func (s *Service) Forgot(ctx context.Context, shopKey, email, continueTo, clientIP string) error {
	if err := s.allow(clientIP); err != nil {
		return err
	}
	email = strings.TrimSpace(email)
	var v validation
	v.email(email)
	if err := v.err(); err != nil {
		return err
	}
	shop, err := s.shop(ctx, shopKey)
	if err != nil {
		return err
	}
	c, err := s.cfg.Customers.GetCustomerByEmail(ctx, shop.Key, customers.NormalizeEmail(email))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Disabled() {
		return nil
	}
	return s.issueKey(ctx, shop, c, storage.KeyResetPassword, mail.KindResetPassword, s.cfg.ResetKeyTTL, continueTo)
}

// issueKey mails the customer a new key of purpose, voiding their older
// ones.
func (s *Service) issueKey(ctx context.Context, shop storage.Shop, c storage.Customer, purpose, kind string, ttl time.Duration, continueTo string) error {
	key, keyHash, err := newKey()
	if err != nil {
		return err
	}
	path := PathReset
	if purpose == storage.KeyConfirmEmail {
		path = PathConfirm
	}
	now := s.cfg.Now()
	sealed, err := s.cfg.Sealer.Seal(mail.Message{
		Kind: kind, To: c.Email, Name: firstName(c.Name), ShopName: shop.Name, Locale: shop.Locale,
		Link: s.link(path, key), ValidFor: ttl,
	})
	if err != nil {
		return err
	}
	if err := s.cfg.Outbox.IssueAccountKey(ctx, storage.AccountKey{
		KeyHash: keyHash, Purpose: purpose, ShopKey: shop.Key, CustomerID: c.ID, ContinueTo: continueTo,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}, s.outboxMail(sealed, now)); err != nil {
		return err
	}
	s.notify()
	return nil
}

// ResetKey is a usable reset key, for the page that asks for the new
// password.
type ResetKey struct {
	Shop storage.Shop
}

// CheckResetKey reports whether a reset key can still be used, without
// using it: the reset page shows its form only then.
func (s *Service) CheckResetKey(ctx context.Context, key string) (ResetKey, error) {
	k, err := s.usableKey(ctx, key, storage.KeyResetPassword)
	if err != nil {
		return ResetKey{}, err
	}
	shop, err := s.shop(ctx, k.ShopKey)
	if err != nil {
		return ResetKey{}, err
	}
	return ResetKey{Shop: shop}, nil
}

// CheckConfirmKey reports whether a confirmation key can still be used,
// without using it, and the shop it belongs to.
func (s *Service) CheckConfirmKey(ctx context.Context, key string) (storage.Shop, error) {
	k, err := s.usableKey(ctx, key, storage.KeyConfirmEmail)
	if err != nil {
		return storage.Shop{}, err
	}
	return s.shop(ctx, k.ShopKey)
}

func (s *Service) usableKey(ctx context.Context, key, purpose string) (storage.AccountKey, error) {
	if !wellFormedKey(key) {
		return storage.AccountKey{}, ErrInvalidKey
	}
	k, err := s.cfg.Keys.GetAccountKey(ctx, tokens.HashToken(key))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.AccountKey{}, ErrInvalidKey
	}
	if err != nil {
		return storage.AccountKey{}, err
	}
	if k.Purpose != purpose || !k.Usable(s.cfg.Now()) {
		return storage.AccountKey{}, ErrInvalidKey
	}
	return k, nil
}

// Reset is a new password set with a reset key.
type Reset struct {
	Key             string
	Password        string
	ConfirmPassword string
	ClientIP        string
}

// Done is a reset password: the customer can sign in with it.
type Done struct {
	ShopKey    string
	Email      string
	ContinueTo string
}

// ResetPassword sets a new password with a mailed key and ends every
// refresh family and browser session of the customer. The fields are
// checked first, then the key (ErrInvalidKey), before any hashing.
func (s *Service) ResetPassword(ctx context.Context, r Reset) (Done, error) {
	if err := s.allow(r.ClientIP); err != nil {
		return Done{}, err
	}
	var v validation
	v.newPassword(FieldPassword, r.Password, r.ConfirmPassword)
	if err := v.err(); err != nil {
		return Done{}, err
	}
	// A look first, so a wrong key costs no hashing; the use below is the
	// conditional update that decides.
	if _, err := s.usableKey(ctx, r.Key, storage.KeyResetPassword); err != nil {
		return Done{}, err
	}
	hash, err := s.cfg.Passwords.HashPassword(ctx, r.Password)
	if err != nil {
		return Done{}, err
	}
	k, err := s.cfg.Keys.ResetPassword(ctx, tokens.HashToken(r.Key), hash, s.cfg.Now())
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
		return Done{}, ErrInvalidKey
	}
	if err != nil {
		return Done{}, err
	}
	out := Done{ShopKey: k.ShopKey, ContinueTo: k.ContinueTo}
	if c, err := s.cfg.Customers.GetCustomer(ctx, k.ShopKey, k.CustomerID); err == nil {
		out.Email = c.Email
	}
	s.cfg.Logger.InfoContext(ctx, "customer reset their password", "shop", k.ShopKey, "customer_id", k.CustomerID)
	return out, nil
}

// Change is a signed-in customer's password change.
type Change struct {
	ShopKey         string
	CustomerID      uint64
	CurrentPassword string
	NewPassword     string
	ConfirmPassword string
	// SessionToken is the browser session the change is made from (the
	// hosted page's cookie): it stays signed in. Empty for none.
	SessionToken string
	// AccessJTI is the access token the change is made with (an API
	// call): its refresh family stays. Empty for none.
	AccessJTI string
	ClientIP  string
}

// ChangePassword checks the current password (through the login's
// lockout and hashing pool), sets the new one and ends every other
// refresh family and browser session of the customer. ErrWrongPassword
// when the current password is wrong (or changed meanwhile).
func (s *Service) ChangePassword(ctx context.Context, ch Change) error {
	if err := s.allow(ch.ClientIP); err != nil {
		return err
	}
	var v validation
	if ch.CurrentPassword == "" {
		v.add(FieldCurrentPassword, Blank)
	}
	v.newPassword(FieldNewPassword, ch.NewPassword, ch.ConfirmPassword)
	if err := v.err(); err != nil {
		return err
	}
	c, err := s.cfg.Customers.GetCustomer(ctx, ch.ShopKey, ch.CustomerID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUnknownCustomer
	}
	if err != nil {
		return err
	}
	c, err = s.cfg.Passwords.Authenticate(ctx, ch.ShopKey, c.Email, ch.CurrentPassword)
	if errors.Is(err, customers.ErrInvalidCredentials) || errors.Is(err, customers.ErrNotVerified) {
		return fmt.Errorf("%w: %w", ErrWrongPassword, err)
	}
	if err != nil {
		return err
	}
	hash, err := s.cfg.Passwords.HashPassword(ctx, ch.NewPassword)
	if err != nil {
		return err
	}
	keep := ""
	if ch.SessionToken != "" {
		keep = tokens.HashToken(ch.SessionToken)
	}
	err = s.cfg.Keys.ChangePassword(ctx, storage.PasswordChange{
		CustomerID: c.ID, OldHash: c.PasswordHash, NewHash: hash,
		KeepSessionHash: keep, KeepAccessJTI: ch.AccessJTI, Now: s.cfg.Now(),
	})
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("%w: changed meanwhile", ErrWrongPassword)
	}
	if err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(ctx, "customer changed their password", "shop", ch.ShopKey, "customer_id", c.ID)
	return nil
}

// Account returns the customer with their profile; ErrUnknownCustomer when
// the shop has no such customer.
func (s *Service) Account(ctx context.Context, shopKey string, customerID uint64) (Account, error) {
	c, err := s.cfg.Customers.GetCustomer(ctx, shopKey, customerID)
	if errors.Is(err, storage.ErrNotFound) {
		return Account{}, ErrUnknownCustomer
	}
	if err != nil {
		return Account{}, err
	}
	out := Account{Customer: c}
	p, err := s.cfg.Customers.GetCustomerProfile(ctx, c.ID)
	switch {
	case err == nil:
		out.Profile, out.HasProfile = p, true
	case errors.Is(err, storage.ErrNotFound):
		// An operator's customer: their name is all there is.
		out.Profile = storage.CustomerProfile{CustomerID: c.ID, FirstName: c.Name}
	default:
		return Account{}, err
	}
	return out, nil
}

// SignedIn is a browser's live session and its customer.
type SignedIn struct {
	Account Account
	Shop    storage.Shop
}

// SessionAccount returns the customer a hosted-page browser session (its
// cookie value) signs in, with their shop: ErrNoSession for no session,
// an expired one, or a customer who may no longer sign in.
func (s *Service) SessionAccount(ctx context.Context, sessionToken string) (SignedIn, error) {
	if s.cfg.Sessions == nil || sessionToken == "" || len(sessionToken) > 256 {
		return SignedIn{}, ErrNoSession
	}
	row, err := s.cfg.Sessions.GetBrowserSession(ctx, tokens.HashToken(sessionToken))
	if errors.Is(err, storage.ErrNotFound) {
		return SignedIn{}, ErrNoSession
	}
	if err != nil {
		return SignedIn{}, err
	}
	if !s.cfg.Now().Before(row.ExpiresAt) {
		return SignedIn{}, ErrNoSession
	}
	acc, err := s.Account(ctx, row.ShopKey, row.CustomerID)
	if errors.Is(err, ErrUnknownCustomer) {
		return SignedIn{}, ErrNoSession
	}
	if err != nil {
		return SignedIn{}, err
	}
	if !acc.Customer.MayUseTokens() {
		return SignedIn{}, ErrNoSession
	}
	shop, err := s.shop(ctx, row.ShopKey)
	if errors.Is(err, ErrUnknownShop) {
		return SignedIn{}, ErrNoSession
	}
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{Account: acc, Shop: shop}, nil
}

// Shop returns the active shop with this key, or ErrUnknownShop.
func (s *Service) Shop(ctx context.Context, key string) (storage.Shop, error) {
	return s.shop(ctx, key)
}

func (s *Service) shop(ctx context.Context, key string) (storage.Shop, error) {
	if key == "" || len(key) > 64 {
		return storage.Shop{}, ErrUnknownShop
	}
	shop, err := s.cfg.Shops.GetShop(ctx, key)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !shop.Active) {
		return storage.Shop{}, ErrUnknownShop
	}
	if err != nil {
		return storage.Shop{}, fmt.Errorf("load shop: %w", err)
	}
	return shop, nil
}

func (s *Service) allow(clientIP string) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	return s.cfg.Limiter.Allow(clientIP)
}

func (s *Service) notify() {
	if s.cfg.Notifier != nil {
		s.cfg.Notifier.Notify()
	}
}

func (s *Service) link(path, key string) string {
	return s.linkBase + path + "?" + url.Values{"key": {key}}.Encode()
}

func (s *Service) outboxMail(sealed []byte, now time.Time) storage.OutboxMail {
	return storage.OutboxMail{Sealed: sealed, NextAttemptAt: &now, CreatedAt: now}
}

// KeyBytes is a key's randomness: 256 bits.
const KeyBytes = 32

// newKey returns a new key (base64url of 256 random bits, 43 characters)
// and the SHA-256 the database keeps instead.
func newKey() (key, hash string, err error) {
	b := make([]byte, KeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("account key: %w", err)
	}
	key = base64.RawURLEncoding.EncodeToString(b)
	return key, tokens.HashToken(key), nil
}

// wellFormedKey reports whether key could be one newKey made; anything
// else is refused without a database round trip.
func wellFormedKey(key string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(key)
	return err == nil && len(b) == KeyBytes
}

// firstName is how a mail greets a customer an operator created (a name,
// not a profile): the first word of it.
func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}

// Invitation builds a key of purpose for c (a customer being created, or
// one whose address an operator changed) and the sealed mail carrying it,
// for a caller that stores both with the customer in one transaction (the
// admin API, docs/admin.md). A reset key invites: choosing the password
// also confirms the address. Lifetime: the confirmation key's.
func (s *Service) Invitation(shop storage.Shop, c storage.Customer, purpose string) (storage.Invitation, error) {
	key, keyHash, err := newKey()
	if err != nil {
		return storage.Invitation{}, err
	}
	kind, path := mail.KindResetPassword, PathReset
	if purpose == storage.KeyConfirmEmail {
		kind, path = mail.KindConfirmEmail, PathConfirm
	}
	now := s.cfg.Now()
	ttl := s.cfg.ConfirmKeyTTL
	sealed, err := s.cfg.Sealer.Seal(mail.Message{
		Kind: kind, To: c.Email, Name: firstName(c.Name), ShopName: shop.Name, Locale: shop.Locale,
		Link: s.link(path, key), ValidFor: ttl,
	})
	if err != nil {
		return storage.Invitation{}, err
	}
	return storage.Invitation{
		Key: storage.AccountKey{
			KeyHash: keyHash, Purpose: purpose, ShopKey: shop.Key, CustomerID: c.ID, CreatedAt: now, ExpiresAt: now.Add(ttl),
		},
		Mail: s.outboxMail(sealed, now),
	}, nil
}

// Notify wakes the mail sender (after an Invitation was stored).
func (s *Service) Notify() { s.notify() }
