// Package admin serves the admin API, /admin/v1 (docs/admin.md): JSON
// over HTTP for shops' back offices, authenticated by the access token of
// an admin client's client_credentials grant. Handlers are thin: decode,
// call server/admin, encode. Errors are RFC 9457 problem details with a
// stable type per error; the OpenAPI document (openapi.json) describes
// every route and is served at /admin/v1/openapi.json.
package admin
