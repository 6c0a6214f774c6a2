// Package startup waits, when the server starts, for a database that
// cannot answer yet: it retries the start-up steps with backoff, logging
// each wait, for as long as the operator allows (see
// docs/configuration.md, SHOPAUTH_DATABASE_STARTUP_TIMEOUT).
package startup
