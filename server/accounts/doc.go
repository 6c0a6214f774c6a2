// Package accounts runs customers' own accounts (docs/accounts.md):
// registration and the confirmation of the e-mail address, the forgotten
// password's reset, the password change and the profile. Keys are 256
// random bits, stored only as SHA-256, single use, expiring, and written
// with the mail that carries them in one transaction (the outbox of
// package mail delivers it). New passwords meet package passwords'
// policy; a reset or change ends the customer's refresh families and
// browser sessions.
package accounts
