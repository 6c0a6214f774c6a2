package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/shopauth/shopauth/storage"
)

// upsertInsertBatch is the rows of one multi-row INSERT (17 columns
// each). Far below SQLite's bound-variable limit on purpose: the SQLite
// driver binds parameters in time quadratic in their number, so 100 rows
// a statement import several times faster than 500.
const upsertInsertBatch = 100

// upsertLookupBatch is the e-mails (or ids) of one SELECT … IN (…).
const upsertLookupBatch = 200

// importedCustomerModel is a customer row with its import record: the
// runtime customerModel leaves the record out, so the hot reads of every
// token request do not carry it.
type importedCustomerModel struct {
	Customer     customerModel `gorm:"embedded"`
	ImportRecord *string       `gorm:"column:import_record"`
}

func (importedCustomerModel) TableName() string { return "customers" }

// importPlan is what an import of one batch writes.
type importPlan struct {
	result  storage.ImportResult
	inserts []importedCustomerModel
	updates []importUpdate
}

// importUpdate is one stored customer's new fields (changed) or only its
// new import record (!changed).
type importUpdate struct {
	id      uint64
	merged  storage.Customer
	record  string
	changed bool
}

// UpsertCustomers imports a batch of customers of one or more shops in one
// transaction, matching by (ShopKey, EmailNormalized): a customer already
// stored keeps its ID and takes the row's fields as storage.MergeImport
// rules (only fields not changed in shopauth since the last import; never
// disabled or enabled, never un-verified); the others are inserted, with
// their ID when it is set. Every written customer records the row as its
// import record. Rows the store cannot apply are refused one by one, the
// rest still written (see ImportResult.Refused): a row whose e-mail
// belongs to a customer with another ID than the row's customer_id, and a
// new row whose customer_id another customer has. storage.ErrConflict, and
// nothing written, when an e-mail appears twice in cs or a concurrent
// writer created one of its customers meanwhile.
//
// The stored rows are read with FOR UPDATE (MySQL; SQLite's transaction
// holds the write lock from BEGIN), so nothing changes them between the
// read the merge decides on and the write.
func (s *Store) UpsertCustomers(ctx context.Context, cs []storage.Customer) (storage.ImportResult, error) {
	if len(cs) == 0 {
		return storage.ImportResult{}, nil
	}
	now := s.now()
	var res storage.ImportResult
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		plan, err := planImport(tx, cs, true)
		if err != nil {
			return err
		}
		for _, u := range plan.updates {
			if err := tx.Model(&importedCustomerModel{}).Where("id = ?", u.id).Updates(u.columns(now)).Error; err != nil {
				return err
			}
		}
		for i := range plan.inserts {
			m := &plan.inserts[i]
			if m.Customer.CreatedAt.IsZero() {
				m.Customer.CreatedAt = now
			}
			m.Customer.UpdatedAt = now
		}
		// Rows with and without an explicit ID go in separate statements:
		// in one multi-row INSERT, SQLite would store a zero ID as 0.
		var withID, withoutID []importedCustomerModel
		for _, m := range plan.inserts {
			if m.Customer.ID != 0 {
				withID = append(withID, m)
			} else {
				withoutID = append(withoutID, m)
			}
		}
		for _, batch := range [][]importedCustomerModel{withID, withoutID} {
			if len(batch) == 0 {
				continue
			}
			if err := tx.CreateInBatches(batch, upsertInsertBatch).Error; err != nil {
				return err
			}
		}
		res = plan.result
		return nil
	})
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("upsert customers: %w", convertErr(err))
	}
	return res, nil
}

// PlanUpsertCustomers reports what UpsertCustomers would do with cs now,
// writing nothing: for `customer import --dry-run` and the check of a
// whole file before anything of it is written.
func (s *Store) PlanUpsertCustomers(ctx context.Context, cs []storage.Customer) (storage.ImportResult, error) {
	if len(cs) == 0 {
		return storage.ImportResult{}, nil
	}
	plan, err := planImport(s.db.WithContext(ctx), cs, false)
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("plan customer upsert: %w", convertErr(err))
	}
	return plan.result, nil
}

func (u importUpdate) columns(now time.Time) map[string]any {
	if !u.changed {
		return map[string]any{"import_record": u.record}
	}
	c := u.merged
	return map[string]any{
		"email":              c.Email,
		"name":               c.Name,
		"password_hash":      c.PasswordHash,
		"email_verified_at":  dbTimePtr(c.EmailVerifiedAt),
		"account_id":         c.AccountID,
		"customer_reference": c.CustomerReference,
		"company_user_id":    c.CompanyUserID,
		"import_record":      u.record,
		"updated_at":         now,
	}
}

type importKey struct{ shop, email string }

// planImport reads what the batch touches (locking it when lock is set)
// and decides every row.
func planImport(tx *gorm.DB, cs []storage.Customer, lock bool) (importPlan, error) {
	var plan importPlan
	byShop := map[string][]string{}
	seen := make(map[importKey]bool, len(cs))
	for _, c := range cs {
		k := importKey{c.ShopKey, c.EmailNormalized}
		if seen[k] {
			return plan, fmt.Errorf("e-mail %q twice in one batch: %w", c.EmailNormalized, storage.ErrConflict)
		}
		seen[k] = true
		byShop[c.ShopKey] = append(byShop[c.ShopKey], c.EmailNormalized)
	}
	existing, err := readImportTargets(tx, byShop, lock)
	if err != nil {
		return plan, err
	}
	var newIDs []uint64
	for _, c := range cs {
		if _, ok := existing[importKey{c.ShopKey, c.EmailNormalized}]; !ok && c.ID != 0 {
			newIDs = append(newIDs, c.ID)
		}
	}
	taken, err := takenCustomerIDs(tx, newIDs)
	if err != nil {
		return plan, err
	}
	refuse := func(i int, format string, args ...any) {
		plan.result.Refused = append(plan.result.Refused, storage.ImportRefusal{Index: i, Reason: fmt.Sprintf(format, args...)})
	}
	for i := range cs {
		row := cs[i]
		ex, ok := existing[importKey{row.ShopKey, row.EmailNormalized}]
		switch {
		case ok && row.ID != 0 && row.ID != ex.customer.ID:
			refuse(i, "e-mail %s belongs to customer %d, not to customer_id %d", row.EmailNormalized, ex.customer.ID, row.ID)
		case ok:
			merged, record, changed := storage.MergeImport(ex.customer, ex.record, row)
			encoded, err := encodeImportRecord(record)
			if err != nil {
				return plan, err
			}
			if changed {
				plan.result.Updated++
			} else {
				plan.result.Unchanged++
			}
			if changed || ex.rawRecord == nil || *ex.rawRecord != encoded {
				plan.updates = append(plan.updates, importUpdate{id: ex.customer.ID, merged: merged, record: encoded, changed: changed})
			}
		case row.ID != 0 && taken[row.ID]:
			refuse(i, "customer_id %d belongs to another customer", row.ID)
		default:
			encoded, err := encodeImportRecord(storage.NewImportRecord(row))
			if err != nil {
				return plan, err
			}
			if row.ID != 0 {
				taken[row.ID] = true // a second row with it is refused
			}
			plan.inserts = append(plan.inserts, importedCustomerModel{Customer: fromCustomer(&row), ImportRecord: &encoded})
			plan.result.Inserted++
		}
	}
	return plan, nil
}

// importTarget is a stored customer as an import reads it.
type importTarget struct {
	customer  storage.Customer
	record    *storage.ImportRecord
	rawRecord *string
}

func readImportTargets(tx *gorm.DB, byShop map[string][]string, lock bool) (map[importKey]importTarget, error) {
	found := map[importKey]importTarget{}
	for shop, emails := range byShop {
		for start := 0; start < len(emails); start += upsertLookupBatch {
			chunk := emails[start:min(start+upsertLookupBatch, len(emails))]
			q := tx.Model(&importedCustomerModel{}).
				Select("id", "shop_key", "email", "email_normalized", "name", "password_hash", "email_verified_at",
					"disabled_at", "account_id", "customer_reference", "company_user_id", "created_at", "import_record").
				Where("shop_key = ? AND email_normalized IN ?", shop, chunk)
			if lock {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			var rows []importedCustomerModel
			if err := q.Find(&rows).Error; err != nil {
				return nil, err
			}
			for _, r := range rows {
				t := importTarget{customer: r.Customer.toStorage(), rawRecord: r.ImportRecord}
				if r.ImportRecord != nil {
					var rec storage.ImportRecord
					if err := json.Unmarshal([]byte(*r.ImportRecord), &rec); err != nil {
						return nil, fmt.Errorf("customer %d: unreadable import_record: %w", r.Customer.ID, err)
					}
					t.record = &rec
				}
				found[importKey{shop, r.Customer.EmailNormalized}] = t
			}
		}
	}
	return found, nil
}

// takenCustomerIDs reports which of ids exist, in any shop.
func takenCustomerIDs(tx *gorm.DB, ids []uint64) (map[uint64]bool, error) {
	taken := map[uint64]bool{}
	for start := 0; start < len(ids); start += upsertLookupBatch {
		var found []uint64
		if err := tx.Model(&customerModel{}).Where("id IN ?", ids[start:min(start+upsertLookupBatch, len(ids))]).
			Pluck("id", &found).Error; err != nil {
			return nil, err
		}
		for _, id := range found {
			taken[id] = true
		}
	}
	return taken, nil
}

func encodeImportRecord(r storage.ImportRecord) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode import record: %w", err)
	}
	return string(b), nil
}

// SetDisabled disables the customer (at set) or enables it again (nil);
// storage.ErrNotFound for an unknown id.
func (s *Store) SetDisabled(ctx context.Context, id uint64, at *time.Time) error {
	if err := s.setCustomerTime(ctx, id, "disabled_at", at); err != nil {
		return fmt.Errorf("set disabled: %w", err)
	}
	return nil
}
