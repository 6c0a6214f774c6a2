package storage

import (
	"crypto/sha256"
	"encoding/hex"
)

// ImportRecord is what the last import wrote into a customer's fields —
// the file's values, the password hash as its SHA-256 — stored with the
// customer. It tells a field the import still owns (it holds what the
// import wrote) from one changed in shopauth since.
type ImportRecord struct {
	Email              string `json:"email"`
	Name               string `json:"name"`
	PasswordHashSHA256 string `json:"password_hash_sha256"`
	Verified           bool   `json:"verified"`
	AccountID          uint64 `json:"account_id"`
	CustomerReference  string `json:"customer_reference"`
	CompanyUserID      string `json:"company_user_id"`
}

// NewImportRecord records the fields of an imported row.
func NewImportRecord(row Customer) ImportRecord {
	return ImportRecord{
		Email:              row.Email,
		Name:               row.Name,
		PasswordHashSHA256: hashDigest(row.PasswordHash),
		Verified:           row.EmailVerifiedAt != nil,
		AccountID:          row.AccountID,
		CustomerReference:  row.CustomerReference,
		CompanyUserID:      row.CompanyUserID,
	}
}

func hashDigest(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:])
}

// MergeImport is the rule by which an import row updates a stored
// customer (docs/operations.md, "Importing customers again"): the file's
// value replaces a field only while the field still holds what the last
// import wrote into it (last; nil for a customer no import wrote yet, whose
// fields are all treated as set in shopauth). So a field changed in
// shopauth since — a new password, a rehash at login, a name edited — is
// kept, and running the same file again changes nothing. Besides:
//
//   - The import verifies, never un-verifies: an unverified customer whose
//     row says verified becomes verified at the row's time only if the
//     last import left it unverified; a verification is never cleared and
//     its time never restamped.
//   - Disabling is shopauth's alone: the import never disables or enables.
//   - ID, shop, e-mail address (normalized), lockout and creation time are
//     never changed.
//
// It returns the customer to store, the record to store with it (always
// the row's: what this import wrote or would have written), and whether
// any field of the customer changed.
func MergeImport(stored Customer, last *ImportRecord, row Customer) (merged Customer, record ImportRecord, changed bool) {
	merged, record = stored, NewImportRecord(row)
	owned := func(current, imported any) bool { return last != nil && current == imported }
	set := func(field *string, value string, imported string) {
		if *field != value && owned(*field, imported) {
			*field, changed = value, true
		}
	}
	var lastRecord ImportRecord
	if last != nil {
		lastRecord = *last
	}
	set(&merged.Email, row.Email, lastRecord.Email)
	set(&merged.Name, row.Name, lastRecord.Name)
	set(&merged.CustomerReference, row.CustomerReference, lastRecord.CustomerReference)
	set(&merged.CompanyUserID, row.CompanyUserID, lastRecord.CompanyUserID)
	if merged.AccountID != row.AccountID && owned(merged.AccountID, lastRecord.AccountID) {
		merged.AccountID, changed = row.AccountID, true
	}
	if merged.PasswordHash != row.PasswordHash && owned(hashDigest(merged.PasswordHash), lastRecord.PasswordHashSHA256) {
		merged.PasswordHash, changed = row.PasswordHash, true
	}
	if merged.EmailVerifiedAt == nil && row.EmailVerifiedAt != nil && owned(false, lastRecord.Verified) {
		at := *row.EmailVerifiedAt
		merged.EmailVerifiedAt, changed = &at, true
	}
	return merged, record, changed
}

// ImportResult is what an import of one batch did (or, planned, would do).
type ImportResult struct {
	Inserted, Updated int
	// Unchanged counts rows of customers that exist and kept every field.
	Unchanged int
	// Refused lists the rows written nowhere, in batch order.
	Refused []ImportRefusal
}

// ImportRefusal is a row of a batch the store refused, by its index in the
// batch, with the reason in words for the operator.
type ImportRefusal struct {
	Index  int
	Reason string
}
