package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/cli"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

const (
	testBcrypt = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a" // rasmuslerdorf
	testPHPass = "$P$BlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0"                           // password
)

// customerCLI is a command line against one SQLite database file, with
// cheap argon2id parameters and a directory for input files.
type customerCLI struct {
	*harness.CLI
	dir string
}

func newCustomerCLI(t *testing.T) *customerCLI {
	t.Helper()
	c := harness.NewCLI(t)
	c.Environ = append(c.Environ, "SHOPAUTH_ARGON2_MEMORY_KIB=64", "SHOPAUTH_ARGON2_ITERATIONS=1")
	e := &customerCLI{CLI: c, dir: t.TempDir()}
	e.ok(t, "", "shop", "add", "--key", "shop1", "--name", "Shop One")
	return e
}

func (e *customerCLI) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return e.Run(stdin, args...)
}

func (e *customerCLI) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := e.run(t, stdin, args...)
	require.Equal(t, 0, code, "%v: %s", args, errOut)
	return out
}

func (e *customerCLI) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func (e *customerCLI) store(t *testing.T) *sqlstore.Store { return e.Store(t) }

func TestCustomerImportCommand(t *testing.T) {
	e := newCustomerCLI(t)
	good := e.file(t, "good.csv", "\xEF\xBB\xBFemail,name,password_hash,verified,customer_id,account_id,customer_reference,company_user_id\r\n"+
		"Sonia@Spryker.com,\"Sonia, S.\","+testBcrypt+",1,21,21,DE--21,ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac\r\n"+
		"wp@example.com,WP,"+testPHPass+",0,,,,\r\n")
	bad := e.file(t, "bad.csv", "email,name,password_hash\n"+
		"a@example.com,A,"+testBcrypt+"\n"+
		"A@example.com,A again,"+testBcrypt+"\n"+ // duplicate e-mail
		"b@example.com,B,$1$md5$unsupported\n"+ // unknown hash format
		"c@example.com,C\xff,"+testBcrypt+"\n"+ // bad UTF-8
		"d@example.com,D,"+testPHPass+"\n")

	t.Run("dry run writes nothing", func(t *testing.T) {
		out := e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", good, "--dry-run")
		require.Contains(t, out, "dry run: 2 valid rows, 0 invalid (2 new, 0 updated, 0 unchanged)")
		_, err := e.store(t).GetCustomerByEmail(context.Background(), "shop1", "sonia@spryker.com")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})

	t.Run("a file with bad rows imports nothing and names every line", func(t *testing.T) {
		code, _, errOut := e.run(t, "", "customer", "import", "--shop", "shop1", "--file", bad)
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "line 3: e-mail a@example.com appears already on line 2")
		require.Contains(t, errOut, "line 4: password_hash is not a supported hash")
		require.Contains(t, errOut, "line 5: name is not valid UTF-8")
		require.Contains(t, errOut, "3 invalid rows; nothing imported")
		_, err := e.store(t).GetCustomerByEmail(context.Background(), "shop1", "a@example.com")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})

	t.Run("skip invalid imports the rest", func(t *testing.T) {
		out := e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", bad, "--skip-invalid")
		require.Contains(t, out, "imported 2 customers into shop shop1 (2 new, 0 updated, 0 unchanged); 3 invalid rows skipped")
		a, err := e.store(t).GetCustomerByEmail(context.Background(), "shop1", "a@example.com")
		require.NoError(t, err)
		require.Equal(t, "A", a.Name, "the first of two duplicates wins")
	})

	t.Run("import and re-import", func(t *testing.T) {
		out := e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", good)
		require.Contains(t, out, "(2 new, 0 updated, 0 unchanged)")
		s := e.store(t)
		sonia, err := s.GetCustomer(context.Background(), "shop1", 21)
		require.NoError(t, err)
		require.Equal(t, "Sonia, S.", sonia.Name)
		require.True(t, sonia.Verified())
		require.Equal(t, testBcrypt, sonia.PasswordHash)

		out = e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", good)
		require.Contains(t, out, "(0 new, 0 updated, 2 unchanged)")
		again, err := s.GetCustomer(context.Background(), "shop1", 21)
		require.NoError(t, err)
		require.Equal(t, sonia.ID, again.ID)
		require.Equal(t, sonia.PasswordHash, again.PasswordHash)
	})

	t.Run("a customer_id of another customer", func(t *testing.T) {
		clash := e.file(t, "clash.csv", "email,password_hash,customer_id\n"+
			"other@example.com,"+testBcrypt+",21\n"+ // 21 is Sonia's
			"fine@example.com,"+testBcrypt+",\n")
		code, _, errOut := e.run(t, "", "customer", "import", "--shop", "shop1", "--file", clash)
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "line 2: customer_id 21 belongs to another customer")
		require.Contains(t, errOut, "1 invalid rows; nothing imported")
		_, err := e.store(t).GetCustomerByEmail(context.Background(), "shop1", "fine@example.com")
		require.ErrorIs(t, err, storage.ErrNotFound, "nothing of the file was written")

		out := e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", clash, "--dry-run")
		require.Contains(t, out, "dry run: 1 valid rows, 1 invalid (1 new, 0 updated, 0 unchanged)")

		code, out, errOut = e.run(t, "", "customer", "import", "--shop", "shop1", "--file", clash, "--skip-invalid")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, errOut, "line 2: customer_id 21 belongs to another customer")
		require.Contains(t, out, "(1 new, 0 updated, 0 unchanged); 1 invalid rows skipped")
		sonia, err := e.store(t).GetCustomer(context.Background(), "shop1", 21)
		require.NoError(t, err)
		require.Equal(t, "sonia@spryker.com", sonia.EmailNormalized, "Sonia is untouched")
	})

	t.Run("JSON lines", func(t *testing.T) {
		jl := e.file(t, "c.jsonl", `{"email":"json@example.com","password_hash":"`+testPHPass+`","verified":true,"customer_id":77}`+"\n")
		out := e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", jl)
		require.Contains(t, out, "(1 new, 0 updated, 0 unchanged)")
		_, err := e.store(t).GetCustomer(context.Background(), "shop1", 77)
		require.NoError(t, err)
	})

	t.Run("unknown shop and unreadable files", func(t *testing.T) {
		code, _, errOut := e.run(t, "", "customer", "import", "--shop", "nope", "--file", good)
		require.Equal(t, 1, code)
		require.Contains(t, errOut, `no shop "nope"`)
		code, _, errOut = e.run(t, "", "customer", "import", "--shop", "shop1", "--file", e.file(t, "h.csv", "mail,hash\n"))
		require.Equal(t, 1, code)
		require.Contains(t, errOut, `unknown column "mail"`)
		code, _, _ = e.run(t, "", "customer", "import", "--shop", "shop1", "--file", filepath.Join(e.dir, "missing.csv"))
		require.Equal(t, 1, code)
	})
}

func TestCustomerAccountCommands(t *testing.T) {
	e := newCustomerCLI(t)
	e.ok(t, "old-password\n", "customer", "add", "--shop", "shop1", "--email", "ann@example.com", "--name", "Ann", "--password-stdin", "--verified")
	s := e.store(t)
	ctx := context.Background()
	ann, err := s.GetCustomerByEmail(ctx, "shop1", "ann@example.com")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ann.PasswordHash, "$argon2id$v=19$m=64,t=1,p="), "customer add uses the configured parameters: %s", ann.PasswordHash)

	out := e.ok(t, "new password ✓\n", "customer", "set-password", "--shop", "shop1", "--email", "ANN@example.com")
	require.Contains(t, out, "password of customer")
	ann, err = s.GetCustomerByEmail(ctx, "shop1", "ann@example.com")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ann.PasswordHash, "$argon2id$v=19$m=64,t=1,p="), "configured parameters: %s", ann.PasswordHash)
	hasher, err := customers.NewHasher(harness.TestHashParams)
	require.NoError(t, err)
	ok, _, err := hasher.Verify(ann.PasswordHash, "new password ✓")
	require.NoError(t, err)
	require.True(t, ok)

	code, _, errOut := e.run(t, "", "customer", "set-password", "--shop", "shop1", "--email", "ann@example.com")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no password on stdin")
	code, _, errOut = e.run(t, strings.Repeat("x", customers.MaxPasswordBytes+1)+"\n", "customer", "set-password", "--shop", "shop1", "--email", "ann@example.com")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "longer than 1024 bytes")
	code, _, errOut = e.run(t, "pw\n", "customer", "set-password", "--shop", "shop1", "--email", "ghost@example.com")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no customer ghost@example.com in shop shop1")

	e.ok(t, "", "customer", "disable", "--shop", "shop1", "--email", "ann@example.com")
	ann, err = s.GetCustomerByEmail(ctx, "shop1", "ann@example.com")
	require.NoError(t, err)
	require.True(t, ann.Disabled())
	e.ok(t, "", "customer", "enable", "--shop", "shop1", "--email", "ann@example.com")
	ann, err = s.GetCustomerByEmail(ctx, "shop1", "ann@example.com")
	require.NoError(t, err)
	require.False(t, ann.Disabled())

	// Lock the address, then unlock it.
	for range 5 {
		_, _, err := s.RecordLoginAttempt(ctx, "shop1", "ann@example.com", time.Now(), storage.DefaultLockoutPolicy)
		require.NoError(t, err)
	}
	out = e.ok(t, "", "customer", "unlock", "--shop", "shop1", "--email", "Ann@Example.com")
	require.Contains(t, out, "ann@example.com in shop shop1 unlocked (5 failed logins cleared)")
	rec, err := s.GetLoginFailures(ctx, "shop1", "ann@example.com")
	require.NoError(t, err)
	require.False(t, rec.Locked(time.Now()))
	require.Zero(t, rec.Count)
	out = e.ok(t, "", "customer", "unlock", "--shop", "shop1", "--email", "never@example.com")
	require.Contains(t, out, "was not locked")
}

// TestUnlockThroughTokenEndpoint: a locked customer signs in right after
// `shopauth customer unlock`, run on the server's database.
//
// Mutant (cli/cmd_customer.go, unlock): skip store.ClearLoginFailures but
// print "unlocked": the sign-in after it gets 400.
func TestUnlockThroughTokenEndpoint(t *testing.T) {
	e := harness.NewCLI(t)
	store := e.Store(t)
	_, err := store.Migrate(t.Context())
	require.NoError(t, err)
	ts := harness.NewTestServer(t, harness.WithStore(store))
	for range ts.Config.Login.LockoutThreshold {
		ts.Password(t, app.DemoCustomerEmail, "nope")
	}
	resp, _ := ts.Password(t, app.DemoCustomerEmail, app.DemoPassword)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "locked")

	code, out, errOut := e.Run("", "customer", "unlock", "--shop", app.DemoShop, "--email", app.DemoCustomerEmail)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "unlocked")
	resp, b := ts.Password(t, app.DemoCustomerEmail, app.DemoPassword)
	require.Equal(t, http.StatusOK, resp.StatusCode, b.ErrorDescription)
}

// TestImportedCustomersSignIn: customers imported from a legacy file sign
// in at /oauth2/token with their old passwords.
//
// The import runs as `shopauth customer import` on the server's database.
func TestImportedCustomersSignIn(t *testing.T) {
	dbURL := sqlstoretest.SQLiteDatabaseURL(t)
	store, err := sqlstore.Open(t.Context(), dbURL, sqlstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	_, err = store.Migrate(t.Context())
	require.NoError(t, err)
	ts := harness.NewTestServer(t, harness.WithStore(store))
	t.Cleanup(func() {
		if t.Failed() { // a 500 was seen once under heavy load: keep its cause
			t.Logf("server log:\n%s", ts.Logs.String())
		}
	})
	p := filepath.Join(t.TempDir(), "legacy.csv")
	require.NoError(t, os.WriteFile(p, []byte("email,password_hash,verified\n"+
		"bc@example.com,"+testBcrypt+",1\nwp@example.com,"+testPHPass+",yes\n"), 0o600))
	var out, errOut bytes.Buffer
	code := cli.Run(t.Context(), []string{"customer", "import", "--shop", app.DemoShop, "--file", p}, strings.NewReader(""), &out, &errOut,
		[]string{"SHOPAUTH_DATABASE_URL=" + dbURL, "SHOPAUTH_LOG_LEVEL=error"})
	require.Zero(t, code, errOut.String())
	require.Contains(t, out.String(), "(2 new, 0 updated, 0 unchanged)")
	for email, pw := range map[string]string{"bc@example.com": "rasmuslerdorf", "wp@example.com": "password"} {
		resp, b := ts.Password(t, email, pw)
		require.Equal(t, http.StatusOK, resp.StatusCode, fmt.Sprint(email, b.ErrorDescription))
	}
}

func TestRevokeConsentCommand(t *testing.T) {
	e := newCustomerCLI(t)
	e.ok(t, "secret-pass\n", "customer", "add", "--shop", "shop1", "--email", "ann@example.com", "--name", "Ann", "--password-stdin", "--verified")
	s := e.store(t)
	cu, err := s.GetCustomerByEmail(t.Context(), "shop1", "ann@example.com")
	require.NoError(t, err)
	require.NoError(t, s.SaveConsent(t.Context(), storage.Consent{CustomerID: cu.ID, ClientID: "app", Scopes: []string{"openid"}, GrantedAt: time.Now()}))

	out := e.ok(t, "", "customer", "revoke-consent", "--shop", "shop1", "--email", "ann@example.com", "--client", "app")
	require.Equal(t, fmt.Sprintf("consent of customer %d for client app revoked; 0 refresh tokens revoked\n", cu.ID), out)
	_, err = s.GetConsent(t.Context(), cu.ID, "app")
	require.ErrorIs(t, err, storage.ErrNotFound)

	code, _, errOut := e.run(t, "", "customer", "revoke-consent", "--shop", "shop1", "--email", "ann@example.com", "--client", "app")
	require.NotZero(t, code)
	require.Contains(t, errOut, "has no consent for client app")
}

// TestImportRerunKeepsShopauthChanges is the field report's reproduction
// through the command line, on SQLite and MySQL: import, `customer
// disable` and `customer set-password` one customer, `customer verify`
// another, import the same file again. Before import records the rerun
// enabled the first with its old hash back and un-verified the second.
// Also the rows the shop's customers contradict, and a JSON key twice.
func TestImportRerunKeepsShopauthChanges(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(t testing.TB) string
	}{{"sqlite", sqlstoretest.SQLiteDatabaseURL}, {"mysql", sqlstoretest.MySQLDatabaseURL}} {
		t.Run(db.name, func(t *testing.T) {
			url := db.url(t)
			e := &customerCLI{CLI: &harness.CLI{DBURL: url, Environ: []string{
				"SHOPAUTH_DATABASE_URL=" + url, "SHOPAUTH_LOG_LEVEL=error",
				"SHOPAUTH_KEY_ENCRYPTION_KEY=" + keys.EncodeKEK(harness.TestKEK),
				"SHOPAUTH_ARGON2_MEMORY_KIB=64", "SHOPAUTH_ARGON2_ITERATIONS=1",
			}}, dir: t.TempDir()}
			e.ok(t, "", "shop", "add", "--key", "shop1", "--name", "Shop One")
			file := e.file(t, "legacy.csv", "email,name,password_hash,verified,customer_id\n"+
				"ann@example.com,Ann,"+testBcrypt+",1,21\n"+
				"bob@example.com,Bob,"+testPHPass+",0,22\n")
			require.Contains(t, e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", file), "(2 new, 0 updated, 0 unchanged)")
			s := e.store(t)
			ctx := context.Background()
			annBefore, err := s.GetCustomer(ctx, "shop1", 21)
			require.NoError(t, err)

			e.ok(t, "", "customer", "disable", "--shop", "shop1", "--email", "ann@example.com")
			e.ok(t, "set in shopauth\n", "customer", "set-password", "--shop", "shop1", "--email", "ann@example.com")
			e.ok(t, "", "customer", "verify", "--shop", "shop1", "--email", "bob@example.com")
			ann, err := s.GetCustomer(ctx, "shop1", 21)
			require.NoError(t, err)
			bob, err := s.GetCustomer(ctx, "shop1", 22)
			require.NoError(t, err)

			out := e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", file)
			require.Contains(t, out, "(0 new, 0 updated, 2 unchanged)")
			annAfter, err := s.GetCustomer(ctx, "shop1", 21)
			require.NoError(t, err)
			require.True(t, annAfter.Disabled(), "the rerun enabled a disabled customer")
			require.NotEqual(t, testBcrypt, annAfter.PasswordHash, "the rerun put the old hash back")
			require.Equal(t, ann, annAfter, "nothing of Ann changed")
			require.Equal(t, annBefore.EmailVerifiedAt, annAfter.EmailVerifiedAt, "verification not restamped")
			bobAfter, err := s.GetCustomer(ctx, "shop1", 22)
			require.NoError(t, err)
			require.True(t, bobAfter.Verified(), "the rerun un-verified a customer verified in shopauth")
			require.Equal(t, bob, bobAfter)

			// customer_id against the shop's customers; a key twice.
			clash := e.file(t, "clash.jsonl",
				`{"email":"ann@example.com","password_hash":"`+testBcrypt+`","customer_id":22}`+"\n"+
					`{"email":"new@example.com","password_hash":"`+testBcrypt+`","customer_id":21}`+"\n"+
					`{"email":"x@example.com","password_hash":"`+testBcrypt+`","email":"y@example.com"}`+"\n"+
					`{"email":"fine@example.com","password_hash":"`+testBcrypt+`"}`+"\n")
			code, _, errOut := e.run(t, "", "customer", "import", "--shop", "shop1", "--file", clash)
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "line 1: e-mail ann@example.com belongs to customer 21, not to customer_id 22")
			require.Contains(t, errOut, "line 2: customer_id 21 belongs to another customer")
			require.Contains(t, errOut, `line 3: key "email" given twice`)
			require.Contains(t, errOut, "3 invalid rows; nothing imported")
			_, err = s.GetCustomerByEmail(ctx, "shop1", "fine@example.com")
			require.ErrorIs(t, err, storage.ErrNotFound)
			out = e.ok(t, "", "customer", "import", "--shop", "shop1", "--file", clash, "--skip-invalid")
			require.Contains(t, out, "(1 new, 0 updated, 0 unchanged); 3 invalid rows skipped")
			annAfter, err = s.GetCustomer(ctx, "shop1", 21)
			require.NoError(t, err)
			require.Equal(t, ann, annAfter, "Ann is untouched")
		})
	}
}
