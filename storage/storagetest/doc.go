// Package storagetest is the conformance suite every shopauth storage
// backend must pass: Run exercises each operation, its error mapping and
// the concurrency guarantees callers rely on.
package storagetest
