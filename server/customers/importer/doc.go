// Package importer reads customer files exported from legacy shops — CSV
// with a header or JSON lines — one row at a time, validates every row and
// reports each bad one by its line number. It keeps no more than one row
// and a 16-byte digest per e-mail seen (to find duplicates) in memory, and
// knows nothing of the database: the caller upserts the rows it yields.
package importer
