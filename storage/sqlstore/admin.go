package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/shopauth/shopauth/storage"
)

// The administrative writes (storage.AdminStore): each is one transaction
// holding the change and its audit entry. A read-modify-write locks the
// row first: SQLite's write transactions are IMMEDIATE (open.go), MySQL
// reads the row FOR UPDATE.

type auditModel struct {
	ID           uint64 `gorm:"column:id;primaryKey;autoIncrement"`
	At           time.Time
	Actor        string `gorm:"column:actor"`
	Action       string `gorm:"column:action"`
	ResourceType string `gorm:"column:resource_type"`
	ResourceID   string `gorm:"column:resource_id"`
	ShopKey      string `gorm:"column:shop_key"`
}

func (auditModel) TableName() string { return "admin_audit" }

func (m auditModel) toStorage() storage.AuditEntry {
	return storage.AuditEntry{
		ID: m.ID, At: fromDB(m.At), Actor: m.Actor, Action: m.Action,
		ResourceType: m.ResourceType, ResourceID: m.ResourceID, ShopKey: m.ShopKey,
	}
}

func insertAudit(tx *gorm.DB, a storage.AuditEntry) error {
	if a.Actor == "" || a.Action == "" || a.ResourceType == "" {
		return fmt.Errorf("sqlstore: audit entry without actor, action or resource type")
	}
	m := auditModel{
		At: dbTime(a.At), Actor: a.Actor, Action: a.Action,
		ResourceType: a.ResourceType, ResourceID: a.ResourceID, ShopKey: a.ShopKey,
	}
	return tx.Create(&m).Error
}

// forUpdate locks the rows a query reads until the transaction ends (MySQL;
// SQLite's transaction holds the write lock already).
func (s *Store) forUpdate(tx *gorm.DB) *gorm.DB {
	if s.dialect == dialectMySQL {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// CreateShopAudited stores a new shop with its audit entry.
func (s *Store) CreateShopAudited(ctx context.Context, shop storage.Shop, audit storage.AuditEntry) error {
	m := fromShop(shop)
	return s.createAudited(ctx, "shop", &m, audit)
}

// createAudited inserts row and its audit entry in one transaction.
func (s *Store) createAudited(ctx context.Context, what string, row any, audit storage.AuditEntry) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		return insertAudit(tx, audit)
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", what, convertErr(err))
	}
	return nil
}

// UpdateShop applies change to the shop key (whose key cannot change).
func (s *Store) UpdateShop(ctx context.Context, key string, change func(*storage.Shop) error, audit storage.AuditEntry) (storage.Shop, error) {
	var out storage.Shop
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var m shopModel
		if err := s.forUpdate(tx).Where("shop_key = ?", key).Take(&m).Error; err != nil {
			return err
		}
		shop, err := m.toStorage()
		if err != nil {
			return err
		}
		if err := change(&shop); err != nil {
			return err
		}
		shop.Key, shop.CreatedAt = m.Key, fromDB(m.CreatedAt)
		n := fromShop(shop)
		if err := tx.Model(&shopModel{}).Where("shop_key = ?", key).Updates(map[string]any{
			"name": n.Name, "locale": n.Locale, "cors_origins": n.CORSOrigins, "active": n.Active,
		}).Error; err != nil {
			return err
		}
		out = shop
		return insertAudit(tx, audit)
	})
	if err != nil {
		return storage.Shop{}, adminErr("update shop", err)
	}
	return out, nil
}

// adminErr wraps a database error for the caller; an error of a change
// function (anything convertErr leaves alone) comes back as it was.
func adminErr(op string, err error) error {
	converted := convertErr(err)
	if converted == err {
		return err
	}
	return fmt.Errorf("%s: %w", op, converted)
}

// CreateCustomerAudited stores a new customer, the invitation if any and
// the audit entry, in one transaction.
func (s *Store) CreateCustomerAudited(ctx context.Context, c *storage.Customer, invite *storage.Invitation, audit storage.AuditEntry) error {
	var created customerModel
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		created = fromCustomer(c)
		if err := tx.Create(&created).Error; err != nil {
			return err
		}
		if invite != nil {
			key := invite.Key
			key.CustomerID, key.ShopKey = created.ID, created.ShopKey
			if err := insertKeyAndMail(tx, key, invite.Mail); err != nil {
				return err
			}
		}
		audit.ResourceID = strconv.FormatUint(created.ID, 10)
		if audit.ShopKey == "" {
			audit.ShopKey = created.ShopKey
		}
		return insertAudit(tx, audit)
	})
	if err != nil {
		return fmt.Errorf("create customer: %w", convertErr(err))
	}
	c.ID = created.ID
	c.CreatedAt, c.UpdatedAt = fromDB(created.CreatedAt), fromDB(created.UpdatedAt)
	return nil
}

// UpdateCustomer applies change and its effects to the customer id of
// shopKey in one transaction.
func (s *Store) UpdateCustomer(ctx context.Context, shopKey string, id uint64, change func(*storage.Customer) (storage.CustomerEffects, error), audit storage.AuditEntry) (storage.Customer, error) {
	var out storage.Customer
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var m customerModel
		if err := s.forUpdate(tx).Where("id = ? AND shop_key = ?", id, shopKey).Take(&m).Error; err != nil {
			return err
		}
		before := m.toStorage()
		c := before
		effects, err := change(&c)
		if err != nil {
			return err
		}
		c.ID, c.ShopKey, c.CreatedAt = before.ID, before.ShopKey, before.CreatedAt
		n := fromCustomer(&c)
		if err := tx.Model(&customerModel{}).Where("id = ?", id).Updates(map[string]any{
			"email": n.Email, "email_normalized": n.EmailNormalized, "name": n.Name,
			"password_hash": n.PasswordHash, "email_verified_at": n.EmailVerifiedAt, "disabled_at": n.DisabledAt,
			"account_id": n.AccountID, "customer_reference": n.CustomerReference, "company_user_id": n.CompanyUserID,
			"updated_at": n.UpdatedAt,
		}).Error; err != nil {
			return err
		}
		now := c.UpdatedAt
		if effects.ClearLoginFailures || effects.Erase {
			if err := tx.Where("shop_key = ? AND email_normalized = ?", before.ShopKey, before.EmailNormalized).
				Delete(&loginFailureModel{}).Error; err != nil {
				return err
			}
		}
		if effects.VoidKeys {
			if err := voidKeys(tx, id, now); err != nil {
				return err
			}
		}
		if effects.EndSessions || effects.Erase {
			if err := endCustomerSessions(tx, id, before.ShopKey, now, "", ""); err != nil {
				return err
			}
		}
		if effects.Erase {
			for _, model := range []any{&customerProfileModel{}, &accountKeyModel{}, &consentModel{}} {
				if err := tx.Where("customer_id = ?", id).Delete(model).Error; err != nil {
					return err
				}
			}
		}
		if effects.Invitation != nil {
			key := effects.Invitation.Key
			key.CustomerID, key.ShopKey = id, before.ShopKey
			if err := insertKeyAndMail(tx, key, effects.Invitation.Mail); err != nil {
				return err
			}
		}
		if audit.ResourceID == "" {
			audit.ResourceID = strconv.FormatUint(id, 10)
		}
		if audit.ShopKey == "" {
			audit.ShopKey = before.ShopKey
		}
		out = n.toStorage()
		return insertAudit(tx, audit)
	})
	if err != nil {
		return storage.Customer{}, adminErr("update customer", err)
	}
	return out, nil
}

// ListCustomers returns a page of a shop's customers in id order.
func (s *Store) ListCustomers(ctx context.Context, q storage.CustomerQuery) ([]storage.Customer, error) {
	db := s.db.WithContext(ctx).Where("shop_key = ? AND id > ?", q.ShopKey, q.AfterID)
	if q.EmailPrefix != "" {
		db = db.Where("email_normalized LIKE ? ESCAPE '!'", likePrefix(q.EmailPrefix))
	}
	var ms []customerModel
	if err := db.Order("id").Limit(q.Limit).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list customers: %w", convertErr(err))
	}
	out := make([]storage.Customer, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.toStorage())
	}
	return out, nil
}

// likePrefix escapes LIKE's wildcards in p (with '!') and appends '%'.
func likePrefix(p string) string {
	b := make([]byte, 0, len(p)+1)
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '!', '%', '_':
			b = append(b, '!')
		}
		b = append(b, p[i])
	}
	return string(append(b, '%'))
}

// CreateClientAudited stores a client registration with its audit entry.
func (s *Store) CreateClientAudited(ctx context.Context, c storage.Client, audit storage.AuditEntry) error {
	m := fromClient(c)
	return s.createAudited(ctx, "client", &m, audit)
}

// UpdateClient applies change to the client id.
func (s *Store) UpdateClient(ctx context.Context, id string, change func(*storage.Client) error, audit storage.AuditEntry) (storage.Client, error) {
	var out storage.Client
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var m clientModel
		if err := s.forUpdate(tx).Where("id = ?", id).Take(&m).Error; err != nil {
			return err
		}
		c, err := m.toStorage()
		if err != nil {
			return err
		}
		if err := change(&c); err != nil {
			return err
		}
		c.ID, c.CreatedAt = m.ID, fromDB(m.CreatedAt)
		n := fromClient(c)
		if err := tx.Model(&clientModel{}).Where("id = ?", id).Select("*").Omit("id", "created_at").Updates(&n).Error; err != nil {
			return err
		}
		out, err = n.toStorage()
		if err != nil {
			return err
		}
		return insertAudit(tx, audit)
	})
	if err != nil {
		return storage.Client{}, adminErr("update client", err)
	}
	return out, nil
}

// DeleteClient deletes the client id and the consents given to it.
func (s *Store) DeleteClient(ctx context.Context, id string, check func(storage.Client) error, audit storage.AuditEntry) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var m clientModel
		if err := s.forUpdate(tx).Where("id = ?", id).Take(&m).Error; err != nil {
			return err
		}
		c, err := m.toStorage()
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(c); err != nil {
				return err
			}
		}
		if err := tx.Where("client_id = ?", id).Delete(&consentModel{}).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Delete(&clientModel{}).Error; err != nil {
			return err
		}
		return insertAudit(tx, audit)
	})
	if err != nil {
		return adminErr("delete client", err)
	}
	return nil
}

// ListConsents lists a customer's consents by client id.
func (s *Store) ListConsents(ctx context.Context, customerID uint64) ([]storage.Consent, error) {
	var ms []consentModel
	if err := s.db.WithContext(ctx).Where("customer_id = ?", customerID).Order("client_id").Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list consents: %w", convertErr(err))
	}
	out := make([]storage.Consent, 0, len(ms))
	for _, m := range ms {
		scopes, err := decodeList("consents.scopes", m.Scopes)
		if err != nil {
			return nil, err
		}
		out = append(out, storage.Consent{CustomerID: m.CustomerID, ClientID: m.ClientID, Scopes: scopes, GrantedAt: fromDB(m.GrantedAt)})
	}
	return out, nil
}

// RevokeConsentAudited deletes one consent with its audit entry.
func (s *Store) RevokeConsentAudited(ctx context.Context, customerID uint64, clientID string, audit storage.AuditEntry) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Where("customer_id = ? AND client_id = ?", customerID, clientID).Delete(&consentModel{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return storage.ErrNotFound
		}
		return insertAudit(tx, audit)
	})
	if err != nil {
		return adminErr("revoke consent", err)
	}
	return nil
}

// RecordAudit stores an entry on its own.
func (s *Store) RecordAudit(ctx context.Context, audit storage.AuditEntry) error {
	if err := insertAudit(s.db.WithContext(ctx), audit); err != nil {
		return fmt.Errorf("record audit: %w", convertErr(err))
	}
	return nil
}

// ListAudit returns entries after afterID in id order.
func (s *Store) ListAudit(ctx context.Context, shopKey string, afterID uint64, limit int) ([]storage.AuditEntry, error) {
	db := s.db.WithContext(ctx).Where("id > ?", afterID)
	if shopKey != "" {
		db = db.Where("shop_key = ?", shopKey)
	}
	var ms []auditModel
	if err := db.Order("id").Limit(limit).Find(&ms).Error; err != nil {
		return nil, fmt.Errorf("list audit: %w", convertErr(err))
	}
	out := make([]storage.AuditEntry, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.toStorage())
	}
	return out, nil
}
