package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oauth2errors "github.com/go-oauth2/oauth2/v4/errors"
	oauth2server "github.com/go-oauth2/oauth2/v4/server"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ClientStore reads client registrations.
type ClientStore interface {
	GetClient(ctx context.Context, id string) (storage.Client, error)
}

// ShopStore reads shops.
type ShopStore interface {
	GetShop(ctx context.Context, key string) (storage.Shop, error)
}

// CustomerAuthenticator checks a customer's password within a shop.
type CustomerAuthenticator interface {
	Authenticate(ctx context.Context, shopKey, email, password string) (storage.Customer, error)
}

// LoginRateLimiter limits password attempts per client address. Allow
// returns an *oautherr.Error (slow_down, 429, with Retry-After) when the
// address is over its limit.
type LoginRateLimiter interface {
	Allow(clientIP string) error
}

// Config holds the Authority's dependencies and token policy.
type Config struct {
	Issuer        string
	Clients       ClientStore
	Shops         ShopStore
	Customers     CustomerStore
	RefreshTokens RefreshTokenStore
	AccessTokens  AccessTokenRevoker
	Authenticator CustomerAuthenticator
	// LoginLimiter, when set, is asked before every password grant, ahead
	// of any hashing. Nil: no per-address limit.
	LoginLimiter LoginRateLimiter
	// Codes, Consents and Sessions back the authorization code flow and
	// the hosted login page.
	Codes    AuthorizationCodeStore
	Consents ConsentStore
	Sessions BrowserSessionStore
	Signer   tokens.Signer
	Verifier *tokens.Verifier
	// RefreshKey derives refresh-token successors; equal on every replica.
	RefreshKey        []byte
	AccessTokenTTL    time.Duration
	RefreshTokenTTL   time.Duration
	RefreshReuseGrace time.Duration // 0: every reuse of a spent token is theft
	RefreshIdleTTL    time.Duration // 0: families never expire from idleness
	SessionTTL        time.Duration // the hosted login page's browser session
	Now               func() time.Time
	Logger            *slog.Logger
	// Observer is told every grant's outcome (metrics); nil: nobody.
	Observer Observer

	// CustomerTokens serves revocation on a customer's behalf (the Spryker
	// dialect's DELETE routes); optional.
	CustomerTokens CustomerTokenStore
}

// Authority is the authorization core every dialect calls.
type Authority struct {
	issuer        string
	clients       ClientStore
	shops         ShopStore
	authenticator CustomerAuthenticator
	loginLimiter  LoginRateLimiter
	revoker       AccessTokenRevoker
	customers     CustomerStore
	codes         AuthorizationCodeStore
	consents      ConsentStore
	sessions      BrowserSessionStore
	sessionTTL    time.Duration
	refresh       RefreshTokenStore
	verifier      *tokens.Verifier
	minter        *tokens.Minter
	oauth         *oauth2server.Server
	now           func() time.Time
	logger        *slog.Logger
	observer      Observer

	customerTokens CustomerTokenStore
}

// New checks cfg and returns an Authority.
func New(cfg Config) (*Authority, error) {
	var missing []string
	for name, ok := range map[string]bool{
		"Issuer": cfg.Issuer != "", "Clients": cfg.Clients != nil, "Shops": cfg.Shops != nil,
		"Customers": cfg.Customers != nil, "RefreshTokens": cfg.RefreshTokens != nil, "AccessTokens": cfg.AccessTokens != nil,
		"Authenticator": cfg.Authenticator != nil, "Signer": cfg.Signer != nil, "Verifier": cfg.Verifier != nil,
		"Codes": cfg.Codes != nil, "Consents": cfg.Consents != nil, "Sessions": cfg.Sessions != nil,
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("server: missing %s", strings.Join(missing, ", "))
	}
	if cfg.AccessTokenTTL <= 0 || cfg.RefreshTokenTTL <= 0 || cfg.SessionTTL <= 0 {
		return nil, errors.New("server: token and session TTLs must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	minter, err := tokens.NewMinter(cfg.Issuer, cfg.Signer)
	if err != nil {
		return nil, err
	}
	secrets, err := tokens.NewRefreshSecrets(cfg.RefreshKey)
	if err != nil {
		return nil, err
	}
	mgr := &Manager{
		clients: cfg.Clients, customers: cfg.Customers, refresh: cfg.RefreshTokens, codes: cfg.Codes,
		minter: minter, secrets: secrets, verifier: cfg.Verifier,
		accessTTL: cfg.AccessTokenTTL, refreshTTL: cfg.RefreshTokenTTL, grace: cfg.RefreshReuseGrace, idleTTL: cfg.RefreshIdleTTL,
		now: cfg.Now, logger: cfg.Logger,
	}
	// go-oauth2 dispatches the grant to our Manager. Its request parsing
	// (HandleTokenRequest) is not used: it reads query strings, checks the
	// password before the client and answers the wrong statuses.
	osrv := oauth2server.NewServer(&oauth2server.Config{
		TokenType: "Bearer",
		AllowedGrantTypes: []oauth2.GrantType{
			oauth2.AuthorizationCode, oauth2.PasswordCredentials, oauth2.ClientCredentials, oauth2.Refreshing,
		},
	}, mgr)
	return &Authority{
		issuer: cfg.Issuer, clients: cfg.Clients, shops: cfg.Shops, authenticator: cfg.Authenticator, loginLimiter: cfg.LoginLimiter,
		revoker: cfg.AccessTokens, customers: cfg.Customers, codes: cfg.Codes, consents: cfg.Consents,
		sessions: cfg.Sessions, sessionTTL: cfg.SessionTTL,
		verifier: cfg.Verifier, oauth: osrv, now: cfg.Now, logger: cfg.Logger,
		refresh: cfg.RefreshTokens, minter: minter,
		observer: cfg.Observer, customerTokens: cfg.CustomerTokens,
	}, nil
}

// Issuer is the `iss` of every token.
func (a *Authority) Issuer() string { return a.issuer }

// ClientCredentials is how a client presented itself at the token endpoint.
type ClientCredentials struct {
	ID     string
	Secret string
	Method string // ClientAuthBasic, ClientAuthPost or ClientAuthNone
}

// TokenRequest is a grant request in the core's terms, whatever dialect it
// arrived in. Empty strings mean absent.
type TokenRequest struct {
	GrantType    string
	Client       ClientCredentials
	Username     string
	Password     string
	RefreshToken string
	Scope        string
	// Code, RedirectURI and CodeVerifier are the authorization_code grant's
	// (RFC 6749 §4.1.3, RFC 7636 §4.5).
	Code         string
	RedirectURI  string
	CodeVerifier string
	// Nonce is echoed into the ID token (OIDC Core §2, §15.1).
	Nonce string
	// ShopKey names the shop for clients that serve several (the shopKey
	// adapter); a shop-bound client rejects any other shop.
	ShopKey string
	// ClientIP is the caller's address as the dialect determined it (gin's
	// ClientIP, which believes X-Forwarded-For only from trusted proxies).
	// Login rate limits are keyed by it; empty means unknown and shares one
	// bucket.
	ClientIP string
	// Dialect names the surface the request arrived on (DialectOAuth2,
	// DialectSpryker, DialectShopKey), for metrics only.
	Dialect string
	// clientTrusted is set by AdapterToken: the adapter route itself stands
	// for its configured client.
	clientTrusted bool
}

// TokenResponse is a successful grant (RFC 6749 §5.1) plus what the legacy
// dialects echo about the customer.
type TokenResponse struct {
	AccessToken  string
	TokenType    string
	ExpiresIn    int64
	RefreshToken string
	Scope        string
	IDToken      string // set when the granted scope has openid (OIDC Core §3.1.3.3)
	Customer     storage.Customer
	Client       storage.Client
}

// Token runs one grant: client authentication first, then the grant
// allow-list, then the grant itself (RFC 6749 §4.3.2, §6). Errors are
// *oautherr.Error values, or plain errors for faults.
func (a *Authority) Token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	resp, err := a.token(ctx, req)
	a.observe(req, resp, err)
	return resp, err
}

func (a *Authority) token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	switch req.GrantType {
	case "":
		return nil, oautherr.ErrInvalidRequest.WithDescription("The grant_type parameter is required.")
	case GrantPassword, GrantRefreshToken, GrantAuthorizationCode, GrantClientCredentials:
	default:
		return nil, oautherr.ErrUnsupportedGrantType
	}
	client, err := a.authenticateClient(ctx, req.Client, req.clientTrusted)
	if err != nil {
		return nil, err
	}
	if !client.AllowsGrant(req.GrantType) {
		return nil, oautherr.ErrUnauthorizedClient
	}
	switch req.GrantType {
	case GrantPassword:
		// RFC 9700 §2.4: only the shop's own apps may see passwords.
		if !client.FirstParty {
			return nil, oautherr.ErrUnauthorizedClient.WithDescription("The password grant is for first-party clients only.")
		}
		return a.passwordGrant(ctx, client, req)
	case GrantAuthorizationCode:
		return a.codeGrant(ctx, client, req)
	case GrantClientCredentials:
		return a.clientCredentialsGrant(ctx, client, req)
	default:
		return a.refreshGrant(ctx, client, req)
	}
}

// AdapterToken runs a grant for a legacy dialect's configured client. The
// adapter route is the client: no secret is checked, every other rule is.
func (a *Authority) AdapterToken(ctx context.Context, clientID string, req TokenRequest) (*TokenResponse, error) {
	req.Client = ClientCredentials{ID: clientID, Method: ClientAuthNone}
	req.clientTrusted = true
	return a.Token(ctx, req)
}

// VerifyAccessToken returns the claims of a live access token of this
// issuer (signature, type, time claims and revocation checked).
func (a *Authority) VerifyAccessToken(ctx context.Context, raw string) (tokens.AccessClaims, error) {
	return a.verifier.VerifyAccessToken(ctx, raw)
}

func (a *Authority) authenticateClient(ctx context.Context, creds ClientCredentials, trusted bool) (*clients.Info, error) {
	if creds.ID == "" {
		return nil, oautherr.ErrInvalidClient.WithDescription("Client authentication is required.")
	}
	c, err := a.clients.GetClient(ctx, creds.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oautherr.ErrInvalidClient
	}
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	info := &clients.Info{Client: c}
	if trusted {
		return info, nil
	}
	if info.IsPublic() {
		// A public client proves nothing with a secret; one that sends one
		// is misconfigured, and accepting it would hide that.
		if creds.Secret != "" {
			return nil, oautherr.ErrInvalidClient
		}
		return info, nil
	}
	if creds.Method == ClientAuthNone || !info.VerifyPassword(creds.Secret) {
		return nil, oautherr.ErrInvalidClient
	}
	return info, nil
}

var (
	errWrongCredentials = oautherr.ErrInvalidGrant.WithDescription("The user credentials were incorrect.")
	errNotVerified      = oautherr.ErrInvalidGrant.WithDescription("The e-mail address of this account is not verified.").WithCause(customers.ErrNotVerified)
)

// authenticateCustomer is the one password check of every login surface
// (the password grant, both legacy dialects through it, and the hosted
// login page), so lockout, rate limits and the hashing pool apply alike.
// The caller asks allowLogin first, before anything else it checks.
func (a *Authority) authenticateCustomer(ctx context.Context, shopKey, email, password string) (storage.Customer, error) {
	customer, err := a.authenticator.Authenticate(ctx, shopKey, email, password)
	switch {
	case errors.Is(err, customers.ErrNotVerified):
		return storage.Customer{}, errNotVerified
	case errors.Is(err, customers.ErrInvalidCredentials):
		return storage.Customer{}, errWrongCredentials.WithCause(err)
	case err != nil:
		return storage.Customer{}, oautherr.From(err)
	}
	return customer, nil
}

// allowLogin asks the per-address login limiter, when there is one.
func (a *Authority) allowLogin(clientIP string) error {
	if a.loginLimiter == nil {
		return nil
	}
	return a.loginLimiter.Allow(clientIP)
}

func (a *Authority) passwordGrant(ctx context.Context, client *clients.Info, req TokenRequest) (*TokenResponse, error) {
	// Every login surface (this endpoint, the legacy dialects, which all
	// come here, and the hosted login page) is limited per client address
	// before any hashing.
	if err := a.allowLogin(req.ClientIP); err != nil {
		return nil, err
	}
	if req.Username == "" || req.Password == "" {
		return nil, oautherr.ErrInvalidRequest.WithDescription("The username and password parameters are required.")
	}
	scopes, ok := client.GrantScope(req.Scope)
	if !ok {
		return nil, oautherr.ErrInvalidScope
	}
	shopKey, err := a.resolveShop(ctx, client, req.ShopKey)
	if err != nil {
		return nil, err
	}
	customer, err := a.authenticateCustomer(ctx, shopKey, req.Username, req.Password)
	if err != nil {
		return nil, err
	}
	ctx = withGrant(ctx, grantContext{client: client, customer: customer})
	ti, err := a.oauth.GetAccessToken(ctx, oauth2.PasswordCredentials, &oauth2.TokenGenerateRequest{
		ClientID: client.ID,
		UserID:   customerSubject(customer.ID),
		Scope:    strings.Join(scopes, " "),
	})
	if err != nil {
		return nil, translate(err)
	}
	if it, ok := ti.(*issuedToken); ok {
		it.nonce = req.Nonce
	}
	return a.response(ti, client)
}

func (a *Authority) refreshGrant(ctx context.Context, client *clients.Info, req TokenRequest) (*TokenResponse, error) {
	if req.RefreshToken == "" {
		return nil, oautherr.ErrInvalidRequest.WithDescription("The refresh_token parameter is required.")
	}
	ctx = withGrant(ctx, grantContext{client: client})
	ti, err := a.oauth.GetAccessToken(ctx, oauth2.Refreshing, &oauth2.TokenGenerateRequest{
		ClientID: client.ID,
		Refresh:  req.RefreshToken,
		Scope:    req.Scope,
	})
	if err != nil {
		return nil, translate(err)
	}
	// No nonce: it binds an ID token to one authentication, and a refresh
	// is none (OIDC Core §12.2; errata issue 1025).
	return a.response(ti, client)
}

// resolveShop decides which shop's customers a password grant may sign in.
func (a *Authority) resolveShop(ctx context.Context, client *clients.Info, requested string) (string, error) {
	key := client.ShopKey
	switch {
	case key == "" && requested == "":
		return "", oautherr.ErrInvalidRequest.WithDescription("This client serves several shops: the shop must be named.")
	case key == "":
		key = requested
	case requested != "" && requested != key:
		return "", errWrongCredentials
	}
	shop, err := a.shops.GetShop(ctx, key)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !shop.Active) {
		return "", errWrongCredentials
	}
	if err != nil {
		return "", fmt.Errorf("load shop: %w", err)
	}
	return key, nil
}

func (a *Authority) response(ti oauth2.TokenInfo, client *clients.Info) (*TokenResponse, error) {
	var customer storage.Customer
	if it, ok := ti.(*issuedToken); ok {
		customer = it.customer
	}
	idToken, err := a.idToken(ti, client)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{
		AccessToken:  ti.GetAccess(),
		TokenType:    "Bearer",
		ExpiresIn:    int64(ti.GetAccessExpiresIn() / time.Second),
		RefreshToken: ti.GetRefresh(),
		Scope:        ti.GetScope(),
		IDToken:      idToken,
		Customer:     customer,
		Client:       client.Client,
	}, nil
}

// translate maps go-oauth2's sentinel errors onto ours; anything else is
// already ours or a fault.
func translate(err error) error {
	var ours *oautherr.Error
	if errors.As(err, &ours) {
		return err
	}
	switch {
	case errors.Is(err, oauth2errors.ErrInvalidGrant), errors.Is(err, oauth2errors.ErrInvalidRefreshToken),
		errors.Is(err, oauth2errors.ErrExpiredRefreshToken):
		return oautherr.ErrInvalidGrant
	case errors.Is(err, oauth2errors.ErrUnauthorizedClient):
		return oautherr.ErrUnauthorizedClient
	case errors.Is(err, oauth2errors.ErrInvalidScope):
		return oautherr.ErrInvalidScope
	case errors.Is(err, oauth2errors.ErrInvalidClient):
		return oautherr.ErrInvalidClient
	case errors.Is(err, oauth2errors.ErrUnsupportedGrantType):
		return oautherr.ErrUnsupportedGrantType
	}
	return err
}
