package admin

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
)

// CustomerInput is a new customer. Exactly one of Password, PasswordHash
// and Invite gives them a way in.
type CustomerInput struct {
	Shop  string
	Email string
	Name  string
	// Password is hashed with the server's argon2id parameters.
	Password string
	// PasswordHash is a legacy hash imported as is (argon2id/argon2i PHC,
	// bcrypt, phpass).
	PasswordHash string
	// Invite mails the customer a link to choose their password (the
	// password-reset mail of docs/accounts.md); the link also confirms the
	// address.
	Invite            bool
	Verified          bool
	ID                uint64 // 0: the next free one
	AccountID         uint64
	CustomerReference string
	CompanyUserID     string
}

// CustomerPatch changes a customer's name or e-mail address; a new
// address is unverified until the customer confirms it.
type CustomerPatch struct {
	Name  *string
	Email *string
}

// CustomerETag is the ETag of a customer.
func CustomerETag(c storage.Customer) string { return etagOf(c) }

// ErasedEmailDomain is the domain of an erased customer's pseudonymous
// address: reserved (RFC 2606), so no mail goes anywhere.
const ErasedEmailDomain = "erased.invalid"

// Erased reports whether the customer was erased.
func Erased(c storage.Customer) bool {
	return strings.HasSuffix(c.EmailNormalized, "@"+ErasedEmailDomain)
}

func (s *Service) customerShop(ctx context.Context, actor Actor, shop string) (storage.Shop, error) {
	if !actor.sees(shop) {
		return storage.Shop{}, refuse(NotFound, "shop not found")
	}
	sh, err := s.cfg.Store.GetShop(ctx, shop)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Shop{}, refuse(NotFound, "no shop %q", shop)
	}
	return sh, err
}

func checkPassword(field, pw string) error {
	switch {
	case pw == "":
		return invalid(field, "is required")
	case len(pw) > customers.MaxPasswordBytes:
		return invalid(field, "is longer than %d bytes", customers.MaxPasswordBytes)
	}
	return nil
}

// CreateCustomer adds a customer to a shop the actor sees.
func (s *Service) CreateCustomer(ctx context.Context, actor Actor, in CustomerInput) (storage.Customer, error) {
	ways := 0
	for _, given := range []bool{in.Password != "", in.PasswordHash != "", in.Invite} {
		if given {
			ways++
		}
	}
	if ways != 1 {
		return storage.Customer{}, invalid("password", "give exactly one of password, password_hash and invite")
	}
	if err := checkEmail("email", in.Email); err != nil {
		return storage.Customer{}, err
	}
	if err := checkName("name", in.Name); err != nil {
		return storage.Customer{}, err
	}
	if len(in.CustomerReference) > 64 || len(in.CompanyUserID) > 64 {
		return storage.Customer{}, invalid("customer_reference", "and company_user_id are at most 64 bytes")
	}
	if in.Invite && s.cfg.Inviter == nil {
		return storage.Customer{}, refuse(Unsupported, "invitations need the mail settings of docs/accounts.md")
	}
	if in.Password != "" {
		if err := checkPassword("password", in.Password); err != nil {
			return storage.Customer{}, err
		}
	}
	if in.PasswordHash != "" && customers.CheckHashFormat(in.PasswordHash) != nil {
		return storage.Customer{}, invalid("password_hash", "is not a supported hash (argon2id/argon2i PHC, bcrypt, phpass)")
	}
	shop, err := s.customerShop(ctx, actor, in.Shop)
	if err != nil {
		return storage.Customer{}, err
	}
	now := s.now()
	c := storage.Customer{
		ID: in.ID, ShopKey: shop.Key, Email: strings.TrimSpace(in.Email), EmailNormalized: customers.NormalizeEmail(in.Email),
		Name: in.Name, PasswordHash: in.PasswordHash, AccountID: in.AccountID, CustomerReference: in.CustomerReference,
		CompanyUserID: in.CompanyUserID, CreatedAt: now, UpdatedAt: now,
	}
	if in.Verified {
		c.EmailVerifiedAt = &now
	}
	if in.Password != "" {
		if c.PasswordHash, err = s.cfg.Hasher.Hash(in.Password); err != nil {
			return storage.Customer{}, err
		}
	}
	var invite *storage.Invitation
	if in.Invite {
		inv, err := s.cfg.Inviter.Invitation(shop, c, storage.KeyResetPassword)
		if err != nil {
			return storage.Customer{}, err
		}
		invite = &inv
	}
	a := s.entry(actor, "customer.create", "customer", "", shop.Key)
	if err := s.cfg.Store.CreateCustomerAudited(ctx, &c, invite, a); errors.Is(err, storage.ErrConflict) {
		return storage.Customer{}, &Error{Kind: Conflict, Field: "email", Message: "a customer with this e-mail or id exists already in shop " + shop.Key}
	} else if err != nil {
		return storage.Customer{}, err
	}
	a.ResourceID = strconv.FormatUint(c.ID, 10)
	s.logged(ctx, a)
	if invite != nil {
		s.cfg.Inviter.Notify()
	}
	return s.cfg.Store.GetCustomer(ctx, shop.Key, c.ID)
}

// GetCustomer returns a customer of a shop the actor sees.
func (s *Service) GetCustomer(ctx context.Context, actor Actor, shop string, id uint64) (storage.Customer, error) {
	if !actor.sees(shop) {
		return storage.Customer{}, refuse(NotFound, "customer not found")
	}
	c, err := s.cfg.Store.GetCustomer(ctx, shop, id)
	return c, notFound(err, "customer")
}

// FindCustomer returns the customer of shop with the e-mail address.
func (s *Service) FindCustomer(ctx context.Context, actor Actor, shop, email string) (storage.Customer, error) {
	if !actor.sees(shop) {
		return storage.Customer{}, refuse(NotFound, "customer not found")
	}
	c, err := s.cfg.Store.GetCustomerByEmail(ctx, shop, customers.NormalizeEmail(email))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Customer{}, refuse(NotFound, "no customer with e-mail %s in shop %s", email, shop)
	}
	return c, err
}

// CustomerPage is a page of customers; Next is the cursor of the next
// page, 0 when this one is the last.
type CustomerPage struct {
	Customers []storage.Customer
	Next      uint64
}

// ListCustomers returns a page of a shop's customers in id order after
// the cursor, only those whose e-mail starts with emailPrefix when given.
func (s *Service) ListCustomers(ctx context.Context, actor Actor, shop, emailPrefix string, after uint64, limit int) (CustomerPage, error) {
	n, err := pageSize(limit)
	if err != nil {
		return CustomerPage{}, err
	}
	if len(emailPrefix) > 254 {
		return CustomerPage{}, invalid("email", "is longer than 254 bytes")
	}
	if _, err := s.customerShop(ctx, actor, shop); err != nil {
		return CustomerPage{}, err
	}
	list, err := s.cfg.Store.ListCustomers(ctx, storage.CustomerQuery{
		ShopKey: shop, EmailPrefix: customers.NormalizeEmail(emailPrefix), AfterID: after, Limit: n + 1,
	})
	if err != nil {
		return CustomerPage{}, err
	}
	page := CustomerPage{Customers: list}
	if len(list) > n {
		page.Customers = list[:n]
		page.Next = list[n-1].ID
	}
	return page, nil
}

// changeCustomer runs change on the customer inside its transaction,
// after the ETag check, and audits it as action.
func (s *Service) changeCustomer(ctx context.Context, actor Actor, shop string, id uint64, ifMatch, action string,
	change func(c *storage.Customer, now time.Time) (storage.CustomerEffects, error)) (storage.Customer, error) {
	if !actor.sees(shop) {
		return storage.Customer{}, refuse(NotFound, "customer not found")
	}
	a := s.entry(actor, action, "customer", strconv.FormatUint(id, 10), shop)
	now := s.now()
	c, err := s.cfg.Store.UpdateCustomer(ctx, shop, id, func(c *storage.Customer) (storage.CustomerEffects, error) {
		if err := checkETag(ifMatch, CustomerETag(*c)); err != nil {
			return storage.CustomerEffects{}, err
		}
		if Erased(*c) {
			return storage.CustomerEffects{}, refuse(NotFound, "customer not found (erased)")
		}
		effects, err := change(c, now)
		c.UpdatedAt = now
		return effects, err
	}, a)
	if errors.Is(err, storage.ErrConflict) {
		return storage.Customer{}, &Error{Kind: Conflict, Field: "email", Message: "another customer of the shop has this e-mail"}
	}
	if err != nil {
		return storage.Customer{}, notFound(err, "customer")
	}
	s.logged(ctx, a)
	return c, nil
}

// UpdateCustomer changes a customer's name or e-mail address. A new
// address is unverified, pending keys are voided and, with an Inviter,
// a confirmation mail goes to the new address.
func (s *Service) UpdateCustomer(ctx context.Context, actor Actor, shop string, id uint64, ifMatch string, p CustomerPatch) (storage.Customer, error) {
	if p.Name != nil {
		if err := checkName("name", *p.Name); err != nil {
			return storage.Customer{}, err
		}
	}
	if p.Email != nil {
		if err := checkEmail("email", *p.Email); err != nil {
			return storage.Customer{}, err
		}
	}
	var sh storage.Shop
	if p.Email != nil && s.cfg.Inviter != nil {
		var err error
		if sh, err = s.customerShop(ctx, actor, shop); err != nil {
			return storage.Customer{}, err
		}
	}
	mailed := false
	c, err := s.changeCustomer(ctx, actor, shop, id, ifMatch, "customer.update", func(c *storage.Customer, now time.Time) (storage.CustomerEffects, error) {
		var effects storage.CustomerEffects
		if p.Name != nil {
			c.Name = *p.Name
		}
		if p.Email != nil && customers.NormalizeEmail(*p.Email) != c.EmailNormalized {
			c.Email, c.EmailNormalized, c.EmailVerifiedAt = strings.TrimSpace(*p.Email), customers.NormalizeEmail(*p.Email), nil
			effects.VoidKeys, effects.EndSessions = true, true
			if s.cfg.Inviter != nil {
				inv, err := s.cfg.Inviter.Invitation(sh, *c, storage.KeyConfirmEmail)
				if err != nil {
					return effects, err
				}
				effects.Invitation, mailed = &inv, true
			}
		} else if p.Email != nil {
			c.Email = strings.TrimSpace(*p.Email)
		}
		return effects, nil
	})
	if err == nil && mailed {
		s.cfg.Inviter.Notify()
	}
	return c, err
}

// SetPassword replaces a customer's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, actor Actor, shop string, id uint64, ifMatch, password string) (storage.Customer, error) {
	if err := checkPassword("password", password); err != nil {
		return storage.Customer{}, err
	}
	hash, err := s.cfg.Hasher.Hash(password)
	if err != nil {
		return storage.Customer{}, err
	}
	return s.changeCustomer(ctx, actor, shop, id, ifMatch, "customer.set_password", func(c *storage.Customer, _ time.Time) (storage.CustomerEffects, error) {
		c.PasswordHash = hash
		return storage.CustomerEffects{EndSessions: true, VoidKeys: true, ClearLoginFailures: true}, nil
	})
}

// SetVerified marks the customer's address verified (a second time keeps
// the first time).
func (s *Service) SetVerified(ctx context.Context, actor Actor, shop string, id uint64, ifMatch string) (storage.Customer, error) {
	return s.changeCustomer(ctx, actor, shop, id, ifMatch, "customer.verify", func(c *storage.Customer, now time.Time) (storage.CustomerEffects, error) {
		if c.EmailVerifiedAt == nil {
			c.EmailVerifiedAt = &now
		}
		return storage.CustomerEffects{}, nil
	})
}

// SetDisabled disables (ending every session and token) or enables a
// customer.
func (s *Service) SetDisabled(ctx context.Context, actor Actor, shop string, id uint64, ifMatch string, disabled bool) (storage.Customer, error) {
	action := "customer.enable"
	if disabled {
		action = "customer.disable"
	}
	return s.changeCustomer(ctx, actor, shop, id, ifMatch, action, func(c *storage.Customer, now time.Time) (storage.CustomerEffects, error) {
		if !disabled {
			c.DisabledAt = nil
			return storage.CustomerEffects{}, nil
		}
		if c.DisabledAt == nil {
			c.DisabledAt = &now
		}
		return storage.CustomerEffects{EndSessions: true}, nil
	})
}

// Unlock ends the lockout of the customer's address.
func (s *Service) Unlock(ctx context.Context, actor Actor, shop string, id uint64, ifMatch string) (storage.Customer, error) {
	return s.changeCustomer(ctx, actor, shop, id, ifMatch, "customer.unlock", func(*storage.Customer, time.Time) (storage.CustomerEffects, error) {
		return storage.CustomerEffects{ClearLoginFailures: true}, nil
	})
}

// RevokeSessions ends every refresh family, the access tokens issued from
// them and every browser session of the customer.
func (s *Service) RevokeSessions(ctx context.Context, actor Actor, shop string, id uint64, ifMatch string) (storage.Customer, error) {
	return s.changeCustomer(ctx, actor, shop, id, ifMatch, "customer.revoke_sessions", func(*storage.Customer, time.Time) (storage.CustomerEffects, error) {
		return storage.CustomerEffects{EndSessions: true}, nil
	})
}

// Erase erases a customer (GDPR art. 17): name, e-mail address, password,
// profile, consents, account keys and login failures are removed, every
// refresh family, access token and browser session ends, and the row
// stays only as a pseudonym (the id, so `sub` is never reused) that
// cannot sign in. The e-mail address is free for a new registration.
func (s *Service) Erase(ctx context.Context, actor Actor, shop string, id uint64, ifMatch string) (storage.Customer, error) {
	return s.changeCustomer(ctx, actor, shop, id, ifMatch, "customer.erase", func(c *storage.Customer, now time.Time) (storage.CustomerEffects, error) {
		pseudonym := "customer-" + strconv.FormatUint(c.ID, 10) + "@" + ErasedEmailDomain
		c.Email, c.EmailNormalized, c.Name, c.PasswordHash = pseudonym, pseudonym, "", ""
		c.EmailVerifiedAt, c.DisabledAt = nil, &now
		c.CustomerReference, c.CompanyUserID = "", ""
		return storage.CustomerEffects{Erase: true, VoidKeys: true}, nil
	})
}
