// Package storage defines shopauth's persistent domain data as plain structs
// and the errors every backend maps its driver errors to. The gorm
// implementation lives in storage/sqlstore; storage/storagetest holds the
// conformance suite every backend must pass.
package storage
