package attack

// Adversarial suite: what must never leave the server's memory. Logs carry
// no password, client secret, token, code, session cookie or password hash;
// the database holds refresh tokens, authorization codes and browser
// sessions only as SHA-256, and never a password or an access token.

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/storage/sqlstore"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// secrets collects what one pass over every surface handed out or took
// in; each is named for the failure message.
type secrets map[string]string

func (s secrets) add(name, value string) {
	if value != "" {
		s[name] = value
	}
}

// exerciseEverySurface signs in, refreshes, introspects, revokes and logs
// out on every dialect, with a wrong password too, and returns every
// secret involved.
func exerciseEverySurface(t *testing.T, ts *harness.TestServer) secrets {
	t.Helper()
	harness.AddCodeFlowClients(t, ts)
	s := secrets{}
	s.add("demo password", app.DemoPassword)
	s.add("client secret", app.DemoClientSecret)
	customer, err := ts.Store.GetCustomerByEmail(t.Context(), app.DemoShop, app.DemoCustomerEmail)
	require.NoError(t, err)
	s.add("password hash", customer.PasswordHash)

	// OAuth: password grant, refresh, introspection, UserInfo, revocation.
	const wrong = "a-wrong-password-9f3"
	s.add("wrong password", wrong)
	resp, _ := ts.Password(t, app.DemoCustomerEmail, wrong)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	tok := ts.Login(t, "openid email offline_access", "")
	s.add("access token", tok.AccessToken)
	s.add("refresh token", tok.RefreshToken)
	s.add("ID token", tok.IDToken)
	status, next := ts.Refresh(t, tok.RefreshToken)
	require.Equal(t, http.StatusOK, status)
	s.add("rotated refresh token", next.RefreshToken)
	s.add("rotated access token", next.AccessToken)
	ts.RequireActive(t, next.AccessToken, true)
	r, _ := ts.UserInfo(t, next.AccessToken)
	require.Equal(t, http.StatusOK, r.StatusCode)
	revoke := ts.PostForm(t, "/oauth2/revoke", url.Values{"token": {next.RefreshToken}}, app.DemoClientID, app.DemoClientSecret)
	require.Equal(t, http.StatusOK, revoke.StatusCode)

	// Spryker Glue: login, refresh, DELETE with the token in the path.
	glue := ts.SprykerLogin(t, app.DemoCustomerEmail, app.DemoPassword)
	s.add("Glue access token", glue.AccessToken)
	s.add("Glue refresh token", glue.RefreshToken)
	require.Equal(t, http.StatusNoContent, ts.Glue(t, http.MethodDelete, "/refresh-tokens/"+glue.RefreshToken, "", glue.AccessToken).Status)

	// shopKey: JSON and form logins, me, refresh, logout.
	sk := skAccessToken(t, ts.SkLoginJSON(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, ""))
	s.add("shopKey token", sk)
	bearer := []string{"Authorization", "Bearer " + sk}
	require.Equal(t, http.StatusOK, ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/me", "", "", bearer...).Status)
	renewed := skAccessToken(t, ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/refresh", "", "", bearer...))
	s.add("renewed shopKey token", renewed)
	require.Equal(t, http.StatusOK, ts.SkPost(t, http.MethodPost, app.DemoShop+"/customers/logout", "", "", "Authorization", "Bearer "+renewed).Status)
	s.add("form-login shopKey token", skAccessToken(t, ts.SkLoginForm(t, app.DemoShop, app.DemoCustomerEmail, app.DemoPassword, "")))

	// Hosted pages: a wrong password, the login, a code and its tokens.
	b := harness.NewBrowser(t, ts)
	page := b.SubmitLogin(b.Get(harness.AuthorizeURL(harness.WebClientID, harness.WebRedirect, url.Values{"scope": {"openid email"}})), app.DemoCustomerEmail, wrong)
	require.Equal(t, http.StatusBadRequest, page.Status)
	code := harness.CodeFor(t, ts, b, nil)
	s.add("authorization code", code)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	for _, c := range b.Jar().Cookies(u) {
		s.add("cookie "+c.Name, c.Value)
	}
	resp, web := harness.ExchangeCode(t, ts, code, url.Values{"redirect_uri": {harness.WebRedirect}, "code_verifier": {harness.TestVerifier}}, harness.WebClientID, harness.WebSecret)
	require.Equal(t, http.StatusOK, resp.StatusCode, web.Error)
	s.add("code's access token", web.AccessToken)
	s.add("web client secret", harness.WebSecret)
	return s
}

// TestAttackLogsCarryNoSecrets: after every surface has been used, with
// debug logging on, no secret appears in the server's log.
func TestAttackLogsCarryNoSecrets(t *testing.T) {
	ts := harness.NewTestServer(t, withoutLoginRateLimit())
	s := exerciseEverySurface(t, ts)
	logs := ts.Logs.String()
	require.Contains(t, logs, `"route"`, "the requests were logged")
	for name, value := range s {
		require.NotContains(t, logs, value, "the log carries the %s", name)
	}
}

// TestAttackSecretsAtRest: after every surface has been used, the
// database's bytes (SQLite: the file and its write-ahead log; MySQL: every
// row of every table) hold no password, access token, refresh token,
// authorization code or session cookie; refresh tokens, codes and
// sessions are found by their SHA-256 only.
func TestAttackSecretsAtRest(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dbURL := sqlstoretest.SQLiteDatabaseURL(t)
		ts := harness.NewTestServer(t, harness.WithStore(openStore(t, dbURL)), withoutLoginRateLimit())
		s := exerciseEverySurface(t, ts)
		path := strings.TrimPrefix(dbURL, "sqlite://")
		var stored []byte
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if !os.IsNotExist(err) {
				require.NoError(t, err)
			}
			stored = append(stored, b...)
		}
		require.Contains(t, string(stored), app.DemoCustomerEmail, "the database was read")
		for name, value := range s {
			if name == "password hash" {
				continue // meant to be stored
			}
			require.NotContains(t, string(stored), value, "%s stored in the clear (%s)", name, filepath.Base(path))
		}
	})
	t.Run("mysql", func(t *testing.T) {
		dbURL := sqlstoretest.MySQLDatabaseURL(t)
		ts := harness.NewTestServer(t, harness.WithStore(openStore(t, dbURL)), withoutLoginRateLimit())
		s := exerciseEverySurface(t, ts)
		stored := dumpMySQL(t, strings.TrimPrefix(dbURL, "mysql://"))
		require.Contains(t, stored, app.DemoCustomerEmail, "the database was read")
		for name, value := range s {
			if name == "password hash" {
				continue
			}
			require.NotContains(t, stored, value, "%s stored in the clear", name)
		}
	})
}

// openStore opens and migrates the database at databaseURL.
func openStore(t *testing.T, databaseURL string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), databaseURL, sqlstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

// dumpMySQL is every row of every table of the database, as text.
func dumpMySQL(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, tables)
	var out strings.Builder
	for _, table := range tables {
		rows, err := db.QueryContext(t.Context(), "SELECT * FROM `"+table+"`")
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for _, v := range vals {
				out.Write(v)
				out.WriteByte('\n')
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out.String()
}
