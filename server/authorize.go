package server

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

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// CodeTTL is how long an authorization code can be redeemed: FAPI 2.0's
// 60 s, well under RFC 6749 §4.1.2's 10 minutes.
const CodeTTL = 60 * time.Second

// maxParamBytes bounds state, nonce and login_hint: they are echoed or
// stored, and no honest client needs more.
const maxParamBytes = 1024

// AuthorizationCodeStore keeps authorization codes. Redemption is one
// storage-owned atomic operation; so is recording the tokens issued from a
// code against a concurrent revocation.
type AuthorizationCodeStore interface {
	CreateAuthorizationCode(ctx context.Context, c storage.AuthorizationCode) error
	RedeemAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (storage.AuthorizationCode, error)
	IssueCodeTokens(ctx context.Context, codeHash string, now time.Time, refresh *storage.RefreshToken, access storage.IssuedAccessToken) error
	RevokeAuthorizationCode(ctx context.Context, codeHash string, now time.Time) (int64, error)
}

// ConsentStore remembers which scopes a customer granted a client.
type ConsentStore interface {
	SaveConsent(ctx context.Context, c storage.Consent) error
	GetConsent(ctx context.Context, customerID uint64, clientID string) (storage.Consent, error)
}

// BrowserSessionStore keeps the hosted login page's sessions.
type BrowserSessionStore interface {
	CreateBrowserSession(ctx context.Context, s storage.BrowserSession) error
	GetBrowserSession(ctx context.Context, idHash string) (storage.BrowserSession, error)
	DeleteBrowserSession(ctx context.Context, idHash string) error
}

// Prompt values (OIDC Core §3.1.2.1).
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// AuthorizeRequest is an authorization request (RFC 6749 §4.1.1, OIDC Core
// §3.1.2.1) as a dialect decoded it. Empty strings mean absent.
type AuthorizeRequest struct {
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
	// RFC 6749 §3.1 forbids; the Authority decides how to answer.
	Repeated string
}

// Values encodes the request as query parameters, so a page can carry it
// to the next step; absent members are left out.
func (r AuthorizeRequest) Values() url.Values {
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

// AuthorizeStep is what the dialect does next.
type AuthorizeStep int

// Steps of an authorization.
const (
	// StepError: show Error on a page of the server, never redirect: the
	// client or its redirect URI is not trusted (RFC 6749 §4.1.2.1).
	StepError AuthorizeStep = iota + 1
	// StepRedirect: send the browser to RedirectURL (a code or an error
	// for the client).
	StepRedirect
	// StepLogin: show the login page.
	StepLogin
	// StepConsent: show the consent page.
	StepConsent
)

// LoginProblem is why a login attempt failed, in words a page can show.
type LoginProblem int

// Login problems.
const (
	LoginOK LoginProblem = iota
	// LoginInvalidCredentials: unknown e-mail, wrong password, disabled or
	// locked account alike, so the page tells no one which.
	LoginInvalidCredentials
	LoginNotVerified
	LoginTooManyAttempts
	LoginUnavailable
)

// AuthorizeOutcome is the answer to every step of an authorization.
type AuthorizeOutcome struct {
	Step        AuthorizeStep
	RedirectURL string
	// Error is the reason of a StepError (or of the error in RedirectURL);
	// Problem the reason a StepLogin repeats.
	Error   *oautherr.Error
	Problem LoginProblem
	// Request is the validated request, for the page to carry on.
	Request AuthorizeRequest
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
	raw       AuthorizeRequest
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
func (a *Authority) Authorize(ctx context.Context, req AuthorizeRequest, sessionToken string) (*AuthorizeOutcome, error) {
	ar, out, err := a.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	sess, err := a.session(ctx, sessionToken, ar.shop.Key)
	if err != nil {
		return nil, err
	}
	return a.proceed(ctx, ar, sess, false)
}

// LoginPage validates a request for showing the login page.
func (a *Authority) LoginPage(ctx context.Context, req AuthorizeRequest) (*AuthorizeOutcome, error) {
	ar, out, err := a.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	return a.page(ar, StepLogin), nil
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
func (a *Authority) Login(ctx context.Context, req AuthorizeRequest, previousToken string, attempt LoginAttempt) (*AuthorizeOutcome, error) {
	ar, out, err := a.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	var customer storage.Customer
	err = a.allowLogin(attempt.ClientIP)
	if err == nil {
		customer, err = a.authenticateCustomer(ctx, ar.shop.Key, attempt.Email, attempt.Password)
	}
	if err != nil {
		problem := loginProblem(err)
		if problem == LoginOK {
			return nil, err
		}
		out := a.page(ar, StepLogin)
		out.Problem = problem
		return out, nil
	}
	if previousToken != "" {
		if err := a.sessions.DeleteBrowserSession(ctx, tokens.HashToken(previousToken)); err != nil {
			return nil, fmt.Errorf("end previous session: %w", err)
		}
	}
	now := a.clock()
	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	row := storage.BrowserSession{
		IDHash: tokens.HashToken(token), ShopKey: ar.shop.Key, CustomerID: customer.ID,
		AuthTime: now, ExpiresAt: now.Add(a.sessionTTL),
	}
	if err := a.sessions.CreateBrowserSession(ctx, row); err != nil {
		return nil, fmt.Errorf("create browser session: %w", err)
	}
	out, err = a.proceed(ctx, ar, &session{row: row, customer: customer}, true)
	if err != nil {
		return nil, err
	}
	out.Session = &NewSession{Token: token, MaxAge: a.sessionTTL}
	return out, nil
}

// loginProblem maps an authentication error to what the login page says;
// LoginOK means the error is a fault.
func loginProblem(err error) LoginProblem {
	switch {
	case errors.Is(err, customers.ErrNotVerified):
		return LoginNotVerified
	case errors.Is(err, oautherr.ErrInvalidGrant):
		return LoginInvalidCredentials
	case errors.Is(err, oautherr.ErrSlowDown):
		return LoginTooManyAttempts
	case errors.Is(err, oautherr.ErrTemporarilyUnavailable):
		return LoginUnavailable
	}
	return LoginOK
}

// Consent shows the consent page, or records the customer's decision and
// answers the client (RFC 6749 §4.1.2, §4.1.2.1 access_denied). It needs a
// live session; without one the login page comes first.
func (a *Authority) Consent(ctx context.Context, req AuthorizeRequest, sessionToken string, decision ConsentDecision) (*AuthorizeOutcome, error) {
	ar, out, err := a.validateAuthorize(ctx, req)
	if out != nil || err != nil {
		return out, err
	}
	sess, err := a.session(ctx, sessionToken, ar.shop.Key)
	if err != nil {
		return nil, err
	}
	if sess == nil || a.tooOld(ar, sess) {
		return a.page(ar, StepLogin), nil
	}
	if ar.client.FirstParty {
		return a.issueCode(ctx, ar, sess)
	}
	switch decision {
	case ConsentDeny:
		return a.redirectError(ar, oautherr.ErrAccessDenied.WithDescription("The customer denied the request.")), nil
	case ConsentAllow:
		granted := ar.scopes
		if prev, err := a.consents.GetConsent(ctx, sess.customer.ID, ar.client.ID); err == nil {
			granted = union(prev.Scopes, ar.scopes)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("load consent: %w", err)
		}
		if err := a.consents.SaveConsent(ctx, storage.Consent{
			CustomerID: sess.customer.ID, ClientID: ar.client.ID, Scopes: granted, GrantedAt: a.clock(),
		}); err != nil {
			return nil, fmt.Errorf("save consent: %w", err)
		}
		return a.issueCode(ctx, ar, sess)
	default:
		out := a.page(ar, StepConsent)
		out.Scopes = ar.scopes
		return out, nil
	}
}

// proceed decides what follows once the request is valid: the login page,
// the consent page, or the code (OIDC Core §3.1.2.3–§3.1.2.4).
// justLoggedIn says the customer authenticated in this very step, which
// satisfies prompt=login and max_age.
func (a *Authority) proceed(ctx context.Context, ar *authzRequest, sess *session, justLoggedIn bool) (*AuthorizeOutcome, error) {
	needLogin := sess == nil || (!justLoggedIn && (ar.prompt(PromptLogin) || ar.prompt(PromptSelectAccount) || a.tooOld(ar, sess)))
	if needLogin {
		if ar.prompt(PromptNone) {
			return a.redirectError(ar, &oautherr.Error{Code: "login_required", Description: "The customer is not signed in."}), nil
		}
		return a.page(ar, StepLogin), nil
	}
	consented, err := a.consented(ctx, ar, sess)
	if err != nil {
		return nil, err
	}
	if !consented {
		if ar.prompt(PromptNone) {
			return a.redirectError(ar, &oautherr.Error{Code: "consent_required", Description: "The customer has not consented."}), nil
		}
		out := a.page(ar, StepConsent)
		out.Scopes = ar.scopes
		// The login that led here satisfied prompt=login; the consent page
		// must not ask for it again.
		out.Request.Prompt = strings.Join(slices.DeleteFunc(slices.Clone(ar.prompts), func(p string) bool {
			return p == PromptLogin || p == PromptSelectAccount
		}), " ")
		return out, nil
	}
	return a.issueCode(ctx, ar, sess)
}

// consented reports whether the request may skip the consent page: the
// client is first-party, or the customer granted these scopes before and
// the client did not ask to be asked again.
func (a *Authority) consented(ctx context.Context, ar *authzRequest, sess *session) (bool, error) {
	if ar.client.FirstParty {
		return true, nil
	}
	if ar.prompt(PromptConsent) {
		return false, nil
	}
	c, err := a.consents.GetConsent(ctx, sess.customer.ID, ar.client.ID)
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
func (a *Authority) tooOld(ar *authzRequest, sess *session) bool {
	return ar.maxAge >= 0 && a.clock().Sub(sess.row.AuthTime) > time.Duration(ar.maxAge)*time.Second
}

// issueCode stores a new code bound to the request and redirects to the
// client with it (RFC 6749 §4.1.2).
func (a *Authority) issueCode(ctx context.Context, ar *authzRequest, sess *session) (*AuthorizeOutcome, error) {
	code, err := randomToken()
	if err != nil {
		return nil, err
	}
	family, err := newFamilyID()
	if err != nil {
		return nil, err
	}
	now := a.clock()
	if err := a.codes.CreateAuthorizationCode(ctx, storage.AuthorizationCode{
		CodeHash: tokens.HashToken(code), ClientID: ar.client.ID, CustomerID: sess.customer.ID,
		ShopKey: sess.customer.ShopKey, RedirectURI: ar.raw.RedirectURI, Scope: strings.Join(ar.scopes, " "),
		Nonce: ar.raw.Nonce, CodeChallenge: ar.challenge, AuthTime: sess.row.AuthTime, FamilyID: family,
		IssuedAt: now, ExpiresAt: now.Add(CodeTTL),
	}); err != nil {
		return nil, fmt.Errorf("store authorization code: %w", err)
	}
	return &AuthorizeOutcome{
		Step: StepRedirect, Request: ar.raw, Client: ar.client.Client, Shop: ar.shop,
		RedirectURL: a.clientRedirect(ar.raw.RedirectURI, url.Values{"code": {code}}, ar.raw.State),
	}, nil
}

// validateAuthorize checks a request in the order RFC 6749 §4.1.2.1 asks:
// while the client or its redirect URI is in doubt, errors are shown on
// a page; after that they go to the client. A nil outcome and error mean
// valid.
func (a *Authority) validateAuthorize(ctx context.Context, req AuthorizeRequest) (*authzRequest, *AuthorizeOutcome, error) {
	showError := func(desc string) (*authzRequest, *AuthorizeOutcome, error) {
		return nil, &AuthorizeOutcome{Step: StepError, Request: req, Error: oautherr.ErrInvalidRequest.WithDescription(desc)}, nil
	}
	if req.Repeated == "client_id" || req.Repeated == "redirect_uri" {
		return showError("The parameter " + req.Repeated + " is repeated.")
	}
	if req.ClientID == "" {
		return showError("The client_id parameter is required.")
	}
	c, err := a.clients.GetClient(ctx, req.ClientID)
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
	fail := func(e *oautherr.Error) (*authzRequest, *AuthorizeOutcome, error) {
		return nil, a.redirectError(ar, e), nil
	}
	invalid := func(desc string) (*authzRequest, *AuthorizeOutcome, error) {
		return fail(oautherr.ErrInvalidRequest.WithDescription(desc))
	}
	switch {
	case req.Repeated != "":
		return invalid("The parameter " + req.Repeated + " is repeated.")
	case req.ResponseType == "":
		return invalid("The response_type parameter is required.")
	case req.ResponseType != ResponseTypeCode:
		return fail(&oautherr.Error{Code: "unsupported_response_type", Description: "Only response_type=code is supported."})
	case !client.AllowsGrant(GrantAuthorizationCode):
		return fail(oautherr.ErrUnauthorizedClient)
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
	case req.CodeChallenge != "" && req.CodeChallengeMethod != PKCEMethodS256:
		return invalid("Only code_challenge_method=S256 is supported.")
	case req.CodeChallenge != "" && !validPKCEValue(req.CodeChallenge):
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
		return fail(oautherr.ErrInvalidScope)
	}
	ar.scopes = scopes
	if c.ShopKey == "" {
		// A client serving several shops has no login page to show.
		return fail(oautherr.ErrUnauthorizedClient.WithDescription("This client is bound to no shop."))
	}
	shop, err := a.shops.GetShop(ctx, c.ShopKey)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !shop.Active) {
		return fail(&oautherr.Error{Code: "temporarily_unavailable", Description: "The shop is not available."})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load shop: %w", err)
	}
	ar.shop = shop
	return ar, nil, nil
}

// session returns the live session of sessionToken in shopKey, or nil.
func (a *Authority) session(ctx context.Context, sessionToken, shopKey string) (*session, error) {
	row, err := a.anySession(ctx, sessionToken)
	if err != nil || row == nil || row.ShopKey != shopKey || !a.clock().Before(row.ExpiresAt) {
		return nil, err
	}
	customer, err := a.customers.GetCustomer(ctx, row.ShopKey, row.CustomerID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load customer: %w", err)
	}
	if customer.Disabled() || !customer.Verified() {
		return nil, nil
	}
	return &session{row: *row, customer: customer}, nil
}

func (a *Authority) page(ar *authzRequest, step AuthorizeStep) *AuthorizeOutcome {
	return &AuthorizeOutcome{Step: step, Request: ar.raw, Client: ar.client.Client, Shop: ar.shop}
}

// redirectError answers the client with an error (RFC 6749 §4.1.2.1).
func (a *Authority) redirectError(ar *authzRequest, e *oautherr.Error) *AuthorizeOutcome {
	params := url.Values{"error": {e.Code}}
	if d := oautherr.Sanitize(e.Description); d != "" {
		params.Set("error_description", d)
	}
	return &AuthorizeOutcome{
		Step: StepRedirect, Request: ar.raw, Client: ar.client.Client, Shop: ar.shop, Error: e,
		RedirectURL: a.clientRedirect(ar.raw.RedirectURI, params, ar.raw.State),
	}
}

// clientRedirect adds params, state and iss (RFC 9207 §2, against mix-up)
// to the client's registered redirect URI, keeping its own query.
func (a *Authority) clientRedirect(redirectURI string, params url.Values, state string) string {
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
	q.Set("iss", a.issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

func (a *Authority) clock() time.Time { return a.now().UTC().Truncate(time.Second) }

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
