package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
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
				ID: appClientID, Public: true, ShopKey: app.DemoShop, GrantTypes: []string{"authorization_code"},
				Scopes: []string{"openid", "profile", "email"}, RedirectURIs: []string{rp.redirectURI()},
			}))
			rp.register(appClientID, "")
			b := &browserPage{t: t, ctx: ctx}
			const email, password, newPassword = "lucia@example.es", "lucia-first-2031", "lucia-second-2031"

			// The app sends the browser to the login page; the customer has
			// no account yet.
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(rp.srv.URL+"/"), chromedp.Click(chromedp.CSS("#login"))))
			require.Equal(t, "Crear una cuenta", b.text("#create-account-link"))
			b.submit("#create-account-link")
			require.NoError(t, chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS("#firstName"), "Lucía"),
				chromedp.SendKeys(chromedp.CSS("#lastName"), "García"),
				chromedp.SendKeys(chromedp.CSS("#email"), email),
				chromedp.SendKeys(chromedp.CSS("#password"), password),
				chromedp.SendKeys(chromedp.CSS("#confirmPassword"), password),
				chromedp.Click(chromedp.CSS("#acceptedTerms")),
			))
			b.submit("#create-account")
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
			require.True(t, strings.HasPrefix(b.text("#result"), appClientID+" signed in as "), b.text("#result"))
			require.True(t, strings.HasSuffix(b.text("#result"), "("+email+")"), b.text("#result"))

			// Another day, another browser session: the password is forgotten.
			require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
				return target.Call(ctx, "Network.clearBrowserCookies", nil, nil)
			})))
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(rp.srv.URL+"/start?client="+appClientID)))
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
