package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	valerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
	webadmin "github.com/shopauth/shopauth/web/admin"
)

// adminClient calls /admin/v1 on a test server and validates every
// request and answer against the API's OpenAPI document
// (web/admin/openapi.json) with libopenapi-validator (docs/admin.md says
// why that library).
type adminClient struct {
	t     *testing.T
	srv   *harness.TestServer
	token string
	v     validator.Validator
	// calls counts validated answers: a suite that validated nothing
	// would prove nothing.
	calls *int
}

type call struct {
	method, path string
	body         any    // marshalled to JSON unless raw is set
	raw          string // a body sent as is
	contentType  string // default application/json when there is a body
	ifMatch      string
	// offSpec marks a request the document deliberately does not describe
	// (a bad body, an unknown route): its answer is still checked as a
	// problem, the request itself is not validated.
	offSpec bool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "body: %s", a.body)
	return m
}

// problem checks that a is an RFC 9457 problem of slug with status.
func (a answer) problem(t *testing.T, status int, slug string) map[string]any {
	t.Helper()
	require.Equal(t, status, a.status, "body: %s", a.body)
	require.Equal(t, "application/problem+json", a.header.Get("Content-Type"))
	p := a.json(t)
	require.Equal(t, webadmin.ProblemBase+slug, p["type"], "problem: %v", p)
	require.EqualValues(t, status, p["status"])
	return p
}

func newValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(webadmin.OpenAPI)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	return v
}

func (c *adminClient) as(token string) *adminClient {
	cp := *c
	cp.token = token
	return &cp
}

func (c *adminClient) do(k call) answer {
	t := c.t
	t.Helper()
	var body []byte
	switch {
	case k.raw != "":
		body = []byte(k.raw)
	case k.body != nil:
		b, err := json.Marshal(k.body)
		require.NoError(t, err)
		body = b
	}
	req, err := http.NewRequest(k.method, c.srv.URL+webadmin.Prefix+k.path, bytes.NewReader(body))
	require.NoError(t, err)
	if body != nil {
		ct := k.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if k.ifMatch != "" {
		req.Header.Set("If-Match", k.ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	// Validate the exchange against the document: the request as sent
	// (with its path under the document's server /admin/v1), the answer
	// as received.
	vreq, err := http.NewRequest(k.method, webadmin.Prefix+k.path, bytes.NewReader(body))
	require.NoError(t, err)
	vreq.Header = req.Header.Clone()
	vresp := &http.Response{StatusCode: resp.StatusCode, Header: resp.Header.Clone(), Body: io.NopCloser(bytes.NewReader(got)), Request: vreq}
	if !k.offSpec {
		ok, errs := c.v.ValidateHttpRequestResponse(vreq, vresp)
		require.True(t, ok, "%s %s → %d %s: %s", k.method, k.path, resp.StatusCode, got, describe(errs))
		*c.calls++
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: got}
}

func describe(errs []*valerrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "%s (%s); ", e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "[%s: %s] ", s.FieldPath, s.Reason)
		}
	}
	return b.String()
}

// machineToken runs the client_credentials grant for id.
func machineToken(t *testing.T, srv *harness.TestServer, id, secret, scope string) (int, string) {
	t.Helper()
	resp := srv.PostForm(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, id, secret)
	var body harness.TokenBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body.AccessToken
}

// addMachineClient registers a confidential client_credentials client
// directly in the store (the first admin client comes from the CLI).
func addMachineClient(t *testing.T, srv *harness.TestServer, id, secret, shop string, scopes ...string) string {
	t.Helper()
	require.NoError(t, srv.Store.CreateClient(context.Background(), storage.Client{
		ID: id, SecretHash: clients.HashSecret(secret), ShopKey: shop, GrantTypes: []string{"client_credentials"}, Scopes: scopes, CreatedAt: time.Now(),
	}))
	code, token := machineToken(t, srv, id, secret, strings.Join(scopes, " "))
	require.Equal(t, http.StatusOK, code)
	return token
}

// TestAdminAPI runs every route of /admin/v1 on SQLite and MySQL:
// authentication, the scope rules, validation, ETags, erasure and the
// audit trail; every exchange is validated against the OpenAPI document.
func TestAdminAPI(t *testing.T) {
	for _, backend := range []struct {
		name string
		opts []harness.TestOption
	}{{"sqlite", nil}, {"mysql", []harness.TestOption{harness.WithMySQL()}}} {
		// The fake clock stands still: the per-address login limit would
		// never refill between this test's many logins.
		opts := append(backend.opts, harness.WithConfig(func(c *config.Config) { c.Login.RatePerMinute = 0 }))
		t.Run(backend.name, func(t *testing.T) { testAdminAPI(t, harness.NewTestServer(t, opts...)) })
	}
}

func testAdminAPI(t *testing.T, srv *harness.TestServer) {
	calls := 0
	root := &adminClient{t: t, srv: srv, v: newValidator(t), calls: &calls,
		token: addMachineClient(t, srv, "root-admin", "root-secret", "", "admin")}
	defer func() { require.Greater(t, calls, 60, "validated exchanges") }()

	t.Run("authentication", func(t *testing.T) {
		root.as("").do(call{method: "GET", path: "/shops", offSpec: true}).problem(t, 401, "unauthorized")
		root.as("not-a-token").do(call{method: "GET", path: "/shops"}).problem(t, 401, "unauthorized")
		customer := srv.LoginAs(t, app.DemoClientID, app.DemoClientSecret, "")
		root.as(customer.AccessToken).do(call{method: "GET", path: "/shops"}).problem(t, 403, "forbidden")
		machine := addMachineClient(t, srv, "erp", "erp-secret", "", "orders:read")
		root.as(machine).do(call{method: "GET", path: "/shops"}).problem(t, 403, "forbidden")
		// A client whose admin scope was taken away loses it at once.
		gone := addMachineClient(t, srv, "gone-admin", "gone-secret", "", "admin")
		require.Equal(t, 204, root.do(call{method: "DELETE", path: "/clients/gone-admin"}).status)
		root.as(gone).do(call{method: "GET", path: "/shops"}).problem(t, 401, "unauthorized")
		root.do(call{method: "GET", path: "/nowhere", offSpec: true}).problem(t, 404, "not-found")
		root.do(call{method: "DELETE", path: "/shops", offSpec: true}).problem(t, 405, "method-not-allowed")
	})

	var shopETag string
	t.Run("shops", func(t *testing.T) {
		a := root.do(call{method: "POST", path: "/shops", body: map[string]any{"key": "shop2", "name": "Shop Two", "locale": "en"}})
		require.Equal(t, 201, a.status, "%s", a.body)
		shopETag = a.header.Get("ETag")
		require.NotEmpty(t, shopETag)
		root.do(call{method: "POST", path: "/shops", body: map[string]any{"key": "shop2", "name": "Again"}}).problem(t, 409, "conflict")
		p := root.do(call{method: "POST", path: "/shops", body: map[string]any{"key": "a/b", "name": "X"}, offSpec: true}).problem(t, 400, "invalid-field")
		require.Equal(t, "key", p["field"])
		p = root.do(call{method: "POST", path: "/shops", body: map[string]any{"key": "s3", "name": "X", "locale": "english"}}).problem(t, 400, "invalid-field")
		require.Equal(t, "locale", p["field"])
		root.do(call{method: "POST", path: "/shops", body: map[string]any{"key": "s3", "name": "X", "colour": "red"}, offSpec: true}).problem(t, 400, "invalid-body")
		root.do(call{method: "POST", path: "/shops", raw: `{"key":"s3","name":"X"} {}`, offSpec: true}).problem(t, 400, "invalid-body")
		root.do(call{method: "POST", path: "/shops", raw: `key=s3`, contentType: "application/x-www-form-urlencoded", offSpec: true}).problem(t, 415, "unsupported-media-type")
		root.do(call{method: "POST", path: "/shops", raw: `{"key":"s3","name":"` + strings.Repeat("x", webadmin.MaxBodyBytes) + `"}`, offSpec: true}).problem(t, 413, "body-too-large")
		_, err := srv.Store.GetShop(context.Background(), "s3")
		require.ErrorIs(t, err, storage.ErrNotFound, "no refused request wrote anything")

		list := root.do(call{method: "GET", path: "/shops"}).json(t)
		require.Len(t, list["items"], 2)
		got := root.do(call{method: "GET", path: "/shops/shop2"})
		require.Equal(t, shopETag, got.header.Get("ETag"))
		root.do(call{method: "GET", path: "/shops/nope"}).problem(t, 404, "not-found")

		root.do(call{method: "PATCH", path: "/shops/shop2", body: map[string]any{"name": "Two"}, offSpec: true}).problem(t, 428, "precondition-required")
		root.do(call{method: "PATCH", path: "/shops/shop2", body: map[string]any{"name": "Two"}, ifMatch: `"stale"`}).problem(t, 412, "precondition-failed")
		up := root.do(call{method: "PATCH", path: "/shops/shop2", body: map[string]any{"name": "Two", "cors_origins": []string{"https://two.example"}}, ifMatch: shopETag})
		require.Equal(t, 200, up.status, "%s", up.body)
		require.Equal(t, "Two", up.json(t)["name"])
		require.NotEqual(t, shopETag, up.header.Get("ETag"))
		// The lost update: a second writer with the first ETag.
		root.do(call{method: "PATCH", path: "/shops/shop2", body: map[string]any{"name": "Lost"}, ifMatch: shopETag}).problem(t, 412, "precondition-failed")
		shop, err := srv.Store.GetShop(context.Background(), "shop2")
		require.NoError(t, err)
		require.Equal(t, "Two", shop.Name)
	})

	customerPath := func(id any) string { return fmt.Sprintf("/shops/%s/customers/%v", app.DemoShop, id) }
	var annID float64
	t.Run("customers", func(t *testing.T) {
		base := "/shops/" + app.DemoShop + "/customers"
		a := root.do(call{method: "POST", path: base, body: map[string]any{"email": "Ann@Example.com", "name": "Ann", "password": "ann-password-1", "verified": true}})
		require.Equal(t, 201, a.status, "%s", a.body)
		ann := a.json(t)
		annID = ann["id"].(float64)
		require.Equal(t, "Ann@Example.com", ann["email"])
		require.Equal(t, true, ann["email_verified"])
		root.do(call{method: "POST", path: base, body: map[string]any{"email": "ann@example.com", "name": "Dup", "password": "x-password"}}).problem(t, 409, "conflict")
		p := root.do(call{method: "POST", path: base, body: map[string]any{"email": "not-an-address", "name": "X", "password": "x-password"}}).problem(t, 400, "invalid-field")
		require.Equal(t, "email", p["field"])
		root.do(call{method: "POST", path: base, body: map[string]any{"email": "b@example.com", "name": "B", "password": "x-password", "password_hash": "$2y$10$x"}}).problem(t, 400, "invalid-field")
		p = root.do(call{method: "POST", path: base, body: map[string]any{"email": "b@example.com", "name": "<b>B</b>", "password": "x-password"}}).problem(t, 400, "invalid-field")
		require.Equal(t, "name", p["field"])
		root.do(call{method: "POST", path: "/shops/nope/customers", body: map[string]any{"email": "b@example.com", "name": "B", "password": "x-password"}}).problem(t, 404, "not-found")

		// A legacy hash, and an invitation through the accounts' mail path.
		legacy := root.do(call{method: "POST", path: base, body: map[string]any{"email": "legacy@example.com", "name": "Leg",
			"password_hash": "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "verified": true}})
		require.Equal(t, 201, legacy.status, "%s", legacy.body)
		before, err := srv.Store.DueMail(context.Background(), srv.Clock.Now().Add(time.Hour), 100)
		require.NoError(t, err)
		inv := root.do(call{method: "POST", path: base, body: map[string]any{"email": "invited@example.com", "name": "Ivy", "invite": true}})
		require.Equal(t, 201, inv.status, "%s", inv.body)
		require.Equal(t, false, inv.json(t)["email_verified"])
		after, err := srv.Store.DueMail(context.Background(), srv.Clock.Now().Add(time.Hour), 100)
		require.NoError(t, err)
		require.Len(t, after, len(before)+1, "the invitation waits in the outbox")

		// Pages in id order; the e-mail search.
		first := root.do(call{method: "GET", path: base + "?limit=2"}).json(t)
		require.Len(t, first["items"], 2)
		require.NotEmpty(t, first["next_cursor"])
		rest := root.do(call{method: "GET", path: base + "?limit=200&cursor=" + first["next_cursor"].(string)}).json(t)
		require.NotEmpty(t, rest["items"])
		require.Nil(t, rest["next_cursor"])
		seen := map[float64]bool{}
		for _, page := range [][]any{first["items"].([]any), rest["items"].([]any)} {
			for _, it := range page {
				id := it.(map[string]any)["id"].(float64)
				require.False(t, seen[id], "a customer on two pages")
				seen[id] = true
			}
		}
		found := root.do(call{method: "GET", path: base + "?email=ANN%40"}).json(t)
		require.Len(t, found["items"], 1)
		root.do(call{method: "GET", path: base + "?limit=0", offSpec: true}).problem(t, 400, "invalid-parameter")
		root.do(call{method: "GET", path: base + "?cursor=x", offSpec: true}).problem(t, 400, "invalid-parameter")

		// Sign in, then the account operations.
		login := func(email, password string) int {
			resp, _ := srv.Password(t, email, password)
			return resp.StatusCode
		}
		require.Equal(t, 200, login("ann@example.com", "ann-password-1"))
		got := root.do(call{method: "GET", path: customerPath(annID)})
		etag := got.header.Get("ETag")
		root.do(call{method: "PATCH", path: customerPath(annID), body: map[string]any{"email": "bad"}, ifMatch: etag}).problem(t, 400, "invalid-field")
		root.do(call{method: "PATCH", path: customerPath(annID), body: map[string]any{"email": app.DemoCustomerEmail}, ifMatch: etag}).problem(t, 409, "conflict")
		up := root.do(call{method: "PATCH", path: customerPath(annID), body: map[string]any{"name": "Ann B", "email": "ann.b@example.com"}, ifMatch: etag})
		require.Equal(t, 200, up.status, "%s", up.body)
		require.Equal(t, false, up.json(t)["email_verified"], "a new address is verified again")
		root.do(call{method: "PATCH", path: customerPath(annID), body: map[string]any{"name": "Lost"}, ifMatch: etag}).problem(t, 412, "precondition-failed")
		require.Equal(t, 200, root.do(call{method: "POST", path: customerPath(annID) + "/verify"}).status)
		require.Equal(t, 200, login("ann.b@example.com", "ann-password-1"))

		tokens := srv.LoginAs(t, app.DemoClientID, app.DemoClientSecret, "")
		_ = tokens
		ann2 := root.do(call{method: "GET", path: customerPath(annID)})
		pw := root.do(call{method: "PUT", path: customerPath(annID) + "/password", body: map[string]any{"password": "ann-password-2"}, ifMatch: ann2.header.Get("ETag")})
		require.Equal(t, 200, pw.status, "%s", pw.body)
		require.Equal(t, 400, login("ann.b@example.com", "ann-password-1"))
		require.Equal(t, 200, login("ann.b@example.com", "ann-password-2"))

		dis := root.do(call{method: "POST", path: customerPath(annID) + "/disable"})
		require.Equal(t, true, dis.json(t)["disabled"])
		require.NotEqual(t, 200, login("ann.b@example.com", "ann-password-2"))
		require.Equal(t, 200, root.do(call{method: "POST", path: customerPath(annID) + "/enable"}).status)
		require.Equal(t, 200, login("ann.b@example.com", "ann-password-2"))
		root.do(call{method: "POST", path: customerPath(annID) + "/enable", ifMatch: `"stale"`}).problem(t, 412, "precondition-failed")

		for range 12 {
			login("ann.b@example.com", "wrong-password")
		}
		require.NotEqual(t, 200, login("ann.b@example.com", "ann-password-2"), "locked")
		require.Equal(t, 200, root.do(call{method: "POST", path: customerPath(annID) + "/unlock"}).status)
		require.Equal(t, 200, login("ann.b@example.com", "ann-password-2"), "unlocked")

		resp, tok := srv.Password(t, "ann.b@example.com", "ann-password-2")
		require.Equal(t, 200, resp.StatusCode)
		srv.RequireActive(t, tok.AccessToken, true)
		require.Equal(t, 200, root.do(call{method: "POST", path: customerPath(annID) + "/revoke-sessions"}).status)
		srv.RequireActive(t, tok.AccessToken, false)

		root.do(call{method: "GET", path: customerPath("abc"), offSpec: true}).problem(t, 404, "not-found")
		root.do(call{method: "GET", path: customerPath(999999)}).problem(t, 404, "not-found")
	})

	t.Run("consents", func(t *testing.T) {
		require.NoError(t, srv.Store.SaveConsent(context.Background(), storage.Consent{CustomerID: uint64(annID), ClientID: app.DemoClientID, Scopes: []string{"openid"}, GrantedAt: time.Now()}))
		list := root.do(call{method: "GET", path: customerPath(annID) + "/consents"}).json(t)
		require.Len(t, list["items"], 1)
		require.Equal(t, 204, root.do(call{method: "DELETE", path: customerPath(annID) + "/consents/" + app.DemoClientID}).status)
		root.do(call{method: "DELETE", path: customerPath(annID) + "/consents/" + app.DemoClientID}).problem(t, 404, "not-found")
	})

	t.Run("erasure", func(t *testing.T) {
		resp, tok := srv.Password(t, "ann.b@example.com", "ann-password-2")
		require.Equal(t, 200, resp.StatusCode)
		srv.RequireActive(t, tok.AccessToken, true)
		erased := root.do(call{method: "POST", path: customerPath(annID) + "/erase"})
		require.Equal(t, 200, erased.status, "%s", erased.body)
		e := erased.json(t)
		require.Equal(t, true, e["erased"])
		require.Equal(t, "", e["name"])
		require.NotContains(t, e["email"], "ann")
		require.Equal(t, annID, e["id"], "the id stays as a pseudonym")
		// Cannot log in; tokens inactive; refresh refused; e-mail free.
		resp, _ = srv.Password(t, "ann.b@example.com", "ann-password-2")
		require.NotEqual(t, 200, resp.StatusCode)
		srv.RequireActive(t, tok.AccessToken, false)
		if tok.RefreshToken != "" {
			code, _ := srv.Refresh(t, tok.RefreshToken)
			require.NotEqual(t, 200, code)
		}
		root.do(call{method: "POST", path: customerPath(annID) + "/verify"}).problem(t, 404, "not-found")
		again := root.do(call{method: "POST", path: "/shops/" + app.DemoShop + "/customers", body: map[string]any{"email": "ann.b@example.com", "name": "New Ann", "password": "new-ann-pass", "verified": true}})
		require.Equal(t, 201, again.status, "%s", again.body)
		require.NotEqual(t, annID, again.json(t)["id"])
		resp, _ = srv.Password(t, "ann.b@example.com", "new-ann-pass")
		require.Equal(t, 200, resp.StatusCode)
	})

	var thirdSecret string
	t.Run("clients", func(t *testing.T) {
		a := root.do(call{method: "POST", path: "/clients", body: map[string]any{
			"id": "partner", "shop": app.DemoShop, "grant_types": []string{"authorization_code", "refresh_token"}, "scopes": []string{"openid", "offline_access"},
			"redirect_uris": []string{"https://partner.example/cb"}}})
		require.Equal(t, 201, a.status, "%s", a.body)
		thirdSecret = a.json(t)["client_secret"].(string)
		require.Len(t, thirdSecret, 43)
		etag := a.header.Get("ETag")
		root.do(call{method: "POST", path: "/clients", body: map[string]any{"id": "partner", "grant_types": []string{"client_credentials"}}}).problem(t, 409, "conflict")
		p := root.do(call{method: "POST", path: "/clients", body: map[string]any{"id": "x", "shop": app.DemoShop, "grant_types": []string{"authorization_code"},
			"redirect_uris": []string{"http://partner.example/cb"}}}).problem(t, 400, "invalid-field")
		require.Equal(t, "redirect_uris", p["field"])
		require.Contains(t, p["detail"], "loopback", "the CLI's rule, the CLI's words")
		root.do(call{method: "POST", path: "/clients", body: map[string]any{"id": "x", "grant_types": []string{"implicit"}}}).problem(t, 400, "invalid-field")

		got := root.do(call{method: "GET", path: "/clients/partner"})
		require.Equal(t, etag, got.header.Get("ETag"))
		require.Nil(t, got.json(t)["client_secret"], "a secret is shown once")
		settings := map[string]any{"shop": app.DemoShop, "grant_types": []string{"authorization_code"}, "scopes": []string{"openid"}, "redirect_uris": []string{"https://partner.example/cb2"}}
		root.do(call{method: "PUT", path: "/clients/partner", body: settings, offSpec: true}).problem(t, 428, "precondition-required")
		up := root.do(call{method: "PUT", path: "/clients/partner", body: settings, ifMatch: etag})
		require.Equal(t, 200, up.status, "%s", up.body)
		require.Equal(t, []any{"https://partner.example/cb2"}, up.json(t)["redirect_uris"])
		root.do(call{method: "PUT", path: "/clients/partner", body: settings, ifMatch: etag}).problem(t, 412, "precondition-failed")

		// Rotating a machine client's secret: the old one stops working.
		addMachineClient(t, srv, "svc", "svc-secret-1", "", "orders:read")
		rot := root.do(call{method: "POST", path: "/clients/svc/rotate-secret"})
		require.Equal(t, 200, rot.status, "%s", rot.body)
		secret2 := rot.json(t)["client_secret"].(string)
		srv.Clock.Advance(10 * time.Second) // past the client cache
		code, _ := machineToken(t, srv, "svc", "svc-secret-1", "orders:read")
		require.Equal(t, 401, code)
		code, _ = machineToken(t, srv, "svc", secret2, "orders:read")
		require.Equal(t, 200, code)

		require.Equal(t, 204, root.do(call{method: "DELETE", path: "/clients/svc"}).status)
		root.do(call{method: "GET", path: "/clients/svc"}).problem(t, 404, "not-found")
		root.do(call{method: "DELETE", path: "/clients/root-admin"}).problem(t, 403, "forbidden")
		list := root.do(call{method: "GET", path: "/clients"}).json(t)
		require.NotEmpty(t, list["items"])
	})

	t.Run("shop-bound admin", func(t *testing.T) {
		a := root.do(call{method: "POST", path: "/clients", body: map[string]any{"id": "shop2-admin", "shop": "shop2", "grant_types": []string{"client_credentials"}, "scopes": []string{"admin"}}})
		require.Equal(t, 201, a.status, "%s", a.body)
		code, token := machineToken(t, srv, "shop2-admin", a.json(t)["client_secret"].(string), "admin")
		require.Equal(t, 200, code)
		bound := root.as(token)
		shops := bound.do(call{method: "GET", path: "/shops"}).json(t)
		require.Len(t, shops["items"], 1)
		bound.do(call{method: "GET", path: "/shops/" + app.DemoShop}).problem(t, 404, "not-found")
		bound.do(call{method: "GET", path: customerPath(21)}).problem(t, 404, "not-found")
		bound.do(call{method: "POST", path: "/shops/" + app.DemoShop + "/customers", body: map[string]any{"email": "z@example.com", "name": "Z", "password": "z-password"}}).problem(t, 404, "not-found")
		bound.do(call{method: "POST", path: customerPath(21) + "/disable"}).problem(t, 404, "not-found")
		bound.do(call{method: "POST", path: "/shops", body: map[string]any{"key": "shop9", "name": "Nine"}}).problem(t, 403, "forbidden")
		bound.do(call{method: "GET", path: "/clients/partner"}).problem(t, 404, "not-found")
		bound.do(call{method: "DELETE", path: "/clients/partner"}).problem(t, 404, "not-found")
		bound.do(call{method: "POST", path: "/clients", body: map[string]any{"id": "elsewhere", "shop": app.DemoShop, "grant_types": []string{"client_credentials"}}}).problem(t, 403, "forbidden")
		bound.do(call{method: "GET", path: "/keys"}).problem(t, 403, "forbidden")
		bound.do(call{method: "GET", path: "/audit?shop=" + app.DemoShop}).problem(t, 404, "not-found")
		disabled, err := srv.Store.GetCustomer(context.Background(), app.DemoShop, 21)
		require.NoError(t, err)
		require.Nil(t, disabled.DisabledAt, "nothing changed in the other shop")

		// Its own shop it manages.
		c := bound.do(call{method: "POST", path: "/shops/shop2/customers", body: map[string]any{"email": "two@example.com", "name": "Two", "password": "two-password"}})
		require.Equal(t, 201, c.status, "%s", c.body)
		m := bound.do(call{method: "POST", path: "/clients", body: map[string]any{"id": "shop2-app", "shop": "shop2", "grant_types": []string{"password"}, "scopes": []string{"openid"}, "public": true}})
		require.Equal(t, 201, m.status, "%s", m.body)
		clientsOf := bound.do(call{method: "GET", path: "/clients"}).json(t)["items"].([]any)
		for _, cl := range clientsOf {
			require.Equal(t, "shop2", cl.(map[string]any)["shop"])
		}
		audit := bound.do(call{method: "GET", path: "/audit?limit=200"}).json(t)["items"].([]any)
		require.NotEmpty(t, audit)
		for _, e := range audit {
			require.Equal(t, "shop2", e.(map[string]any)["shop"])
		}
	})

	t.Run("keys", func(t *testing.T) {
		list := root.do(call{method: "GET", path: "/keys"}).json(t)
		require.NotEmpty(t, list["items"])
		k := root.do(call{method: "POST", path: "/keys/rotate", body: map[string]any{"alg": "ES256"}})
		require.Equal(t, 201, k.status, "%s", k.body)
		require.Equal(t, "ES256", k.json(t)["alg"])
	})

	t.Run("audit", func(t *testing.T) {
		var actions []string
		cursor := ""
		for pages := 0; ; pages++ {
			path := "/audit?limit=5"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			page := root.do(call{method: "GET", path: path}).json(t)
			for _, e := range page["items"].([]any) {
				m := e.(map[string]any)
				actions = append(actions, m["actor"].(string)+" "+m["action"].(string)+" "+m["resource_type"].(string))
			}
			next, ok := page["next_cursor"].(string)
			if !ok {
				require.Greater(t, pages, 2)
				break
			}
			cursor = next
		}
		for _, want := range []string{"root-admin shop.create shop", "root-admin shop.update shop", "root-admin customer.create customer",
			"root-admin customer.erase customer", "root-admin client.rotate_secret client", "root-admin client.delete client",
			"root-admin consent.revoke consent", "root-admin key.rotate key", "shop2-admin customer.create customer"} {
			require.Contains(t, actions, want)
		}
		require.NotContains(t, string(root.do(call{method: "GET", path: "/audit?limit=200"}).body), thirdSecret)
		require.NotContains(t, srv.Logs.String(), thirdSecret, "secrets are never logged")
	})

	t.Run("metrics by route", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Contains(t, string(b), `route="/admin/v1/shops/:shop/customers/:id"`)
	})

	t.Run("openapi document", func(t *testing.T) {
		resp, err := http.Get(srv.URL + webadmin.Prefix + "/openapi.json")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, webadmin.OpenAPI, b)
	})
}

// TestAdminOpenAPIValidatorIsNotVacuous: the validator the suite relies
// on refuses an answer that drifts from the document (a shop without its
// name, a customer id as a string) and an undocumented route.
func TestAdminOpenAPIValidatorIsNotVacuous(t *testing.T) {
	v := newValidator(t)
	check := func(method, path string, status int, body string) bool {
		req, err := http.NewRequest(method, webadmin.Prefix+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer x")
		h := http.Header{"Content-Type": {"application/json"}, "Etag": {`"e"`}}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}
		ok, _ := v.ValidateHttpRequestResponse(req, resp)
		return ok
	}
	shop := `{"key":"s","name":"S","locale":"es","cors_origins":[],"active":true,"created_at":"2030-01-01T00:00:00Z"}`
	require.True(t, check("GET", "/shops/s", 200, shop))
	require.False(t, check("GET", "/shops/s", 200, `{"key":"s","locale":"es","cors_origins":[],"active":true,"created_at":"2030-01-01T00:00:00Z"}`))
	require.False(t, check("GET", "/shops/s", 200, strings.Replace(shop, `"active":true`, `"active":true,"extra":1`, 1)))
	require.False(t, check("GET", "/shops/s/customers/1", 200, `{"id":"1"}`))
	require.False(t, check("GET", "/nowhere", 200, `{}`))
}

// TestAdminSeparateListener: with SHOPAUTH_ADMIN_ADDR the admin API is
// served only by its own handler; the main one answers 404.
func TestAdminSeparateListener(t *testing.T) {
	srv := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) { c.HTTP.AdminAddr = "127.0.0.1:0" }))
	require.NotNil(t, srv.App.AdminHandler)
	token := addMachineClient(t, srv, "root-admin", "root-secret", "", "admin")
	get := func(base string) int {
		req, err := http.NewRequest("GET", base+webadmin.Prefix+"/shops", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 404, get(srv.URL))
	adminSrv := httptest.NewServer(srv.App.AdminHandler)
	defer adminSrv.Close()
	require.Equal(t, 200, get(adminSrv.URL))
	resp, err := http.Get(adminSrv.URL + "/oauth2/token")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 404, resp.StatusCode, "only the admin API there")
}
