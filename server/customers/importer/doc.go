// Package importer reads customer files exported from legacy shops — CSV
// with a header or JSON lines — one row at a time, validates every row and
// reports each bad one by its line number: also an e-mail or customer_id
// given twice in the file and a JSON key given twice in a line. It keeps no
// more than one row, a 16-byte digest per e-mail and the customer_ids seen
// (to find duplicates) in memory, and knows nothing of the database: the
// caller upserts the rows it yields.
package importer
