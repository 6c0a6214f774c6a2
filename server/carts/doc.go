// Package carts owns the anonymous-cart hand-over of the shopKey dialect:
// after a customer signs in with an anonymous cart's token, that cart
// becomes theirs. Carts live in shopauth's database (Database) or in a
// commerce back end reached through a webhook (Webhook); Service applies
// the one policy both share: a failing cart store never fails a login.
package carts
