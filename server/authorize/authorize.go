package authorize

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/grants"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// maxParamBytes bounds state, nonce and login_hint: they are echoed or
// stored, and no honest client needs more.
const maxParamBytes = 1024

// CodeStore stores the codes the endpoint issues; the token endpoint
// redeems them (grants.AuthorizationCode).
type CodeStore interface {
	CreateAuthorizationCode(ctx context.Context, c storage.AuthorizationCode) error
}

// ConsentStore remembers which scopes a customer granted a client.
type ConsentStore interface {
	SaveConsent(ctx context.Context, c storage.Consent) error
	GetConsent(ctx context.Context, customerID uint64, clientID string) (storage.Consent, error)
}

// SessionStore keeps the hosted login page's browser sessions.
type SessionStore interface {
	CreateBrowserSession(ctx context.Context, s storage.BrowserSession) error
	GetBrowserSession(ctx context.Context, idHash string) (storage.BrowserSession, error)
	DeleteBrowserSession(ctx context.Context, idHash string) error
}

// ShopStore reads shops.
type ShopStore interface {
	GetShop(ctx context.Context, key string) (storage.Shop, error)
}

// LoginChecker is the one password check of every login surface;
// *login.Checker implements it.
type LoginChecker interface {
	Allow(clientIP string) error
	Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error)
}

// Config holds the endpoint's dependencies.
type Config struct {
	Issuer    string
	Clients   clients.Store
	Shops     ShopStore
	Customers customers.Reader
	Login     LoginChecker
	Codes     CodeStore
	Consents  ConsentStore
	Sessions  SessionStore
	// SessionTTL is how long a browser session lasts.
	SessionTTL time.Duration
	Now        func() time.Time
}

// Endpoint is the authorization endpoint and the hosted login and consent
// pages' core.
type Endpoint struct {
	cfg Config
}

// New checks cfg and returns an Endpoint.
func New(cfg Config) (*Endpoint, error) {
	if cfg.Issuer == "" || cfg.Clients == nil || cfg.Shops == nil || cfg.Customers == nil || cfg.Login == nil ||
		cfg.Codes == nil || cfg.Consents == nil || cfg.Sessions == nil {
		return nil, errors.New("authorize: Issuer, Clients, Shops, Customers, Login, Codes, Consents and Sessions are required")
	}
	if cfg.SessionTTL <= 0 {
		return nil, errors.New("authorize: the session TTL must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Endpoint{cfg: cfg}, nil
}

// Prompt values (OIDC Core §3.1.2.1).
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// Request is an authorization request (RFC 6749 §4.1.1, OIDC Core
// §3.1.2.1) as a dialect decoded it. Empty strings mean absent.
type Request struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string // space-separated
	MaxAge              string // decimal seconds, as sent
	LoginHint           string
	// Repeated names a parameter the request carried more than once, which
	// RFC 6749 §3.1 forbids; the endpoint decides how to answer.
	Repeated string
}

// Values encodes the request as query parameters, so a page can carry it
// to the next step; absent members are left out.
func (r Request) Values() url.Values {
	v := url.Values{}
	for _, p := range [][2]string{
		{"client_id", r.ClientID}, {"redirect_uri", r.RedirectURI}, {"response_type", r.ResponseType},
		{"scope", r.Scope}, {"state", r.State}, {"nonce", r.Nonce},
		{"code_challenge", r.CodeChallenge}, {"code_challenge_method", r.CodeChallengeMethod},
		{"prompt", r.Prompt}, {"max_age", r.MaxAge}, {"login_hint", r.LoginHint},
	} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	return v
}

// Step is what the dialect does next.
type Step int

// Steps of an authorization.
const (
	// StepError: show Error on a page of the server, never redirect: the
	// client or its redirect URI is not trusted (RFC 6749 §4.1.2.1).
	StepError Step = iota + 1
	// StepRedirect: send the browser to RedirectURL (a code or an error
	// for the client).
	StepRedirect
	// StepLogin: show the login page.
	StepLogin
	// StepConsent: show the consent page.
	StepConsent
)

// Outcome is the answer to every step of an authorization.
type Outcome struct {
	Step        Step
	RedirectURL string
	// Error is the reason of a StepError (or of the error in RedirectURL).
	Error *refusal.Error
	// Problem is why a StepLogin repeats (BadCredentials, NotVerified,
	// Throttled, Unavailable); nil for a first showing.
	Problem *refusal.Error
	// Request is the validated request, for the page to carry on.
	Request Request
	Client  storage.Client
	Shop    storage.Shop
	// Scopes are the scopes a consent page asks for.
	Scopes []string
	// Session, when set, is a new browser session the dialect hands to the
	// browser (its cookie value and expiry).
	Session *NewSession
}

// NewSession is a browser session just created by a login.
type NewSession struct {
	Token  string
	MaxAge time.Duration // how long the browser keeps it
}

// ConsentDecision is what a consent step does.
type ConsentDecision int

// Consent decisions.
const (
	ConsentShow ConsentDecision = iota + 1
	ConsentAllow
	ConsentDeny
)

// authzRequest is a validated request and what it resolved to.
type authzRequest struct {
	raw       Request
	client    *clients.Info
	shop      storage.Shop
	scopes    []string
	prompts   []string
	maxAge    int64 // -1: absent
	challenge string
}

func (r *authzRequest) prompt(p string) bool { return slices.Contains(r.prompts, p) }

// session is a live browser session and its customer.
type session struct {
	row      storage.BrowserSession
	customer storage.Customer
}

// Authorize handles the authorization endpoint (RFC 6749 §4.1.1; OIDC Core
// §3.1.2): it validates the request and, when the browser's session (the
// cookie value sessionToken, "" for none) and a remembered consent allow,
// answers with a code at once.
func (e *Endpoint) Authorize(ctx context.Context, req Request, sessionToken string) (*Outcome, error) {
	ar, out, err := e.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	sess, err := e.session(ctx, sessionToken, ar.shop.Key)
	if err != nil {
		return nil, err
	}
	return e.proceed(ctx, ar, sess, false)
}

// LoginPage validates a request for showing the login page.
func (e *Endpoint) LoginPage(ctx context.Context, req Request) (*Outcome, error) {
	ar, out, err := e.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	return e.page(ar, StepLogin), nil
}

// LoginAttempt is what a customer typed into the login page.
type LoginAttempt struct {
	Email    string
	Password string
	// ClientIP keys the login rate limit, as on every other surface.
	ClientIP string
}

// Login checks a login attempt for req through the same customer
// authentication as the password grant, starts a browser session and
// proceeds with the authorization. The customer's previous session
// (previousToken) ends: every login gets a new session id.
func (e *Endpoint) Login(ctx context.Context, req Request, previousToken string, attempt LoginAttempt) (*Outcome, error) {
	ar, out, err := e.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	var customer storage.Customer
	err = e.cfg.Login.Allow(attempt.ClientIP)
	if err == nil {
		customer, err = e.cfg.Login.Authenticate(ctx, ar.shop.Key, attempt.Email, attempt.Password)
	}
	if err != nil {
		problem := loginProblem(err)
		if problem == nil {
			return nil, err
		}
		out := e.page(ar, StepLogin)
		out.Problem = problem
		return out, nil
	}
	if previousToken != "" {
		if err := e.cfg.Sessions.DeleteBrowserSession(ctx, tokens.HashToken(previousToken)); err != nil {
			return nil, fmt.Errorf("end previous session: %w", err)
		}
	}
	now := e.clock()
	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	row := storage.BrowserSession{
		IDHash: tokens.HashToken(token), ShopKey: ar.shop.Key, CustomerID: customer.ID,
		AuthTime: now, ExpiresAt: now.Add(e.cfg.SessionTTL),
	}
	if err := e.cfg.Sessions.CreateBrowserSession(ctx, row); err != nil {
		return nil, fmt.Errorf("create browser session: %w", err)
	}
	out, err = e.proceed(ctx, ar, &session{row: row, customer: customer}, true)
	if err != nil {
		return nil, err
	}
	out.Session = &NewSession{Token: token, MaxAge: e.cfg.SessionTTL}
	return out, nil
}

// loginProblem is the refusal the login page shows again for err; nil
// means err is a fault.
func loginProblem(err error) *refusal.Error {
	switch r := refusal.Of(err); r.Kind {
	case refusal.BadCredentials, refusal.NotVerified, refusal.Throttled, refusal.Unavailable:
		return r
	}
	return nil
}

// Consent shows the consent page, or records the customer's decision and
// answers the client (RFC 6749 §4.1.2, §4.1.2.1 access_denied). It needs a
// live session; without one the login page comes first.
func (e *Endpoint) Consent(ctx context.Context, req Request, sessionToken string, decision ConsentDecision) (*Outcome, error) {
	ar, out, err := e.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	sess, err := e.session(ctx, sessionToken, ar.shop.Key)
	if err != nil {
		return nil, err
	}
	if sess == nil || e.tooOld(ar, sess) {
		return e.page(ar, StepLogin), nil
	}
	if ar.client.FirstParty {
		return e.issueCode(ctx, ar, sess)
	}
	switch decision {
	case ConsentDeny:
		return e.redirectError(ar, refusal.New(refusal.AccessDenied, "The customer denied the request.")), nil
	case ConsentAllow:
		granted := ar.scopes
		if prev, err := e.cfg.Consents.GetConsent(ctx, sess.customer.ID, ar.client.ID); err == nil {
			granted = union(prev.Scopes, ar.scopes)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("load consent: %w", err)
		}
		if err := e.cfg.Consents.SaveConsent(ctx, storage.Consent{
			CustomerID: sess.customer.ID, ClientID: ar.client.ID, Scopes: granted, GrantedAt: e.clock(),
		}); err != nil {
			return nil, fmt.Errorf("save consent: %w", err)
		}
		return e.issueCode(ctx, ar, sess)
	default:
		out := e.page(ar, StepConsent)
		out.Scopes = ar.scopes
		return out, nil
	}
}

// proceed decides what follows once the request is valid: the login page,
// the consent page, or the code (OIDC Core §3.1.2.3–§3.1.2.4).
// justLoggedIn says the customer authenticated in this very step, which
// satisfies prompt=login and max_age.
func (e *Endpoint) proceed(ctx context.Context, ar *authzRequest, sess *session, justLoggedIn bool) (*Outcome, error) {
	needLogin := sess == nil || (!justLoggedIn && (ar.prompt(PromptLogin) || ar.prompt(PromptSelectAccount) || e.tooOld(ar, sess)))
	if needLogin {
		if ar.prompt(PromptNone) {
			return e.redirectError(ar, refusal.ErrLoginRequired), nil
		}
		return e.page(ar, StepLogin), nil
	}
	consented, err := e.consented(ctx, ar, sess)
	if err != nil {
		return nil, err
	}
	if !consented {
		if ar.prompt(PromptNone) {
			return e.redirectError(ar, refusal.ErrConsentRequired), nil
		}
		out := e.page(ar, StepConsent)
		out.Scopes = ar.scopes
		// The login that led here satisfied prompt=login; the consent page
		// must not ask for it again.
		out.Request.Prompt = strings.Join(slices.DeleteFunc(slices.Clone(ar.prompts), func(p string) bool {
			return p == PromptLogin || p == PromptSelectAccount
		}), " ")
		return out, nil
	}
	return e.issueCode(ctx, ar, sess)
}

// consented reports whether the request may skip the consent page: the
// client is first-party, or the customer granted these scopes before and
// the client did not ask to be asked again.
func (e *Endpoint) consented(ctx context.Context, ar *authzRequest, sess *session) (bool, error) {
	if ar.client.FirstParty {
		return true, nil
	}
	if ar.prompt(PromptConsent) {
		return false, nil
	}
	c, err := e.cfg.Consents.GetConsent(ctx, sess.customer.ID, ar.client.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load consent: %w", err)
	}
	for _, s := range ar.scopes {
		if !slices.Contains(c.Scopes, s) {
			return false, nil
		}
	}
	return true, nil
}

// tooOld reports whether the session's authentication is older than the
// request's max_age (OIDC Core §3.1.2.1).
func (e *Endpoint) tooOld(ar *authzRequest, sess *session) bool {
	return ar.maxAge >= 0 && e.clock().Sub(sess.row.AuthTime) > time.Duration(ar.maxAge)*time.Second
}

// issueCode stores a new code bound to the request and redirects to the
// client with it (RFC 6749 §4.1.2).
func (e *Endpoint) issueCode(ctx context.Context, ar *authzRequest, sess *session) (*Outcome, error) {
	code, err := randomToken()
	if err != nil {
		return nil, err
	}
	family, err := grants.NewFamilyID()
	if err != nil {
		return nil, err
	}
	now := e.clock()
	if err := e.cfg.Codes.CreateAuthorizationCode(ctx, storage.AuthorizationCode{
		CodeHash: tokens.HashToken(code), ClientID: ar.client.ID, CustomerID: sess.customer.ID,
		ShopKey: sess.customer.ShopKey, RedirectURI: ar.raw.RedirectURI, Scope: strings.Join(ar.scopes, " "),
		Nonce: ar.raw.Nonce, CodeChallenge: ar.challenge, AuthTime: sess.row.AuthTime, FamilyID: family,
		IssuedAt: now, ExpiresAt: now.Add(server.CodeTTL), SessionHash: sess.row.IDHash,
	}); err != nil {
		return nil, fmt.Errorf("store authorization code: %w", err)
	}
	return &Outcome{
		Step: StepRedirect, Request: ar.raw, Client: ar.client.Client, Shop: ar.shop,
		RedirectURL: e.clientRedirect(ar.raw.RedirectURI, url.Values{"code": {code}}, ar.raw.State),
	}, nil
}

// validateAuthorize checks a request in the order RFC 6749 §4.1.2.1 asks:
// while the client or its redirect URI is in doubt, errors are shown on
// a page; after that they go to the client. A nil outcome and error mean
// valid.
func (e *Endpoint) validateAuthorize(ctx context.Context, req Request) (*authzRequest, *Outcome, error) {
	showError := func(desc string) (*authzRequest, *Outcome, error) {
		return nil, &Outcome{Step: StepError, Request: req, Error: refusal.New(refusal.InvalidRequest, desc)}, nil
	}
	if req.Repeated == "client_id" || req.Repeated == "redirect_uri" {
		return showError("The parameter " + req.Repeated + " is repeated.")
	}
	if req.ClientID == "" {
		return showError("The client_id parameter is required.")
	}
	c, err := e.cfg.Clients.GetClient(ctx, req.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return showError("The client is unknown.")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load client: %w", err)
	}
	client := &clients.Info{Client: c}
	// OIDC Core §3.1.2.1 requires redirect_uri; RFC 9700 §2.1 exact
	// matching (simple string comparison, RFC 3986 §6.2.1).
	if req.RedirectURI == "" {
		return showError("The redirect_uri parameter is required.")
	}
	if !slices.Contains(c.RedirectURIs, req.RedirectURI) {
		return showError("The redirect_uri is not registered for this client.")
	}
	ar := &authzRequest{raw: req, client: client, maxAge: -1}
	fail := func(r *refusal.Error) (*authzRequest, *Outcome, error) {
		return nil, e.redirectError(ar, r), nil
	}
	invalid := func(desc string) (*authzRequest, *Outcome, error) {
		return fail(refusal.New(refusal.InvalidRequest, desc))
	}
	switch {
	case req.Repeated != "":
		return invalid("The parameter " + req.Repeated + " is repeated.")
	case req.ResponseType == "":
		return invalid("The response_type parameter is required.")
	case req.ResponseType != server.ResponseTypeCode:
		return fail(refusal.New(refusal.UnsupportedResponseType, "Only response_type=code is supported."))
	case !client.AllowsGrant(server.GrantAuthorizationCode):
		return fail(refusal.ErrUnauthorizedClient)
	case len(req.State) > maxParamBytes || len(req.Nonce) > maxParamBytes || len(req.LoginHint) > maxParamBytes:
		return invalid("A parameter is too long.")
	}
	// PKCE (RFC 7636 §4.3, §4.4.1): S256 only; an absent method means
	// plain, which is refused; public clients must use it (RFC 9700 §2.1.1).
	switch {
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return invalid("code_challenge_method without code_challenge.")
	case req.CodeChallenge == "" && client.IsPublic():
		return invalid("PKCE (code_challenge with S256) is required for public clients.")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != server.PKCEMethodS256:
		return invalid("Only code_challenge_method=S256 is supported.")
	case req.CodeChallenge != "" && !server.ValidPKCEValue(req.CodeChallenge):
		return invalid("The code_challenge is malformed.")
	}
	ar.challenge = req.CodeChallenge
	for _, p := range strings.Fields(req.Prompt) {
		if p != PromptNone && p != PromptLogin && p != PromptConsent && p != PromptSelectAccount {
			return invalid("Unknown prompt value.")
		}
		ar.prompts = append(ar.prompts, p)
	}
	if ar.prompt(PromptNone) && len(ar.prompts) > 1 {
		return invalid("prompt=none cannot be combined with other values.")
	}
	if req.MaxAge != "" {
		n, err := strconv.ParseInt(req.MaxAge, 10, 64)
		if err != nil || n < 0 {
			return invalid("max_age must be a non-negative number of seconds.")
		}
		ar.maxAge = n
	}
	scopes, ok := client.GrantScope(req.Scope)
	if !ok {
		return fail(refusal.ErrInvalidScope)
	}
	ar.scopes = scopes
	if c.ShopKey == "" {
		// A client serving several shops has no login page to show.
		return fail(refusal.New(refusal.UnauthorizedClient, "This client is bound to no shop."))
	}
	shop, err := e.cfg.Shops.GetShop(ctx, c.ShopKey)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !shop.Active) {
		return fail(refusal.New(refusal.Unavailable, "The shop is not available."))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load shop: %w", err)
	}
	ar.shop = shop
	return ar, nil, nil
}

// session returns the live session of sessionToken in shopKey, or nil.
func (e *Endpoint) session(ctx context.Context, sessionToken, shopKey string) (*session, error) {
	row, err := findSession(ctx, e.cfg.Sessions, sessionToken)
	if err != nil || row == nil || row.ShopKey != shopKey || !e.clock().Before(row.ExpiresAt) {
		return nil, err
	}
	customer, err := customers.Live(ctx, e.cfg.Customers, row.ShopKey, row.CustomerID)
	if errors.Is(err, customers.ErrGone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{row: *row, customer: customer}, nil
}

func (e *Endpoint) page(ar *authzRequest, step Step) *Outcome {
	return &Outcome{Step: step, Request: ar.raw, Client: ar.client.Client, Shop: ar.shop}
}

// redirectError answers the client with an error (RFC 6749 §4.1.2.1).
func (e *Endpoint) redirectError(ar *authzRequest, r *refusal.Error) *Outcome {
	wire := oautherr.From(r)
	params := url.Values{"error": {wire.Code}}
	if wire.Description != "" {
		params.Set("error_description", wire.Description)
	}
	return &Outcome{
		Step: StepRedirect, Request: ar.raw, Client: ar.client.Client, Shop: ar.shop, Error: r,
		RedirectURL: e.clientRedirect(ar.raw.RedirectURI, params, ar.raw.State),
	}
}

// clientRedirect adds params, state and iss (RFC 9207 §2, against mix-up)
// to the client's registered redirect URI, keeping its own query.
func (e *Endpoint) clientRedirect(redirectURI string, params url.Values, state string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		// Registered URIs are validated when the client is added; one that
		// does not parse still gets the parameters appended.
		u = &url.URL{Path: redirectURI}
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", e.cfg.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

func (e *Endpoint) clock() time.Time { return e.cfg.Now().UTC().Truncate(time.Second) }

// randomToken returns 256 random bits, base64url: codes and session ids.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
