package hosted

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/accounts"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/storage"
)

// Routes of the account pages (docs/accounts.md). The mails link to
// PathConfirm and PathReset.
const (
	PathRegister = "/account/register"
	PathForgot   = accounts.PathForgot
	PathReset    = accounts.PathReset
	PathConfirm  = accounts.PathConfirm
	PathPassword = "/account/password"
)

// Accounts is the account service the pages call; *accounts.Service
// implements it.
type Accounts interface {
	Registrations
	Recovery
	PasswordChanges
}

// Registrations creates accounts and confirms their addresses.
type Registrations interface {
	Shop(ctx context.Context, key string) (storage.Shop, error)
	Register(ctx context.Context, r accounts.Registration) (accounts.Account, error)
	CheckConfirmKey(ctx context.Context, key string) (storage.Shop, error)
	Confirm(ctx context.Context, key, clientIP string) (accounts.Confirmed, error)
}

// Recovery resets forgotten passwords.
type Recovery interface {
	Forgot(ctx context.Context, shopKey, email, continueTo, clientIP string) error
	CheckResetKey(ctx context.Context, key string) (accounts.ResetKey, error)
	ResetPassword(ctx context.Context, r accounts.Reset) (accounts.Done, error)
}

// PasswordChanges changes a signed-in customer's password.
type PasswordChanges interface {
	SessionAccount(ctx context.Context, sessionToken string) (accounts.SignedIn, error)
	ChangePassword(ctx context.Context, ch accounts.Change) error
}

var _ Accounts = (*accounts.Service)(nil)

// mountAccounts adds the account pages.
func (h *Handler) mountAccounts(g gin.IRouter) {
	if h.accounts == nil {
		return
	}
	g.GET(PathRegister, h.showShopForm(registerForm))
	g.POST(PathRegister, h.postShopForm(registerForm))
	g.GET(PathConfirm, h.confirmPage)
	g.POST(PathConfirm, h.confirm)
	g.GET(PathForgot, h.showShopForm(forgotForm))
	g.POST(PathForgot, h.postShopForm(forgotForm))
	g.GET(PathReset, h.resetPage)
	g.POST(PathReset, h.reset)
	g.GET(PathPassword, h.passwordPage)
	g.POST(PathPassword, h.changePassword)
}

// accountContext is the shop an account page serves, and the
// authorization request the customer came from, if any.
type accountContext struct {
	shop    storage.Shop
	request server.AuthorizeRequest
	// fromRequest reports whether the page came from an authorization
	// request (the login page's links), which continues afterwards.
	fromRequest bool
	hidden      []field
}

// continueTo is the authorization request to continue, as a query.
func (a accountContext) continueTo() string {
	if !a.fromRequest {
		return ""
	}
	return a.request.Values().Encode()
}

// back is the login page of the authorization request, if any.
func (a accountContext) back() string {
	if !a.fromRequest {
		return ""
	}
	return PathLogin + "?" + a.request.Values().Encode()
}

// resolveAccountContext finds the shop of a registration or recovery page:
// from the authorization request its parameters carry (validated as the
// login page validates it), or from a `shop` parameter. It has answered
// when ok is false.
func (h *Handler) resolveAccountContext(c *gin.Context, values url.Values) (accountContext, bool) {
	ctx := c.Request.Context()
	if values.Get("client_id") != "" {
		out, err := h.auth.LoginPage(ctx, AuthorizeRequestFrom(values))
		if err != nil {
			h.fault(c, err)
			return accountContext{}, false
		}
		if out.Step != server.StepLogin {
			// The request cannot be continued (unknown client, bad
			// redirect URI): say so, and redirect nowhere.
			if out.Error == nil {
				h.badRequest(c, out.Shop, "err_bad_request")
				return accountContext{}, false
			}
			h.render(c, http.StatusBadRequest, "error", h.data(out.Shop, "title_error", func(d *pageData) { d.Error = out.Error.Description }))
			return accountContext{}, false
		}
		return accountContext{
			shop: out.Shop, request: out.Request, fromRequest: true,
			hidden: hiddenFields(out.Request.Values(), authorizeParams...),
		}, true
	}
	shop, err := h.accounts.Shop(ctx, values.Get("shop"))
	if errors.Is(err, accounts.ErrUnknownShop) {
		h.badRequest(c, storage.Shop{}, "err_unknown_shop")
		return accountContext{}, false
	}
	if err != nil {
		h.fault(c, err)
		return accountContext{}, false
	}
	return accountContext{shop: shop, hidden: []field{{Name: "shop", Value: shop.Key}}}, true
}

// Forms of the account pages, for their CSRF binding (csrf.go); the
// registration and recovery forms are bound to their page name, each form
// also to the hidden fields it carries (the shop or the authorization
// request it continues, the key of a mailed link).
const (
	formConfirm  = "account_confirm"
	formPassword = "account_password"
	pageReset    = "account_reset"
)

// fieldValues are hidden fields as the values a form posts.
func fieldValues(fields []field) url.Values {
	v := url.Values{}
	for _, f := range fields {
		v.Add(f.Name, f.Value)
	}
	return v
}

// accountForm shows an account form page.
func (h *Handler) accountForm(c *gin.Context, status int, page, title string, ac accountContext, values url.Values, errorKey string, fields map[string]string) {
	h.render(c, status, page, h.data(ac.shop, title, func(d *pageData) {
		d.Hidden = ac.hidden
		d.CSRF = h.csrf.token(c.Writer, c.Request, h.flow(c, page, fieldValues(ac.hidden)))
		d.Back = ac.back()
		d.Values = map[string]string{}
		for _, name := range []string{"firstName", "lastName", "email", "acceptedTerms"} {
			d.Values[name] = values.Get(name)
		}
		d.Errors = map[string]string{}
		for name, key := range fields {
			d.Errors[name] = d.T[key]
		}
		if errorKey != "" {
			d.Error = d.T[errorKey]
		}
	}))
}

// shopForm is a form page of a shop (registration, recovery): shown for
// the shop and request the query names, posted with them.
type shopForm struct {
	page, title string
	// submit runs the form for its context; nil or an *accounts.InvalidInput
	// is an answer, anything else a refusal or a fault.
	submit func(h *Handler, c *gin.Context, ac accountContext, form url.Values) error
	// notice is said after a submission: the same page whatever the
	// address, and the mail tells its owner the rest.
	notice string
}

var (
	// A known address and a new one get the same page.
	registerForm = shopForm{page: "account_register", title: "title_register", notice: "notice_registered",
		submit: func(h *Handler, c *gin.Context, ac accountContext, form url.Values) error {
			_, err := h.accounts.Register(c.Request.Context(), accounts.Registration{
				ShopKey: ac.shop.Key, Email: form.Get("email"), FirstName: form.Get("firstName"), LastName: form.Get("lastName"),
				Password: form.Get("password"), ConfirmPassword: form.Get("confirmPassword"),
				AcceptedTerms: form.Get("acceptedTerms") == "true", ContinueTo: ac.continueTo(), ClientIP: c.ClientIP(),
			})
			if errors.Is(err, accounts.ErrEmailTaken) {
				return nil
			}
			return err
		}}
	// A reset link goes out only if the shop has the address.
	forgotForm = shopForm{page: "account_forgot", title: "title_forgot", notice: "notice_forgot",
		submit: func(h *Handler, c *gin.Context, ac accountContext, form url.Values) error {
			return h.accounts.Forgot(c.Request.Context(), ac.shop.Key, form.Get("email"), ac.continueTo(), c.ClientIP())
		}}
)

// showShopForm is GET of a shop form.
func (h *Handler) showShopForm(f shopForm) gin.HandlerFunc {
	return func(c *gin.Context) {
		ac, ok := h.resolveAccountContext(c, c.Request.URL.Query())
		if !ok {
			return
		}
		h.accountForm(c, http.StatusOK, f.page, f.title, ac, url.Values{"email": {ac.request.LoginHint}}, "", nil)
	}
}

// postShopForm is POST of a shop form.
func (h *Handler) postShopForm(f shopForm) gin.HandlerFunc {
	return func(c *gin.Context) {
		form, ok := h.accountPost(c)
		if !ok {
			return
		}
		ac, ok := h.resolveAccountContext(c, form)
		if !ok {
			return
		}
		if !h.csrf.valid(c.Request, form.Get("csrf_token"), h.flow(c, f.page, fieldValues(ac.hidden))) {
			h.accountForm(c, http.StatusForbidden, f.page, f.title, ac, form, "err_form_expired", nil)
			return
		}
		err := f.submit(h, c, ac, form)
		var invalid *accounts.InvalidInput
		switch {
		case err == nil:
			h.notice(c, http.StatusOK, ac.shop, "title_check_mail", f.notice, form.Get("email"))
		case errors.As(err, &invalid):
			h.accountForm(c, http.StatusBadRequest, f.page, f.title, ac, form, "err_fields", fieldMessages(invalid, nil))
		default:
			h.accountFault(c, ac.shop, err)
		}
	}
}

func (h *Handler) confirmPage(c *gin.Context) {
	key := c.Query("key")
	shop, err := h.accounts.CheckConfirmKey(c.Request.Context(), key)
	if err != nil {
		h.keyFault(c, err)
		return
	}
	h.render(c, http.StatusOK, "account_confirm", h.data(shop, "title_confirm", func(d *pageData) {
		d.Hidden = []field{{Name: "key", Value: key}}
		d.CSRF = h.csrf.token(c.Writer, c.Request, h.flow(c, formConfirm, url.Values{"key": {key}}))
	}))
}

// confirm confirms the address, then continues the authorization request
// the customer registered from (its login page, the address filled in), or
// says they can sign in.
func (h *Handler) confirm(c *gin.Context) {
	form, ok := h.accountPost(c)
	if !ok {
		return
	}
	key := form.Get("key")
	if !h.csrf.valid(c.Request, form.Get("csrf_token"), h.flow(c, formConfirm, url.Values{"key": {key}})) {
		h.render(c, http.StatusForbidden, "error", h.data(storage.Shop{}, "title_error", func(d *pageData) {
			d.Error = d.T["err_form_expired"]
			d.Retry = PathConfirm + "?" + url.Values{"key": {key}}.Encode()
		}))
		return
	}
	done, err := h.accounts.Confirm(c.Request.Context(), key, c.ClientIP())
	if err != nil {
		h.keyFault(c, err)
		return
	}
	h.continueOrNotice(c, done.ShopKey, done.ContinueTo, done.Email, "title_done", "notice_confirmed")
}

func (h *Handler) resetPage(c *gin.Context) {
	key := c.Query("key")
	rk, err := h.accounts.CheckResetKey(c.Request.Context(), key)
	if err != nil {
		h.keyFault(c, err)
		return
	}
	h.resetForm(c, http.StatusOK, rk.Shop, key, "", nil)
}

func (h *Handler) resetForm(c *gin.Context, status int, shop storage.Shop, key, errorKey string, fields map[string]string) {
	h.accountForm(c, status, pageReset, "title_reset", accountContext{shop: shop, hidden: []field{{Name: "key", Value: key}}},
		url.Values{}, errorKey, fields)
}

// reset sets the new password, then continues the authorization request
// the customer asked from, or says they can sign in.
func (h *Handler) reset(c *gin.Context) {
	form, ok := h.accountPost(c)
	if !ok {
		return
	}
	key := form.Get("key")
	ctx := c.Request.Context()
	rk, err := h.accounts.CheckResetKey(ctx, key)
	if err != nil {
		h.keyFault(c, err)
		return
	}
	if !h.csrf.valid(c.Request, form.Get("csrf_token"), h.flow(c, pageReset, url.Values{"key": {key}})) {
		h.resetForm(c, http.StatusForbidden, rk.Shop, key, "err_form_expired", nil)
		return
	}
	done, err := h.accounts.ResetPassword(ctx, accounts.Reset{
		Key: key, Password: form.Get("password"), ConfirmPassword: form.Get("confirmPassword"), ClientIP: c.ClientIP(),
	})
	var invalid *accounts.InvalidInput
	switch {
	case err == nil:
		h.continueOrNotice(c, done.ShopKey, done.ContinueTo, done.Email, "title_done", "notice_reset")
	case errors.As(err, &invalid):
		h.resetForm(c, http.StatusBadRequest, rk.Shop, key, "err_fields", fieldMessages(invalid, nil))
	case errors.Is(err, accounts.ErrInvalidKey):
		h.keyFault(c, err)
	default:
		h.accountFault(c, rk.Shop, err)
	}
}

func (h *Handler) passwordPage(c *gin.Context) {
	signedIn, ok := h.signedIn(c)
	if !ok {
		return
	}
	h.passwordForm(c, http.StatusOK, signedIn, "", nil)
}

func (h *Handler) passwordForm(c *gin.Context, status int, signedIn accounts.SignedIn, errorKey string, fields map[string]string) {
	h.render(c, status, "account_password", h.data(signedIn.Shop, "title_password", func(d *pageData) {
		d.Email = signedIn.Account.Customer.Email
		d.CSRF = h.csrf.token(c.Writer, c.Request, h.flow(c, formPassword, nil))
		d.Errors = map[string]string{}
		for name, key := range fields {
			d.Errors[name] = d.T[key]
		}
		if errorKey != "" {
			d.Error = d.T[errorKey]
		}
	}))
}

// changePassword changes the signed-in customer's password; this browser's
// session stays, every other sign-in ends.
func (h *Handler) changePassword(c *gin.Context) {
	form, ok := h.accountPost(c)
	if !ok {
		return
	}
	signedIn, ok := h.signedIn(c)
	if !ok {
		return
	}
	if !h.csrf.valid(c.Request, form.Get("csrf_token"), h.flow(c, formPassword, nil)) {
		h.passwordForm(c, http.StatusForbidden, signedIn, "err_form_expired", nil)
		return
	}
	err := h.accounts.ChangePassword(c.Request.Context(), accounts.Change{
		ShopKey: signedIn.Shop.Key, CustomerID: signedIn.Account.Customer.ID,
		CurrentPassword: form.Get("password"), NewPassword: form.Get("newPassword"), ConfirmPassword: form.Get("confirmPassword"),
		SessionToken: h.session(c), ClientIP: c.ClientIP(),
	})
	var invalid *accounts.InvalidInput
	switch {
	case err == nil:
		h.notice(c, http.StatusOK, signedIn.Shop, "title_done", "notice_changed", "")
	case errors.As(err, &invalid):
		h.passwordForm(c, http.StatusBadRequest, signedIn, "err_fields",
			fieldMessages(invalid, map[accounts.Field]string{accounts.FieldCurrentPassword: "currentPassword"}))
	case errors.Is(err, accounts.ErrWrongPassword):
		h.passwordForm(c, http.StatusBadRequest, signedIn, "", map[string]string{"currentPassword": "err_wrong_password"})
	default:
		h.accountFault(c, signedIn.Shop, err)
	}
}

// signedIn returns the browser's signed-in customer; without one it has
// answered 401 with a page that says to sign in first.
func (h *Handler) signedIn(c *gin.Context) (accounts.SignedIn, bool) {
	signedIn, err := h.accounts.SessionAccount(c.Request.Context(), h.session(c))
	switch {
	case errors.Is(err, accounts.ErrNoSession):
		h.notice(c, http.StatusUnauthorized, storage.Shop{}, "title_password", "err_not_signed_in", "")
		return accounts.SignedIn{}, false
	case err != nil:
		h.fault(c, err)
		return accounts.SignedIn{}, false
	}
	return signedIn, true
}

// accountPost reads an account form; it has answered when ok is false.
func (h *Handler) accountPost(c *gin.Context) (url.Values, bool) {
	form, err := ParseAccountForm(c.Request)
	if err != nil {
		h.unreadableForm(c, err)
		return nil, false
	}
	return form, true
}

// continueOrNotice sends the browser back into the authorization request
// it came from (its login page, the address filled in), or shows notice.
func (h *Handler) continueOrNotice(c *gin.Context, shopKey, continueTo, email, title, notice string) {
	if continueTo != "" {
		if values, err := url.ParseQuery(continueTo); err == nil && values.Get("client_id") != "" {
			values.Set("login_hint", email)
			c.Redirect(http.StatusSeeOther, PathLogin+"?"+values.Encode())
			return
		}
	}
	shop, err := h.accounts.Shop(c.Request.Context(), shopKey)
	if err != nil {
		shop = storage.Shop{}
	}
	h.notice(c, http.StatusOK, shop, title, notice, "")
}

// notice shows a message page; arg fills the message's %s.
func (h *Handler) notice(c *gin.Context, status int, shop storage.Shop, title, key, arg string) {
	h.render(c, status, "account_notice", h.data(shop, title, func(d *pageData) {
		d.Notice = d.T[key]
		if arg != "" {
			d.Notice = fmt.Sprintf(d.T[key], arg)
		}
	}))
}

// keyFault answers a link whose key cannot be used.
func (h *Handler) keyFault(c *gin.Context, err error) {
	if errors.Is(err, accounts.ErrInvalidKey) || errors.Is(err, accounts.ErrUnknownShop) {
		h.badRequest(c, storage.Shop{}, "err_link")
		return
	}
	h.accountFault(c, storage.Shop{}, err)
}

// accountFault answers the account service's refusals that are not about
// the fields: the rate limit (429), a busy or unreachable back end (503),
// anything else a fault (500, logged).
func (h *Handler) accountFault(c *gin.Context, shop storage.Shop, err error) {
	switch {
	case errors.Is(err, oautherr.ErrSlowDown):
		c.Header("Retry-After", strconv.Itoa(max(oautherr.From(err).RetryAfter, 1)))
		h.render(c, http.StatusTooManyRequests, "error", h.data(shop, "title_error", func(d *pageData) { d.Error = d.T["err_too_many_requests"] }))
	case errors.Is(err, oautherr.ErrTemporarilyUnavailable), errors.Is(err, storage.ErrUnavailable):
		c.Header("Retry-After", strconv.Itoa(max(oautherr.From(err).RetryAfter, 1)))
		h.render(c, http.StatusServiceUnavailable, "error", h.data(shop, "title_error", func(d *pageData) { d.Error = d.T["err_unavailable"] }))
	case errors.Is(err, accounts.ErrUnknownShop):
		h.badRequest(c, shop, "err_unknown_shop")
	default:
		h.fault(c, err)
	}
}

// fieldMessages names each refused field's message; rename maps a field to
// the form's name for it.
func fieldMessages(in *accounts.InvalidInput, rename map[accounts.Field]string) map[string]string {
	out := map[string]string{}
	for _, f := range in.Fields {
		name := string(f.Field)
		if r, ok := rename[f.Field]; ok {
			name = r
		}
		if _, seen := out[name]; seen {
			continue
		}
		out[name] = problemMessage(f)
	}
	return out
}

func problemMessage(f accounts.FieldError) string {
	switch f.Problem {
	case accounts.Blank:
		return "field_blank"
	case accounts.Invalid:
		if f.Field == accounts.FieldEmail {
			return "field_not_email"
		}
		return "field_invalid"
	case accounts.TooLong:
		if f.Field == accounts.FieldEmail {
			return "field_not_email"
		}
		return "field_too_long"
	case accounts.Mismatch:
		return "field_mismatch"
	case accounts.PasswordTooShort:
		return "field_too_short"
	case accounts.PasswordTooLong:
		return "field_password_long"
	case accounts.PasswordCommon:
		return "field_common"
	case accounts.NotAccepted:
		return "field_terms"
	}
	return "field_invalid"
}
