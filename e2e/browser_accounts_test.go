package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
	"github.com/shopauth/shopauth/server/mail/mailtest"
	"github.com/shopauth/shopauth/storage"
)

// TestBrowserAccountFlow drives headless Chromium, as a newcomer would,
// through a third-party app's sign-in: "Create account" from the login
// page, the confirmation link from the mail a real SMTP server received,
// back into the app's authorization, sign-in and consent; then, in a
// fresh browser session, "Forgot password?", the reset link from the
// mail, the new password, and sign-in with it. On SQLite and MySQL.
func TestBrowserAccountFlow(t *testing.T) {
	for name, backend := range backendOptions {
		t.Run(name, func(t *testing.T) {
			ctx := newChromium(t)
			ts := accountServer(t, backend)
			rp := newRelyingParty(t, ts.URL)
			require.NoError(t, ts.Store.CreateClient(t.Context(), storage.Client{
				ID: harness.AppClientID, Public: true, ShopKey: app.DemoShop, GrantTypes: []string{"authorization_code"},
				Scopes: []string{"openid", "profile", "email"}, RedirectURIs: []string{rp.redirectURI()},
			}))
			rp.register(harness.AppClientID, "")
			b := &browserPage{t: t, ctx: ctx}
			const email, password, newPassword = "lucia@example.es", "lucia-first-2031", "lucia-second-2031"

			// The app sends the browser to the login page; the customer has
			// no account yet.
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(rp.srv.URL+"/"), chromedp.Click(chromedp.CSS("#login"))))
			require.Equal(t, "Crear una cuenta", b.text("#create-account-link"))
			b.submit("#create-account-link")
			b.register("Lucía", "García", email, password)
			require.Contains(t, b.text("#notice"), email)

			// The confirmation link from the mail, then back into the app's
			// sign-in, the address filled in.
			link := mailLink(t, ts.Mail.Wait(1, 30*time.Second)[0], email)
			require.Contains(t, link, ts.URL+"/account/confirm?key=")
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link)))
			b.submit("#confirm-email")
			filled, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#email")))
			require.NoError(t, err)
			require.Equal(t, email, filled, "the login page continues the app's request")
			require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#password"), password)))
			b.submit("#sign-in")
			b.submit("#allow")
			require.True(t, strings.HasPrefix(b.text("#result"), harness.AppClientID+" signed in as "), b.text("#result"))
			require.True(t, strings.HasSuffix(b.text("#result"), "("+email+")"), b.text("#result"))

			// Another day, another browser session: the password is forgotten.
			require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
				return target.Call(ctx, "Network.clearBrowserCookies", nil, nil)
			})))
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(rp.srv.URL+"/start?client="+harness.AppClientID)))
			b.submit("#forgot-password")
			require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#email"), email)))
			b.submit("#send-link")
			require.Contains(t, b.text("#notice"), email)

			link = mailLink(t, ts.Mail.Wait(2, 30*time.Second)[1], email)
			require.Contains(t, link, ts.URL+"/account/reset?key=")
			require.NoError(t, chromedp.Do(ctx,
				chromedp.Navigate(link),
				chromedp.WaitVisible(chromedp.CSS("#password")),
				chromedp.SendKeys(chromedp.CSS("#password"), newPassword),
				chromedp.SendKeys(chromedp.CSS("#confirmPassword"), newPassword),
			))
			b.submit("#set-password")

			// The reset continues the app's request: the old password is
			// refused, the new one signs in.
			b.signIn(email, password)
			require.Contains(t, b.text("#login-error"), "no son correctos")
			b.signIn(email, newPassword)
			require.True(t, strings.HasSuffix(b.text("#result"), "("+email+")"), b.text("#result"))
		})
	}
}

// mailLink is the link of a mail, which must be to to.
func mailLink(t *testing.T, m mailtest.Received, to string) string {
	t.Helper()
	require.Equal(t, []string{to}, m.To)
	link, err := m.Link()
	require.NoError(t, err)
	return link
}

// demoMailLink waits for the n-th demo mail line in the server's log (the
// demo has no SMTP server: serve --demo logs each mail's link at info) and
// returns its link.
func demoMailLink(t *testing.T, ts *harness.TestServer, n int, to string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var links []string
		for line := range strings.Lines(ts.Logs.String()) {
			var entry struct {
				Level, Msg, To, Link string
			}
			if json.Unmarshal([]byte(line), &entry) == nil && strings.HasPrefix(entry.Msg, "demo mail") {
				require.Equal(t, "INFO", entry.Level)
				require.Equal(t, to, entry.To)
				links = append(links, entry.Link)
			}
		}
		if len(links) >= n {
			return links[n-1]
		}
		require.True(t, time.Now().Before(deadline), "no demo mail %d in the log", n)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserDemoNewcomer follows docs/accounts.md as a newcomer would,
// with `serve --demo` (no SMTP server) and a browser: the demo app, create
// an account, the link from the log, sign in, change the password, sign
// out, forget it, reset it from the log's link, sign in with the new one.
func TestBrowserDemoNewcomer(t *testing.T) {
	ctx := newChromium(t)
	ts := harness.NewTestServer(t, harness.WithDemoMode(), harness.WithConfig(func(c *config.Config) {
		c.Login.RatePerMinute, c.Login.Burst = 0, 0
	}))
	b := &browserPage{t: t, ctx: ctx}
	const email, first, second, third = "newcomer@example.com", "newcomer-one-2031", "newcomer-two-2031", "newcomer-three-2031"

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/demo")))
	b.submit("#sign-in-link")
	b.submit("#create-account-link")
	b.register("New", "Comer", email, first)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(demoMailLink(t, ts, 1, email))))
	b.submit("#confirm-email")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#password"), first)))
	b.submit("#sign-in")
	require.Equal(t, "New Comer <"+email+">", b.text("#signed-in"))

	b.submit("#change-password")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#currentPassword"), first),
		chromedp.SendKeys(chromedp.CSS("#newPassword"), second),
		chromedp.SendKeys(chromedp.CSS("#confirmPassword"), second),
	))
	b.submit("#change-password")
	require.Contains(t, b.text("#notice"), "Tu contraseña ha cambiado")

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/demo")))
	b.submit("#sign-in-link")
	require.Equal(t, "New Comer <"+email+">", b.text("#signed-in"), "the change kept this browser signed in")
	b.submit("#sign-out")
	b.submit("#sign-out") // the logout page asks to confirm

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/demo")))
	b.submit("#sign-in-link")
	b.submit("#forgot-password")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#email"), email)))
	b.submit("#send-link")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(demoMailLink(t, ts, 2, email)),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), third),
		chromedp.SendKeys(chromedp.CSS("#confirmPassword"), third),
	))
	b.submit("#set-password")
	b.signIn(email, third)
	require.Equal(t, "New Comer <"+email+">", b.text("#signed-in"))
}

// register fills the "Create account" page and submits it.
func (b *browserPage) register(firstName, lastName, email, password string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.CSS("#firstName"), firstName),
		chromedp.SendKeys(chromedp.CSS("#lastName"), lastName),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.SendKeys(chromedp.CSS("#confirmPassword"), password),
		chromedp.Click(chromedp.CSS("#acceptedTerms")),
	))
	b.submit("#create-account")
}
