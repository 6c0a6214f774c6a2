// Package shopkey is the storefront dialect of seed 001 (docs/shopkey.md):
// POST /api/v1/{shopKey}/customers/login, logout, me and refresh, where the
// shop key selects the tenant and every answer is one envelope in the
// shop's language. It translates only: logins run the core's password
// grant for the configured client (the go-oauth2 path of /oauth2/token),
// private routes the core's token checks, and the anonymous-cart hand-over
// is server/carts'.
//
// CORS is done here rather than with github.com/gin-contrib/cors: the
// allowed origins are per shop, read from the database with the shop the
// path names, and that library answers a disallowed origin with a bare 403,
// where this dialect must answer in its envelope and send no CORS headers.
package shopkey
