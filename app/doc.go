// Package app wires shopauth together: it is the one package that reads
// config and turns it into each package's own Config (New), opens the store
// and the signing keys the configuration names (OpenStore, OpenKeys), and
// seeds the demo data of `serve --demo` (SeedDemo). The CLI, the bench and
// the end-to-end tests all build their server here.
package app
