package grants

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// Minter mints access and ID tokens; *tokens.Minter implements it.
type Minter interface {
	Mint(ctx context.Context, g tokens.Grant) (tokens.Minted, error)
}

var _ Minter = (*tokens.Minter)(nil)

// Issuance is what every grant makes tokens with: the Minter for access
// and ID tokens, RefreshSecrets for refresh tokens, the RefreshPolicy for
// their rows, the clock and the logger.
type Issuance struct {
	Minter  Minter
	Secrets *tokens.RefreshSecrets
	Policy  RefreshPolicy
	Now     func() time.Time
	Logger  *slog.Logger
}

// prepare checks is and fills in the defaults: the system clock, a
// discarding logger.
func (is *Issuance) prepare() error {
	if is.Minter == nil || is.Secrets == nil {
		return errors.New("grants: Issuance needs a Minter and RefreshSecrets")
	}
	if is.Policy.TTL <= 0 {
		return errors.New("grants: the refresh TTL must be positive")
	}
	if is.Now == nil {
		is.Now = time.Now
	}
	if is.Logger == nil {
		is.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// now is the clock's time in UTC, to its full precision: what a refresh
// measures its reuse grace with.
func (is Issuance) now() time.Time { return is.Now().UTC() }

// clock is now in whole seconds: every time a grant writes is one.
func (is Issuance) clock() time.Time { return is.now().Truncate(time.Second) }

// mint makes the access (and ID) token of a grant for client at now.
func (is Issuance) mint(ctx context.Context, client *clients.Info, customer *storage.Customer, scope string, authTime time.Time, nonce string, now time.Time) (tokens.Minted, error) {
	return is.Minter.Mint(ctx, tokens.Grant{
		Client: client.Client, Customer: customer, Scope: scope, AuthTime: authTime, Nonce: nonce, IssuedAt: now,
	})
}

// wantsRefresh reports whether a grant of scope to client starts a refresh
// family: offline_access was granted and the client may refresh.
func wantsRefresh(client *clients.Info, scope string) bool {
	return slices.Contains(strings.Fields(scope), server.ScopeOfflineAccess) && client.AllowsGrant(server.GrantRefreshToken)
}

// startFamily makes the first refresh token of family f and its row.
func (is Issuance) startFamily(f Family, now time.Time) (token string, row storage.RefreshToken, err error) {
	token, err = is.Secrets.New()
	if err != nil {
		return "", storage.RefreshToken{}, err
	}
	return token, is.Policy.Row(f, tokens.HashToken(token), now), nil
}

// issued is the record that lets revoking family revoke the access token.
func issued(t tokens.Minted, family string) storage.IssuedAccessToken {
	return storage.IssuedAccessToken{JTI: t.JTI, FamilyID: family, ExpiresAt: t.ExpiresAt}
}

// response is a grant's answer (RFC 6749 §5.1).
func response(client *clients.Info, customer storage.Customer, t tokens.Minted, refresh, scope string) *server.TokenResponse {
	return &server.TokenResponse{
		AccessToken: t.AccessToken, TokenType: "Bearer", ExpiresIn: t.ExpiresIn(),
		RefreshToken: refresh, Scope: scope, IDToken: t.IDToken, Customer: customer, Client: client.Client,
	}
}

// liveCustomer loads the customer of an earlier login, who must still be
// allowed in; one who is not makes the grant invalid.
func liveCustomer(ctx context.Context, r customers.Reader, shopKey string, id uint64) (storage.Customer, error) {
	c, err := customers.Live(ctx, r, shopKey, id)
	if errors.Is(err, customers.ErrGone) {
		return storage.Customer{}, refusal.ErrInvalidGrant
	}
	return c, err
}

// newFamilyID returns a random refresh-family id (128 bits).
func newFamilyID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate family id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// NewFamilyID returns a random refresh-family id, for the authorization
// endpoint, which names the family of a code's tokens when it issues the
// code.
func NewFamilyID() (string, error) { return newFamilyID() }
