package spryker

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
	"github.com/shopauth/shopauth/server/accounts"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden/*.txt from the dialect's answers")

// fakeAccounts records what the dialect asks of the account service and
// answers with err, or with ann's account.
type fakeAccounts struct {
	mu            sync.Mutex
	registrations []accounts.Registration
	confirms      []string
	forgots       []string
	resets        []accounts.Reset
	changes       []accounts.Change
	err           error
	accountErr    error
	account       accounts.Account
}

var (
	_ Registrations = (*fakeAccounts)(nil)
	_ Passwords     = (*fakeAccounts)(nil)
)

func annAccount() accounts.Account {
	at := time.Date(2018, 11, 6, 8, 15, 2, 0, time.UTC)
	return accounts.Account{
		Customer:   storage.Customer{ID: 25, ShopKey: "acme12aa", Email: "sonia@spryker.com", CustomerReference: "DE--25", CreatedAt: at, UpdatedAt: at},
		Profile:    storage.CustomerProfile{CustomerID: 25, Salutation: "Mrs", FirstName: "Sonia", LastName: "Wagner", Gender: "Female"},
		HasProfile: true,
	}
}

func (f *fakeAccounts) Register(_ context.Context, r accounts.Registration) (accounts.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registrations = append(f.registrations, r)
	return f.account, f.err
}

func (f *fakeAccounts) Confirm(_ context.Context, key, _ string) (accounts.Confirmed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirms = append(f.confirms, key)
	return accounts.Confirmed{}, f.err
}

func (f *fakeAccounts) Account(_ context.Context, shopKey string, id uint64) (accounts.Account, error) {
	if f.accountErr != nil {
		return accounts.Account{}, f.accountErr
	}
	if shopKey != f.account.Customer.ShopKey || id != f.account.Customer.ID {
		return accounts.Account{}, accounts.ErrUnknownCustomer
	}
	return f.account, nil
}

func (f *fakeAccounts) Forgot(_ context.Context, shopKey, email, _, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgots = append(f.forgots, shopKey+"/"+email)
	return f.err
}

func (f *fakeAccounts) ResetPassword(_ context.Context, r accounts.Reset) (accounts.Done, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, r)
	return accounts.Done{}, f.err
}

func (f *fakeAccounts) ChangePassword(_ context.Context, ch accounts.Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, ch)
	return f.err
}

// newAccountsEngine mounts the dialect with the account resources. The
// token "good" is ann's, issued to the Spryker client in its shop.
func newAccountsEngine(t testing.TB, acc *fakeAccounts, claims tokens.AccessClaims) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	core := &fakeCore{claims: claims}
	h, err := New(Config{Grants: core, AccessTokens: core, Revocations: core, ClientID: "spryker-glue", ShopKey: "acme12aa",
		Registrations: acc, Passwords: acc, Logger: nil})
	require.NoError(t, err)
	e := gin.New()
	e.Use(func(c *gin.Context) {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20)
		c.Next()
	})
	h.Mount(e)
	return e
}

func annClaims() tokens.AccessClaims {
	return tokens.AccessClaims{Subject: "25", ClientID: "spryker-glue", Shop: "acme12aa", Scope: "customer", JTI: "jti-25", CustomerReference: "DE--25"}
}

// goldenText is what a golden file holds: the status, the headers a Glue
// client reads, and the body byte for byte.
func goldenText(w *httptest.ResponseRecorder) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "status: %d\n", w.Code)
	for _, h := range []string{"Content-Type", "Retry-After", "Cache-Control"} {
		if v := w.Header().Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", strings.ToLower(h), v)
		}
	}
	b.WriteString("\n")
	b.Write(w.Body.Bytes())
	b.WriteString("\n")
	return b.Bytes()
}

func requireGolden(t *testing.T, name string, w *httptest.ResponseRecorder) {
	t.Helper()
	path := filepath.Join("testdata", "golden", "accounts", name+".txt")
	got := goldenText(w)
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update-golden to create it")
	require.Equal(t, string(want), string(got))
}

const (
	registerJSON = `{"data":{"type":"customers","attributes":{"salutation":"Mrs","firstName":"Sonia","lastName":"Wagner","email":"sonia@spryker.com","gender":"Female","password":"change123","confirmPassword":"change123","acceptedTerms":true}}}`
	confirmJSON  = `{"data":{"type":"customer-confirmation","attributes":{"registrationKey":"e13ec2a7c45c6d1bae9b266ed90dfff0"}}}`
	forgotJSON   = `{"data":{"type":"customer-forgotten-password","attributes":{"email":"sonia@spryker.com"}}}`
	restoreJSON  = `{"data":{"type":"customer-restore-password","id":"98ffa3ec","attributes":{"restorePasswordKey":"98ffa3ecccac2b7f0815e0417784cd54","password":"wwfh234fr943434cf","confirmPassword":"wwfh234fr943434cf"}}}`
	changeJSON   = `{"data":{"type":"customer-password","id":"DE--25","attributes":{"password":"change123","newPassword":"321egnahc","confirmPassword":"321egnahc"}}}`
)

func invalid(fields ...accounts.FieldError) error { return &accounts.InvalidInput{Fields: fields} }

func fe(f accounts.Field, p accounts.Problem) accounts.FieldError {
	return accounts.FieldError{Field: f, Problem: p}
}

// TestAccountGolden pins every answer of the account resources, success
// and refusal, byte for byte (docs/spryker-accounts.md).
func TestAccountGolden(t *testing.T) {
	bearer := []string{"Authorization", "Bearer good"}
	tests := []struct {
		name, golden       string
		method, path, body string
		header             []string
		err, accountErr    error
		claims             *tokens.AccessClaims
	}{
		// POST /customers
		{name: "registered", golden: "customers-201", method: http.MethodPost, path: PathCustomers, body: registerJSON},
		{name: "e-mail taken", golden: "customers-422-400-exists", method: http.MethodPost, path: PathCustomers, body: registerJSON, err: accounts.ErrEmailTaken},
		{name: "every field blank", golden: "customers-422-901-blank", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldEmail, accounts.Blank), fe(accounts.FieldGender, accounts.Blank), fe(accounts.FieldSalutation, accounts.Blank),
				fe(accounts.FieldFirstName, accounts.Blank), fe(accounts.FieldLastName, accounts.Blank), fe(accounts.FieldPassword, accounts.Blank),
				fe(accounts.FieldConfirmPassword, accounts.Blank), fe(accounts.FieldAcceptedTerms, accounts.NotAccepted))},
		{name: "not an e-mail, HTML in a name, a name too long, no choice", golden: "customers-422-901-invalid", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldEmail, accounts.Invalid), fe(accounts.FieldGender, accounts.NotAChoice), fe(accounts.FieldFirstName, accounts.Invalid),
				fe(accounts.FieldLastName, accounts.TooLong))},
		{name: "very long e-mail", golden: "customers-422-901-email-too-long", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldEmail, accounts.TooLong))},
		{name: "format problems hide the policy's", golden: "customers-422-901-invalid-email-only", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldEmail, accounts.Invalid), fe(accounts.FieldPassword, accounts.PasswordCommon), fe(accounts.FieldConfirmPassword, accounts.Mismatch))},
		{name: "confirmation differs", golden: "customers-422-406", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldPassword, accounts.PasswordCommon), fe(accounts.FieldConfirmPassword, accounts.Mismatch))},
		{name: "password too short", golden: "password-400-418", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldPassword, accounts.PasswordTooShort))},
		{name: "password too long", golden: "password-400-419", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldPassword, accounts.PasswordTooLong))},
		{name: "common password", golden: "password-400-422", method: http.MethodPost, path: PathCustomers, body: registerJSON,
			err: invalid(fe(accounts.FieldPassword, accounts.PasswordCommon))},
		{name: "rate limited", golden: "429", method: http.MethodPost, path: PathCustomers, body: registerJSON, err: refusal.ErrThrottled.WithRetryAfter(90 * time.Second)},
		{name: "hashing busy", golden: "503", method: http.MethodPost, path: PathCustomers, body: registerJSON, err: refusal.ErrUnavailable.WithRetryAfter(time.Second)},
		{name: "database unavailable", golden: "503", method: http.MethodPost, path: PathCustomers, body: registerJSON, err: fmt.Errorf("register: %w", storage.ErrUnavailable)},
		{name: "fault", golden: "500", method: http.MethodPost, path: PathCustomers, body: registerJSON, err: fmt.Errorf("disk on fire")},
		{name: "acceptedTerms a string", golden: "400-post-data-invalid", method: http.MethodPost, path: PathCustomers,
			body: `{"data":{"type":"customers","attributes":{"acceptedTerms":"true"}}}`},
		{name: "firstName a number", golden: "400-post-data-invalid", method: http.MethodPost, path: PathCustomers,
			body: `{"data":{"type":"customers","attributes":{"firstName":7}}}`},
		{name: "duplicate e-mail member", golden: "400-post-data-invalid", method: http.MethodPost, path: PathCustomers,
			body: `{"data":{"type":"customers","attributes":{"email":"a@b.c","email":"d@e.f"}}}`},
		{name: "invalid UTF-8", golden: "400-post-data-invalid", method: http.MethodPost, path: PathCustomers,
			body: "{\"data\":{\"type\":\"customers\",\"attributes\":{\"firstName\":\"\xff\"}}}"},
		{name: "registration with the login type", golden: "400-invalid-type", method: http.MethodPost, path: PathCustomers,
			body: `{"data":{"type":"access-tokens","attributes":{}}}`},
		{name: "wrong method on customers", golden: "404", method: http.MethodDelete, path: PathCustomers},

		// GET /customers, /customers/{customerReference}
		{name: "own customer", golden: "customer-200", method: http.MethodGet, path: PathCustomers + "/DE--25", header: bearer},
		{name: "own customer list", golden: "customers-list-200", method: http.MethodGet, path: PathCustomers, header: bearer},
		{name: "another customer's reference", golden: "customer-404-402", method: http.MethodGet, path: PathCustomers + "/DE--21", header: bearer},
		{name: "customer gone", golden: "customer-404-402", method: http.MethodGet, path: PathCustomers + "/DE--25", header: bearer, accountErr: accounts.ErrUnknownCustomer},
		{name: "no token", golden: "403-002", method: http.MethodGet, path: PathCustomers + "/DE--25"},
		{name: "bad token", golden: "401-001", method: http.MethodGet, path: PathCustomers + "/DE--25", header: []string{"Authorization", "Bearer bad"}},
		{name: "another client's token", golden: "401-001", method: http.MethodGet, path: PathCustomers + "/DE--25", header: bearer,
			claims: &tokens.AccessClaims{Subject: "25", ClientID: "storefront", Shop: "acme12aa"}},
		{name: "another shop's token", golden: "401-001", method: http.MethodGet, path: PathCustomers + "/DE--25", header: bearer,
			claims: &tokens.AccessClaims{Subject: "25", ClientID: "spryker-glue", Shop: "other"}},
		{name: "a machine token", golden: "401-001", method: http.MethodGet, path: PathCustomers + "/DE--25", header: bearer,
			claims: &tokens.AccessClaims{Subject: "erp", ClientID: "spryker-glue", Shop: "acme12aa"}},

		// POST /customer-confirmation
		{name: "confirmed", golden: "204", method: http.MethodPost, path: PathCustomerConfirmation, body: confirmJSON},
		{name: "bad confirmation key", golden: "confirmation-422-423", method: http.MethodPost, path: PathCustomerConfirmation, body: confirmJSON, err: accounts.ErrInvalidKey},
		{name: "blank confirmation key", golden: "confirmation-422-901-blank", method: http.MethodPost, path: PathCustomerConfirmation,
			body: `{"data":{"type":"customer-confirmation","attributes":{"registrationKey":""}}}`},
		{name: "confirmation key too long", golden: "confirmation-422-901-too-long", method: http.MethodPost, path: PathCustomerConfirmation,
			body: `{"data":{"type":"customer-confirmation","attributes":{"registrationKey":"` + strings.Repeat("k", 151) + `"}}}`},

		// POST /customer-forgotten-password
		{name: "forgotten password", golden: "204", method: http.MethodPost, path: PathForgottenPassword, body: forgotJSON},
		{name: "forgotten password, blank e-mail", golden: "forgotten-422-901-blank", method: http.MethodPost, path: PathForgottenPassword, body: forgotJSON,
			err: invalid(fe(accounts.FieldEmail, accounts.Blank))},
		{name: "forgotten password, not an e-mail", golden: "forgotten-422-901-not-email", method: http.MethodPost, path: PathForgottenPassword, body: forgotJSON,
			err: invalid(fe(accounts.FieldEmail, accounts.Invalid))},

		// PATCH /customer-restore-password/{restorePasswordKey}
		{name: "password restored", golden: "204", method: http.MethodPatch, path: PathRestorePassword + "/anything", body: restoreJSON},
		{name: "restore key invalid", golden: "restore-422-415", method: http.MethodPatch, path: PathRestorePassword + "/anything", body: restoreJSON, err: accounts.ErrInvalidKey},
		{name: "restore, blank key and password", golden: "restore-422-901-blank", method: http.MethodPatch, path: PathRestorePassword + "/x",
			body: `{"data":{"type":"customer-restore-password","attributes":{"confirmPassword":"x"}}}`},
		{name: "restore, confirmation differs", golden: "customers-422-406", method: http.MethodPatch, path: PathRestorePassword + "/x", body: restoreJSON,
			err: invalid(fe(accounts.FieldConfirmPassword, accounts.Mismatch))},
		{name: "restore, common password", golden: "password-400-422", method: http.MethodPatch, path: PathRestorePassword + "/x", body: restoreJSON,
			err: invalid(fe(accounts.FieldPassword, accounts.PasswordCommon))},
		{name: "restore with POST", golden: "404", method: http.MethodPost, path: PathRestorePassword + "/x", body: restoreJSON},

		// PATCH /customer-password/{customerReference}
		{name: "password changed", golden: "204", method: http.MethodPatch, path: PathCustomerPassword + "/DE--25", body: changeJSON, header: bearer},
		{name: "change, old password wrong", golden: "change-400-408", method: http.MethodPatch, path: PathCustomerPassword + "/DE--25", body: changeJSON, header: bearer,
			err: fmt.Errorf("%w: x", accounts.ErrWrongPassword)},
		{name: "change, another customer", golden: "change-403-411", method: http.MethodPatch, path: PathCustomerPassword + "/DE--21", body: changeJSON, header: bearer},
		{name: "change, confirmation differs", golden: "change-422-406", method: http.MethodPatch, path: PathCustomerPassword + "/DE--25", body: changeJSON, header: bearer,
			err: invalid(fe(accounts.FieldConfirmPassword, accounts.Mismatch))},
		{name: "change, blank fields", golden: "change-422-901-blank", method: http.MethodPatch, path: PathCustomerPassword + "/DE--25", body: changeJSON, header: bearer,
			err: invalid(fe(accounts.FieldCurrentPassword, accounts.Blank), fe(accounts.FieldNewPassword, accounts.Blank), fe(accounts.FieldConfirmPassword, accounts.Blank))},
		{name: "change, new password too short", golden: "password-400-418", method: http.MethodPatch, path: PathCustomerPassword + "/DE--25", body: changeJSON, header: bearer,
			err: invalid(fe(accounts.FieldNewPassword, accounts.PasswordTooShort))},
		{name: "change without a token", golden: "403-002", method: http.MethodPatch, path: PathCustomerPassword + "/DE--25", body: changeJSON},
		{name: "change with the wrong type", golden: "400-invalid-type", method: http.MethodPatch, path: PathCustomerPassword + "/DE--25",
			body: `{"data":{"type":"customers","attributes":{}}}`, header: bearer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := &fakeAccounts{err: tt.err, accountErr: tt.accountErr, account: annAccount()}
			claims := annClaims()
			if tt.claims != nil {
				claims = *tt.claims
			}
			w := serve(newAccountsEngine(t, acc, claims), tt.method, tt.path, contentType, tt.body, tt.header...)
			requireGolden(t, tt.golden, w)
		})
	}
}

// TestAccountTranslation: the dialect asks the core exactly what the
// request says, for its configured shop, and keeps the change's token
// family.
func TestAccountTranslation(t *testing.T) {
	acc := &fakeAccounts{account: annAccount()}
	e := newAccountsEngine(t, acc, annClaims())
	bearer := []string{"Authorization", "Bearer good"}
	for _, r := range []struct{ method, path, body string }{
		{http.MethodPost, PathCustomers, registerJSON},
		{http.MethodPost, PathCustomerConfirmation, confirmJSON},
		{http.MethodPost, PathForgottenPassword, forgotJSON},
		{http.MethodPatch, PathRestorePassword + "/path-id-ignored", restoreJSON},
		{http.MethodPatch, PathCustomerPassword + "/DE--25", changeJSON},
	} {
		w := serve(e, r.method, r.path, contentType, r.body, bearer...)
		require.Less(t, w.Code, 300, "%s %s: %s", r.method, r.path, w.Body.String())
	}
	require.Equal(t, []accounts.Registration{{
		ShopKey: "acme12aa", Email: "sonia@spryker.com", Salutation: "Mrs", FirstName: "Sonia", LastName: "Wagner", Gender: "Female",
		Password: "change123", ConfirmPassword: "change123", AcceptedTerms: true, RequireProfile: true, ClientIP: "192.0.2.1",
	}}, acc.registrations)
	require.Equal(t, []string{"e13ec2a7c45c6d1bae9b266ed90dfff0"}, acc.confirms)
	require.Equal(t, []string{"acme12aa/sonia@spryker.com"}, acc.forgots)
	require.Equal(t, []accounts.Reset{{Key: "98ffa3ecccac2b7f0815e0417784cd54", Password: "wwfh234fr943434cf", ConfirmPassword: "wwfh234fr943434cf", ClientIP: "192.0.2.1"}}, acc.resets)
	require.Equal(t, []accounts.Change{{ShopKey: "acme12aa", CustomerID: 25, CurrentPassword: "change123", NewPassword: "321egnahc",
		ConfirmPassword: "321egnahc", AccessJTI: "jti-25", ClientIP: "192.0.2.1"}}, acc.changes)
}

// TestAccountRefusalsWriteNothing: a request refused by the dialect never
// reaches the core.
func TestAccountRefusalsWriteNothing(t *testing.T) {
	acc := &fakeAccounts{account: annAccount()}
	e := newAccountsEngine(t, acc, annClaims())
	for _, r := range []struct{ method, path, body, auth string }{
		{http.MethodPost, PathCustomers, `not json`, ""},
		{http.MethodPost, PathCustomers, `{"data":{"type":"customers","attributes":{"acceptedTerms":1}}}`, ""},
		{http.MethodPost, PathCustomerConfirmation, `{"data":{"type":"customer-confirmation","attributes":{}}}`, ""},
		{http.MethodPatch, PathRestorePassword + "/x", `{"data":{"type":"customer-restore-password","attributes":{"password":"a"}}}`, ""},
		{http.MethodPatch, PathCustomerPassword + "/DE--21", changeJSON, "Bearer good"},
		{http.MethodPatch, PathCustomerPassword + "/DE--25", changeJSON, "Bearer bad"},
		{http.MethodPost, PathCustomers, strings.Repeat(" ", 2<<20), ""},
	} {
		w := serve(e, r.method, r.path, contentType, r.body, "Authorization", r.auth)
		require.GreaterOrEqual(t, w.Code, 400, r.path)
		require.Less(t, w.Code, 500, r.path)
	}
	require.Empty(t, acc.registrations)
	require.Empty(t, acc.confirms)
	require.Empty(t, acc.resets)
	require.Empty(t, acc.changes)
}

// FuzzAccountRequest: no body makes an account route panic or answer 5xx,
// and every 4xx is a JSON:API error document.
func FuzzAccountRequest(f *testing.F) {
	for _, b := range []string{registerJSON, confirmJSON, forgotJSON, restoreJSON, changeJSON, `{"data":{"type":"customers","attributes":{"acceptedTerms":null}}}`, "{", ""} {
		f.Add(b, uint8(0))
	}
	acc := &fakeAccounts{account: annAccount()}
	e := newAccountsEngine(f, acc, annClaims())
	routes := []struct{ method, path string }{
		{http.MethodPost, PathCustomers}, {http.MethodPost, PathCustomerConfirmation}, {http.MethodPost, PathForgottenPassword},
		{http.MethodPatch, PathRestorePassword + "/k"}, {http.MethodPatch, PathCustomerPassword + "/DE--25"},
	}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		fuzzdeadline.Run(t, func() {
			r := routes[int(which)%len(routes)]
			w := serve(e, r.method, r.path, contentType, body, "Authorization", "Bearer good")
			require.Less(t, w.Code, 500, w.Body.String())
			if w.Code >= 400 {
				require.Equal(t, contentType, w.Header().Get("Content-Type"))
				require.Contains(t, w.Body.String(), `{"errors":[`)
			}
		})
	})
}
