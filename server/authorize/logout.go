package authorize

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// IDTokenHints checks id_token_hint values; *tokens.Verifier implements it.
type IDTokenHints interface {
	ParseIDTokenHint(raw string) (tokens.IDTokenHint, error)
}

var _ IDTokenHints = (*tokens.Verifier)(nil)

// SessionFamilies ends what a browser session produced: its authorization
// codes and the refresh families started from them, with their access
// tokens.
type SessionFamilies interface {
	RevokeSessionRefreshTokens(ctx context.Context, sessionHash string, now time.Time) (int64, error)
}

// LogoutConfig holds the end-session endpoint's dependencies.
type LogoutConfig struct {
	Hints    IDTokenHints
	Clients  clients.Store
	Shops    ShopStore
	Sessions SessionStore
	Families SessionFamilies
	Now      func() time.Time
}

// Logout is the end-session endpoint (RP-Initiated Logout 1.0).
type Logout struct {
	cfg LogoutConfig
}

// NewLogout checks cfg and returns a Logout.
func NewLogout(cfg LogoutConfig) (*Logout, error) {
	if cfg.Hints == nil || cfg.Clients == nil || cfg.Shops == nil || cfg.Sessions == nil || cfg.Families == nil {
		return nil, errors.New("authorize: Hints, Clients, Shops, Sessions and Families are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Logout{cfg: cfg}, nil
}

// LogoutRequest is an RP-initiated logout request (RP-Initiated Logout 1.0
// §2). Empty strings mean absent.
type LogoutRequest struct {
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
	// Repeated names a parameter sent more than once.
	Repeated string
}

// LogoutStep is what the dialect does next.
type LogoutStep int

// Steps of a logout.
const (
	// LogoutError: show Error; nothing was ended, nobody is redirected
	// (RP-Initiated Logout §4).
	LogoutError LogoutStep = iota + 1
	// LogoutConfirm: ask the customer whether to sign out, because the
	// request does not prove it comes from their relying party (§2).
	LogoutConfirm
	// LogoutDone: the session ended (or there was none); show so.
	LogoutDone
	// LogoutRedirect: the session ended; send the browser to RedirectURL.
	LogoutRedirect
)

// LogoutOutcome is the answer to a logout request.
type LogoutOutcome struct {
	Step        LogoutStep
	RedirectURL string
	Error       *refusal.Error
	// Shop is the shop of the session or of the hint's client, for the
	// page's name and language; zero when neither is known.
	Shop storage.Shop
}

// EndSession handles the end_session_endpoint. A valid id_token_hint for
// the session's customer ends the session at once and may redirect to a
// registered post_logout_redirect_uri; anything less asks the customer
// (confirmed reports they said yes) and never redirects (§3).
func (l *Logout) EndSession(ctx context.Context, req LogoutRequest, sessionToken string, confirmed bool) (*LogoutOutcome, error) {
	fail := func(desc string) (*LogoutOutcome, error) {
		return &LogoutOutcome{Step: LogoutError, Error: refusal.New(refusal.InvalidRequest, desc)}, nil
	}
	if req.Repeated != "" {
		return fail("The parameter " + req.Repeated + " is repeated.")
	}
	var hint *tokens.IDTokenHint
	var redirect string
	var shop storage.Shop
	if req.IDTokenHint != "" {
		h, err := l.cfg.Hints.ParseIDTokenHint(req.IDTokenHint)
		if err != nil {
			return fail("The id_token_hint is not an ID token of this server.")
		}
		// §2: client_id, when sent with a hint, must be its audience.
		if req.ClientID != "" && !h.Audience.Contains(req.ClientID) {
			return fail("The client_id does not match the id_token_hint.")
		}
		hint = &h
		c, err := l.cfg.Clients.GetClient(ctx, h.Audience[0])
		if errors.Is(err, storage.ErrNotFound) {
			return fail("The id_token_hint names an unknown client.")
		}
		if err != nil {
			return nil, fmt.Errorf("load client: %w", err)
		}
		if req.PostLogoutRedirectURI != "" {
			// §3: exact match against a registered value, or no redirect.
			if !slices.Contains(c.PostLogoutRedirectURIs, req.PostLogoutRedirectURI) {
				return fail("The post_logout_redirect_uri is not registered for this client.")
			}
			redirect = req.PostLogoutRedirectURI
		}
		if s, err := l.cfg.Shops.GetShop(ctx, c.ShopKey); err == nil {
			shop = s
		}
	}
	sess, err := findSession(ctx, l.cfg.Sessions, sessionToken)
	if err != nil {
		return nil, err
	}
	if sess != nil {
		if s, err := l.cfg.Shops.GetShop(ctx, sess.ShopKey); err == nil {
			shop = s
		}
	}
	// The hint proves the request comes from the customer's relying party
	// only if it names the signed-in customer.
	proven := hint != nil && (sess == nil || hint.Subject == tokens.CustomerSubject(sess.CustomerID))
	if sess != nil && !proven && !confirmed {
		return &LogoutOutcome{Step: LogoutConfirm, Shop: shop}, nil
	}
	if sess != nil {
		// The session's families first: should this fail, the session
		// still stands and the customer can try again.
		if _, err := l.cfg.Families.RevokeSessionRefreshTokens(ctx, sess.IDHash, l.cfg.Now()); err != nil {
			return nil, fmt.Errorf("end the session's refresh families: %w", err)
		}
		if err := l.cfg.Sessions.DeleteBrowserSession(ctx, sess.IDHash); err != nil {
			return nil, fmt.Errorf("end browser session: %w", err)
		}
	}
	if redirect == "" || !proven {
		return &LogoutOutcome{Step: LogoutDone, Shop: shop}, nil
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return fail("The post_logout_redirect_uri is malformed.")
	}
	if req.State != "" {
		q := u.Query()
		q.Set("state", req.State)
		u.RawQuery = q.Encode()
	}
	return &LogoutOutcome{Step: LogoutRedirect, RedirectURL: u.String(), Shop: shop}, nil
}

// findSession returns the browser session of sessionToken in whatever
// shop, expired or not (ending an expired session is harmless), or nil.
func findSession(ctx context.Context, sessions SessionStore, sessionToken string) (*storage.BrowserSession, error) {
	if sessionToken == "" {
		return nil, nil
	}
	row, err := sessions.GetBrowserSession(ctx, tokens.HashToken(sessionToken))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load browser session: %w", err)
	}
	return &row, nil
}
