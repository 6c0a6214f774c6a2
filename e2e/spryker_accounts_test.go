package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/mail/mailtest"
	"github.com/shopauth/shopauth/storage"
)

// accountServer is the wired server with a real SMTP server for its mails
// and no per-address limits (the tests send many requests from one).
func accountServer(t *testing.T, backend []harness.TestOption) *harness.TestServer {
	t.Helper()
	opts := append([]harness.TestOption{
		harness.WithMailSink(mailtest.Options{TLS: mailtest.StartTLS, Username: "mailer", Password: "s3cret"}),
		harness.WithConfig(func(c *config.Config) {
			c.Login.RatePerMinute, c.Login.Burst = 0, 0
			c.Accounts.RatePerMinute, c.Accounts.Burst = 0, 0
		}),
	}, backend...)
	return harness.NewTestServer(t, opts...)
}

func registerBody(email, first, password string) string {
	b, _ := json.Marshal(map[string]any{"data": map[string]any{"type": "customers", "attributes": map[string]any{
		"salutation": "Ms", "firstName": first, "lastName": "Wagner", "email": email, "gender": "Female",
		"password": password, "confirmPassword": password, "acceptedTerms": true,
	}}})
	return string(b)
}

func glueBody(resourceType string, attrs map[string]any) string {
	b, _ := json.Marshal(map[string]any{"data": map[string]any{"type": resourceType, "attributes": attrs}})
	return string(b)
}

// mailKey waits for the n-th mail, checks who it is for and where it
// links, and returns the key of its link.
func mailKey(t *testing.T, s *harness.TestServer, n int, to, path string) string {
	t.Helper()
	got := s.Mail.Wait(n, 20*time.Second)[n-1]
	require.Equal(t, []string{to}, got.To)
	link, err := got.Link()
	require.NoError(t, err)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, s.URL+path, u.Scheme+"://"+u.Host+u.Path)
	return u.Query().Get("key")
}

func requireGlueError(t *testing.T, r harness.GlueResponse, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	var doc struct {
		Errors []struct {
			Code   string `json:"code"`
			Status int    `json:"status"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &doc), "body: %s", r.Body)
	require.NotEmpty(t, doc.Errors)
	require.Equal(t, code, doc.Errors[len(doc.Errors)-1].Code, "body: %s", r.Body)
}

// TestSprykerAccountLifecycle walks a customer through Spryker's account
// routes against the real server, its database and a real SMTP server:
// register, confirm from the mail, sign in, read and change the password
// (other sessions end, the one used stays), forget it, reset it from the
// mail, sign in with the new one; and register again with the address.
func TestSprykerAccountLifecycle(t *testing.T) {
	for name, backend := range backendOptions {
		t.Run(name, func(t *testing.T) {
			s := accountServer(t, backend)
			const email, first = "ann.wagner@example.com", "Ann"
			const password, changed, reset = "first-Passw0rd", "second-Passw0rd", "third-Passw0rd"

			r := s.Glue(t, http.MethodPost, "/customers", registerBody(email, first, password), "")
			require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
			var created struct {
				Data struct {
					ID         string            `json:"id"`
					Attributes map[string]any    `json:"attributes"`
					Links      map[string]string `json:"links"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.Body, &created))
			ref := created.Data.ID
			require.Regexp(t, `^DE--\d+$`, ref)
			require.Equal(t, "Ann", created.Data.Attributes["firstName"])
			require.Equal(t, s.URL+"/customers/"+ref, created.Data.Links["self"])

			confirmKey := mailKey(t, s, 1, email, "/account/confirm")
			require.Equal(t, "Confirma tu correo electrónico para ACME Shop", s.Mail.Messages()[0].Header("Subject"), "the shop's language and name")
			requireGlueError(t, s.Glue(t, http.MethodPost, "/access-tokens", harness.LoginBody(email, password), ""), http.StatusForbidden, "003")

			confirm := glueBody("customer-confirmation", map[string]any{"registrationKey": confirmKey})
			require.Equal(t, http.StatusNoContent, s.Glue(t, http.MethodPost, "/customer-confirmation", confirm, "").Status)
			requireGlueError(t, s.Glue(t, http.MethodPost, "/customer-confirmation", confirm, ""), http.StatusUnprocessableEntity, "423")

			first1 := s.SprykerLogin(t, email, password)
			other := s.SprykerLogin(t, email, password)
			r = s.Glue(t, http.MethodGet, "/customers/"+ref, "", first1.AccessToken)
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
			require.Contains(t, string(r.Body), `"email":"`+email+`"`)
			requireGlueError(t, s.Glue(t, http.MethodGet, "/customers/DE--21", "", first1.AccessToken), http.StatusNotFound, "402")

			change := glueBody("customer-password", map[string]any{"password": password, "newPassword": changed, "confirmPassword": changed})
			requireGlueError(t, s.Glue(t, http.MethodPatch, "/customer-password/DE--21", change, first1.AccessToken), http.StatusForbidden, "411")
			require.Equal(t, http.StatusNoContent, s.Glue(t, http.MethodPatch, "/customer-password/"+ref, change, first1.AccessToken).Status)
			s.RequireTokens(t, s.SprykerRefresh(t, first1.RefreshToken), "refresh-tokens", "/refresh-tokens")
			requireGlueError(t, s.SprykerRefresh(t, other.RefreshToken), http.StatusUnauthorized, "004")
			requireGlueError(t, s.Glue(t, http.MethodGet, "/customers/"+ref, "", other.AccessToken), http.StatusUnauthorized, "001")
			requireGlueError(t, s.Glue(t, http.MethodPost, "/access-tokens", harness.LoginBody(email, password), ""), http.StatusUnauthorized, "003")
			afterChange := s.SprykerLogin(t, email, changed)

			forgot := func(address string) {
				r := s.Glue(t, http.MethodPost, "/customer-forgotten-password", glueBody("customer-forgotten-password", map[string]any{"email": address}), "")
				require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
			}
			forgot("nobody@example.com")
			forgot(strings.ToUpper(email))
			resetKey := mailKey(t, s, 2, email, "/account/reset")
			restore := glueBody("customer-restore-password", map[string]any{"restorePasswordKey": resetKey, "password": reset, "confirmPassword": reset})
			require.Equal(t, http.StatusNoContent, s.Glue(t, http.MethodPatch, "/customer-restore-password/ignored", restore, "").Status)
			requireGlueError(t, s.Glue(t, http.MethodPatch, "/customer-restore-password/ignored", restore, ""), http.StatusUnprocessableEntity, "415")
			requireGlueError(t, s.SprykerRefresh(t, afterChange.RefreshToken), http.StatusUnauthorized, "004")
			requireGlueError(t, s.Glue(t, http.MethodPost, "/access-tokens", harness.LoginBody(email, changed), ""), http.StatusUnauthorized, "003")
			s.SprykerLogin(t, email, reset)

			requireGlueError(t, s.Glue(t, http.MethodPost, "/customers", registerBody(email, "Eve", "fourth-Passw0rd"), ""), http.StatusUnprocessableEntity, "400")
			again := s.Mail.Wait(3, 20*time.Second)[2]
			require.Equal(t, []string{email}, again.To, "the owner is told, not the caller")
			require.Equal(t, "Ya tienes una cuenta en ACME Shop", again.Header("Subject"))
			s.SprykerLogin(t, email, reset)
			require.Len(t, s.Mail.Messages(), 3, "no mail for the unknown address")
		})
	}
}

// TestSprykerAccountKeysExpire: a reset link works for an hour, a
// confirmation link for 72 hours (the server's clock moved on).
func TestSprykerAccountKeysExpire(t *testing.T) {
	s := accountServer(t, nil)
	const email, password = "late@example.com", "late-Passw0rd"
	require.Equal(t, http.StatusCreated, s.Glue(t, http.MethodPost, "/customers", registerBody(email, "Late", password), "").Status)
	confirmKey := mailKey(t, s, 1, email, "/account/confirm")
	s.Clock.Advance(72*time.Hour + time.Second)
	requireGlueError(t, s.Glue(t, http.MethodPost, "/customer-confirmation",
		glueBody("customer-confirmation", map[string]any{"registrationKey": confirmKey}), ""), http.StatusUnprocessableEntity, "423")

	forgot := glueBody("customer-forgotten-password", map[string]any{"email": email})
	require.Equal(t, http.StatusNoContent, s.Glue(t, http.MethodPost, "/customer-forgotten-password", forgot, "").Status)
	resetKey := mailKey(t, s, 2, email, "/account/reset")
	s.Clock.Advance(time.Hour + time.Second)
	restore := glueBody("customer-restore-password", map[string]any{"restorePasswordKey": resetKey, "password": "new-Passw0rd", "confirmPassword": "new-Passw0rd"})
	requireGlueError(t, s.Glue(t, http.MethodPatch, "/customer-restore-password/x", restore, ""), http.StatusUnprocessableEntity, "415")
}

// TestSprykerAccountBadInputWritesNothing: hostile and malformed
// registrations get a clear 4xx and leave no customer behind.
func TestSprykerAccountBadInputWritesNothing(t *testing.T) {
	for name, backend := range backendOptions {
		t.Run(name, func(t *testing.T) {
			s := accountServer(t, backend)
			long := strings.Repeat("a", 250) + "@example.com"
			tests := []struct {
				name, email, body string
				status            int
				code              string
			}{
				{"HTML in a name", "html@example.com", registerBody("html@example.com", "<script>alert(1)</script>", "good-Passw0rd"), 422, "901"},
				{"a very long e-mail", long, registerBody(long, "Ann", "good-Passw0rd"), 422, "901"},
				{"invalid UTF-8", "utf8@example.com", strings.Replace(registerBody("utf8@example.com", "Ann", "good-Passw0rd"), `"Ann"`, "\"A\xffn\"", 1), 400, ""},
				{"a duplicate member", "dup@example.com", strings.Replace(registerBody("dup@example.com", "Ann", "good-Passw0rd"), `"firstName"`, `"firstName":"X","firstName"`, 1), 400, ""},
				{"a common password", "common@example.com", registerBody("common@example.com", "Ann", "password1"), 400, "422"},
				{"a short password", "short@example.com", registerBody("short@example.com", "Ann", "Sh0rt!"), 400, "418"},
				{"terms not accepted", "terms@example.com", strings.Replace(registerBody("terms@example.com", "Ann", "good-Passw0rd"), `"acceptedTerms":true`, `"acceptedTerms":false`, 1), 422, "901"},
				{"terms as a string", "terms2@example.com", strings.Replace(registerBody("terms2@example.com", "Ann", "good-Passw0rd"), `"acceptedTerms":true`, `"acceptedTerms":"yes"`, 1), 400, ""},
				{"a body over 1 MiB", "big@example.com", registerBody("big@example.com", strings.Repeat("A", 2<<20), "good-Passw0rd"), 413, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := s.Glue(t, http.MethodPost, "/customers", tt.body, "")
					require.Equal(t, tt.status, r.Status, "body: %s", r.Body)
					if tt.code != "" {
						requireGlueError(t, r, tt.status, tt.code)
					}
					_, err := s.Store.GetCustomerByEmail(t.Context(), "acme12aa", strings.ToLower(tt.email))
					require.ErrorIs(t, err, storage.ErrNotFound, "nothing written")
				})
			}
			time.Sleep(100 * time.Millisecond)
			require.Empty(t, s.Mail.Messages(), "no mail for a refused request")
		})
	}
}

// TestSprykerAccountRateLimit: account requests are limited per address,
// in Glue's shape.
func TestSprykerAccountRateLimit(t *testing.T) {
	s := harness.NewTestServer(t, harness.WithConfig(func(c *config.Config) { c.Accounts.RatePerMinute, c.Accounts.Burst = 1, 2 }))
	body := glueBody("customer-forgotten-password", map[string]any{"email": "x@example.com"})
	for i := range 2 {
		require.Equal(t, http.StatusNoContent, s.Glue(t, http.MethodPost, "/customer-forgotten-password", body, "").Status, "request %d", i)
	}
	r := s.Glue(t, http.MethodPost, "/customer-forgotten-password", body, "")
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.NotEmpty(t, r.Header.Get("Retry-After"))
	require.Contains(t, string(r.Body), fmt.Sprintf(`"status":%d`, http.StatusTooManyRequests))
}
