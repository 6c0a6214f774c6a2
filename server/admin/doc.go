// Package admin is the one set of administrative rules and operations:
// shops, customers, clients, consents, signing keys and the audit trail.
// The CLI (cli/) and the admin HTTP API (web/admin) both call it, so a
// field is validated once and every change is audited the same way
// (docs/admin.md).
//
// Every change names its Actor (an admin client, or the CLI) and is one
// storage transaction with its audit entry (storage.AdminStore). A
// shop-bound actor sees and changes only its own shop's resources: the
// others do not exist for it (NotFound), and what has no shop (creating
// shops, signing keys) is Forbidden. Updates take the resource's ETag,
// checked inside the transaction: a lost update is PreconditionFailed.
package admin
