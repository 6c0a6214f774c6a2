package hosted

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/hosted.css
var styleSheet []byte

// Routes of the hosted pages (docs/oauth.md).
const (
	PathLogin   = "/login"
	PathConsent = "/consent"
	PathStyle   = "/assets/hosted.css"
)

// Authorizer is the authorization core the pages call; *server.Authority
// implements it.
type Authorizer interface {
	Authorize(ctx context.Context, req server.AuthorizeRequest, sessionToken string) (*server.AuthorizeOutcome, error)
	LoginPage(ctx context.Context, req server.AuthorizeRequest) (*server.AuthorizeOutcome, error)
	Login(ctx context.Context, req server.AuthorizeRequest, previousToken string, attempt server.LoginAttempt) (*server.AuthorizeOutcome, error)
	Consent(ctx context.Context, req server.AuthorizeRequest, sessionToken string, decision server.ConsentDecision) (*server.AuthorizeOutcome, error)
	EndSession(ctx context.Context, req server.LogoutRequest, sessionToken string, confirmed bool) (*server.LogoutOutcome, error)
}

var _ Authorizer = (*server.Authority)(nil)

// Config holds the pages' dependencies.
type Config struct {
	Authorizer Authorizer
	// SecureCookies marks cookies Secure (and gives them the __Host-
	// prefix): set when the issuer is https.
	SecureCookies bool
	// CSRFKey signs the CSRF tokens; equal on every replica.
	CSRFKey []byte
	// Accounts, when set, serves the account pages (registration,
	// recovery, password change) and the login page links to them.
	Accounts Accounts
	Logger   *slog.Logger
}

// Handler serves the authorization endpoint and the hosted pages.
type Handler struct {
	auth          Authorizer
	pages         *template.Template
	csrf          *csrf
	sessionCookie string
	secure        bool
	logger        *slog.Logger
	accounts      Accounts
}

// New checks cfg and parses the templates.
func New(cfg Config) (*Handler, error) {
	if cfg.Authorizer == nil || len(cfg.CSRFKey) < 32 {
		return nil, errors.New("hosted: an Authorizer and a CSRF key of at least 32 bytes are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := template.New("pages").Funcs(template.FuncMap{"field": fieldOf, "fieldIn": fieldIn, "newPassword": newPasswordOf}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	// The __Host- prefix makes the browser refuse the cookie unless it is
	// Secure, host-only and Path=/: a sibling subdomain cannot plant it.
	prefix := ""
	if cfg.SecureCookies {
		prefix = "__Host-"
	}
	return &Handler{
		auth: cfg.Authorizer, pages: pages, secure: cfg.SecureCookies, logger: cfg.Logger, accounts: cfg.Accounts,
		sessionCookie: prefix + "shopauth_session",
		csrf:          &csrf{key: cfg.CSRFKey, cookie: prefix + "shopauth_csrf", secure: cfg.SecureCookies},
	}, nil
}

// Mount adds the routes. The authorization endpoint answers GET and POST
// (OIDC Core §3.1.2.1), as does the end-session endpoint (RP-Initiated
// Logout §2).
func (h *Handler) Mount(r gin.IRouter) {
	g := r.Group("", pageHeaders)
	g.GET(web.PathAuthorize, h.authorize)
	g.POST(web.PathAuthorize, h.authorize)
	g.GET(PathLogin, h.loginPage)
	g.POST(PathLogin, h.login)
	g.GET(PathConsent, h.consentPage)
	g.POST(PathConsent, h.consent)
	g.GET(web.PathEndSession, h.logout)
	g.POST(web.PathEndSession, h.logout)
	h.mountAccounts(g)
	r.GET(PathStyle, func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=86400")
		c.Data(http.StatusOK, "text/css; charset=utf-8", styleSheet)
	})
}

// pageHeaders keep the pages out of caches and frames (RFC 6749 §10.13,
// RFC 9700 §4.16) and let them load nothing but the style sheet. CSP has
// no form-action: browsers apply it to the redirect that follows a form
// post, which goes to the client.
func pageHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Next()
}

func (h *Handler) authorize(c *gin.Context) {
	req, err := ParseAuthorizeRequest(c.Request)
	if err != nil {
		h.badRequest(c, storage.Shop{}, "err_bad_request")
		return
	}
	out, err := h.auth.Authorize(c.Request.Context(), req, h.session(c))
	h.respond(c, out, err, "")
}

func (h *Handler) loginPage(c *gin.Context) {
	out, err := h.auth.LoginPage(c.Request.Context(), AuthorizeRequestFrom(c.Request.URL.Query()))
	h.respond(c, out, err, "")
}

func (h *Handler) login(c *gin.Context) {
	form, err := ParseLoginForm(c.Request)
	if err != nil {
		h.unreadableForm(c, err)
		return
	}
	if !h.csrf.valid(c.Request, form.CSRF, h.flow(c, formLogin, form.Request.Values())) {
		// Nothing is checked: the page comes back with a fresh token.
		out, err := h.auth.LoginPage(c.Request.Context(), form.Request)
		if err == nil && out.Step == server.StepLogin {
			h.renderLogin(c, http.StatusForbidden, out, form.Email, "err_form_expired")
			return
		}
		h.respond(c, out, err, form.Email)
		return
	}
	out, err := h.auth.Login(c.Request.Context(), form.Request, h.session(c), server.LoginAttempt{
		Email: form.Email, Password: form.Password, ClientIP: c.ClientIP(),
	})
	h.respond(c, out, err, form.Email)
}

func (h *Handler) consentPage(c *gin.Context) {
	out, err := h.auth.Consent(c.Request.Context(), AuthorizeRequestFrom(c.Request.URL.Query()), h.session(c), server.ConsentShow)
	h.respond(c, out, err, "")
}

func (h *Handler) consent(c *gin.Context) {
	form, err := readForm(c.Request)
	if err != nil {
		h.unreadableForm(c, err)
		return
	}
	if len(form["decision"]) != 1 {
		h.badRequest(c, storage.Shop{}, "err_bad_request")
		return
	}
	req := AuthorizeRequestFrom(form)
	if !h.csrf.valid(c.Request, form.Get("csrf_token"), h.flow(c, formConsent, req.Values())) {
		h.formExpired(c, req, PathConsent)
		return
	}
	decision := server.ConsentDeny
	if form.Get("decision") == "allow" {
		decision = server.ConsentAllow
	}
	out, err := h.auth.Consent(c.Request.Context(), req, h.session(c), decision)
	h.respond(c, out, err, "")
}

func (h *Handler) logout(c *gin.Context) {
	values := c.Request.URL.Query()
	confirmed := false
	if c.Request.Method == http.MethodPost {
		form, err := readForm(c.Request)
		if err != nil {
			h.unreadableForm(c, err)
			return
		}
		values = form
		if form.Get("confirm") != "" {
			if !h.csrf.valid(c.Request, form.Get("csrf_token"), h.flow(c, formLogout, logoutValues(LogoutRequestFrom(form)))) {
				h.badRequest(c, storage.Shop{}, "err_form_expired")
				return
			}
			confirmed = true
		}
	}
	req := LogoutRequestFrom(values)
	out, err := h.auth.EndSession(c.Request.Context(), req, h.session(c), confirmed)
	if err != nil {
		h.fault(c, err)
		return
	}
	switch out.Step {
	case server.LogoutError:
		h.render(c, http.StatusBadRequest, "error", h.data(out.Shop, "title_error", func(d *pageData) {
			d.Error = out.Error.Description
		}))
	case server.LogoutConfirm:
		h.render(c, http.StatusOK, "logout", h.data(out.Shop, "title_logout", func(d *pageData) {
			d.Hidden = hiddenFields(logoutValues(req), logoutParams...)
			d.CSRF = h.csrf.token(c.Writer, c.Request, h.flow(c, formLogout, logoutValues(req)))
		}))
	case server.LogoutDone:
		h.clearSession(c)
		h.render(c, http.StatusOK, "logged_out", h.data(out.Shop, "title_logged_out", nil))
	case server.LogoutRedirect:
		h.clearSession(c)
		h.redirect(c, out.RedirectURL)
	}
}

// respond turns an authorization outcome into a page or a redirect. email
// refills the login form after a failed attempt.
func (h *Handler) respond(c *gin.Context, out *server.AuthorizeOutcome, err error, email string) {
	if err != nil {
		h.fault(c, err)
		return
	}
	if out.Session != nil {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: h.sessionCookie, Value: out.Session.Token, Path: "/",
			MaxAge:   int(out.Session.MaxAge / time.Second),
			HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
		})
	}
	switch out.Step {
	case server.StepError:
		h.render(c, http.StatusBadRequest, "error", h.data(out.Shop, "title_error", func(d *pageData) {
			d.Error = out.Error.Description
		}))
	case server.StepRedirect:
		h.redirect(c, out.RedirectURL)
	case server.StepLogin:
		status := http.StatusOK
		switch out.Problem {
		case server.LoginInvalidCredentials, server.LoginNotVerified:
			status = http.StatusBadRequest
		case server.LoginTooManyAttempts:
			status = http.StatusTooManyRequests
		case server.LoginUnavailable:
			status = http.StatusServiceUnavailable
		}
		h.renderLogin(c, status, out, email, "")
	case server.StepConsent:
		if c.Request.Method == http.MethodPost {
			// Post/redirect/get: a reload of the consent page must not
			// post the password again (RFC 9700 §4.12: 303, never 307).
			c.Redirect(http.StatusSeeOther, PathConsent+"?"+out.Request.Values().Encode())
			return
		}
		h.render(c, http.StatusOK, "consent", h.data(out.Shop, "title_consent", func(d *pageData) {
			d.Client = out.Client.ID
			for _, s := range out.Scopes {
				d.Scopes = append(d.Scopes, describeScope(d.T, s))
			}
			d.Hidden = hiddenFields(out.Request.Values(), authorizeParams...)
			d.CSRF = h.csrf.token(c.Writer, c.Request, h.flow(c, formConsent, out.Request.Values()))
		}))
	default:
		h.fault(c, errors.New("hosted: authorization outcome without a step"))
	}
}

// renderLogin shows the login page; problemKey overrides the message of
// out.Problem.
func (h *Handler) renderLogin(c *gin.Context, status int, out *server.AuthorizeOutcome, email, problemKey string) {
	if email == "" {
		email = out.Request.LoginHint
	}
	h.render(c, status, "login", h.data(out.Shop, "title_login", func(d *pageData) {
		d.Client = out.Client.ID
		d.Email = email
		d.Error = loginProblemMessage(d.T, out.Problem)
		if problemKey != "" {
			d.Error = d.T[problemKey]
		}
		d.Hidden = hiddenFields(out.Request.Values(), authorizeParams...)
		d.CSRF = h.csrf.token(c.Writer, c.Request, h.flow(c, formLogin, out.Request.Values()))
		if h.accounts != nil {
			query := out.Request.Values().Encode()
			d.ForgotURL, d.RegisterURL = PathForgot+"?"+query, PathRegister+"?"+query
		}
	}))
}

// redirect sends the browser on: 303 after a form post (RFC 9700 §4.12),
// 302 otherwise.
func (h *Handler) redirect(c *gin.Context, to string) {
	status := http.StatusFound
	if c.Request.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	c.Redirect(status, to)
}

// flow binds a form's CSRF token to this browser's session and the
// request the form continues (csrf.go).
func (h *Handler) flow(c *gin.Context, form string, request url.Values) flow {
	return flow{form: form, session: h.session(c), request: request}
}

func (h *Handler) session(c *gin.Context) string {
	if ck, err := c.Request.Cookie(h.sessionCookie); err == nil {
		return ck.Value
	}
	return ""
}

func (h *Handler) clearSession(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: h.sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
}

// formExpired answers a post whose CSRF token does not match: nothing is
// done, and the customer can start the step again.
func (h *Handler) formExpired(c *gin.Context, req server.AuthorizeRequest, path string) {
	h.render(c, http.StatusForbidden, "error", h.data(storage.Shop{}, "title_error", func(d *pageData) {
		d.Error = d.T["err_form_expired"]
		d.Retry = path + "?" + req.Values().Encode()
	}))
}

func (h *Handler) badRequest(c *gin.Context, shop storage.Shop, key string) {
	h.render(c, http.StatusBadRequest, "error", h.data(shop, "title_error", func(d *pageData) { d.Error = d.T[key] }))
}

// unreadableForm answers a form readForm refused: 413 when it was over the
// body limit, 400 otherwise.
func (h *Handler) unreadableForm(c *gin.Context, err error) {
	if errors.Is(err, errFormTooLarge) {
		h.render(c, http.StatusRequestEntityTooLarge, "error",
			h.data(storage.Shop{}, "title_error", func(d *pageData) { d.Error = d.T["err_too_large"] }))
		return
	}
	h.badRequest(c, storage.Shop{}, "err_bad_request")
}

// fault logs the cause once and shows a page that does not leak it.
func (h *Handler) fault(c *gin.Context, err error) {
	h.logger.ErrorContext(c.Request.Context(), "request failed",
		"request_id", web.RequestID(c), "route", c.FullPath(), "err", err)
	h.render(c, http.StatusInternalServerError, "error", h.data(storage.Shop{}, "title_error", func(d *pageData) {
		d.Error = d.T["err_server"]
	}))
}

// pageData is what every template gets.
type pageData struct {
	Lang   string
	T      map[string]string
	Title  string
	Shop   string
	Client string
	Hidden []field
	CSRF   string
	Email  string
	Error  string
	Retry  string
	Scopes []string
	// The account pages': the form's values and each field's message,
	// the link back to the login page, a notice.
	Values map[string]string
	Errors map[string]string
	Back   string
	Notice string
	// The login page's links to the account pages.
	ForgotURL, RegisterURL string
}

// fieldRef is what the "fielderror" template gets: one field's name and
// every field's message.
type fieldRef struct {
	Errors map[string]string
	Name   string
}

func fieldOf(d pageData, name string) fieldRef { return fieldIn(d.Errors, name) }

func fieldIn(errors map[string]string, name string) fieldRef {
	return fieldRef{Errors: errors, Name: name}
}

// newPasswordRef is what the "newpassword" template gets: the new
// password's field name and label, with its confirmation.
type newPasswordRef struct {
	T           map[string]string
	Errors      map[string]string
	Name, Label string
}

func newPasswordOf(d pageData, name, label string) newPasswordRef {
	return newPasswordRef{T: d.T, Errors: d.Errors, Name: name, Label: label}
}

type field struct{ Name, Value string }

func (h *Handler) data(shop storage.Shop, title string, fill func(*pageData)) pageData {
	lang := language(shop.Locale)
	d := pageData{Lang: lang, T: messages[lang], Shop: shop.Name}
	if d.Shop == "" {
		d.Shop = "shopauth"
	}
	d.Title = d.T[title]
	if fill != nil {
		fill(&d)
	}
	return d
}

// hiddenFields carries the named parameters of values through a form.
func hiddenFields(values map[string][]string, names ...string) []field {
	var out []field
	for _, n := range names {
		if vs := values[n]; len(vs) > 0 && vs[0] != "" {
			out = append(out, field{Name: n, Value: vs[0]})
		}
	}
	return out
}

func (h *Handler) render(c *gin.Context, status int, page string, d pageData) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, page, d); err != nil {
		h.logger.ErrorContext(c.Request.Context(), "render page", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
