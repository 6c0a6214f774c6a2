// Package storage is shopauth's persistence contract: the domain data as
// plain structs, the store's operations and the semantics each must keep
// (store.go), and the errors every backend maps its driver errors to. The
// gorm implementation lives in storage/sqlstore; storage/storagetest holds
// the conformance suite every backend must pass, on SQLite and MySQL.
package storage
