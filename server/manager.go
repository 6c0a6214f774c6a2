package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oauth2errors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// CustomerStore reads customers by id.
type CustomerStore interface {
	GetCustomer(ctx context.Context, shopKey string, id uint64) (storage.Customer, error)
	GetTokenHolder(ctx context.Context, shopKey string, id uint64, jti string) (storage.TokenHolder, error)
}

// RefreshTokenStore keeps refresh-token families. Spending a token is one
// storage-owned atomic operation (RotateRefreshToken), never read-then-write
// here.
type RefreshTokenStore interface {
	CreateRefreshToken(ctx context.Context, rt storage.RefreshToken, access storage.IssuedAccessToken) error
	GetRefreshToken(ctx context.Context, tokenHash string) (storage.RefreshToken, error)
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next storage.RefreshToken, access storage.IssuedAccessToken) error
	RecordIssuedAccessToken(ctx context.Context, access storage.IssuedAccessToken) error
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) (int64, error)
}

// Manager is shopauth's oauth2.Manager. It replaces go-oauth2's manage.Manager,
// whose refresh path authenticates no client, rotates non-atomically and
// lets a refresh widen scope (docs/oauth.md, standards notes). The Authority
// authenticates the client before any Manager call and hands it over in the
// context.
type Manager struct {
	clients   ClientStore
	customers CustomerStore
	refresh   RefreshTokenStore
	codes     AuthorizationCodeStore
	minter    *tokens.Minter
	secrets   *tokens.RefreshSecrets
	verifier  *tokens.Verifier

	accessTTL  time.Duration
	refreshTTL time.Duration
	grace      time.Duration
	idleTTL    time.Duration
	now        func() time.Time
	logger     *slog.Logger
}

var _ oauth2.Manager = (*Manager)(nil)

// grantContext carries what the Authority established about the request
// (the authenticated client, the authenticated customer) to the Manager,
// whose go-oauth2 signatures have no room for it.
type grantContext struct {
	client   *clients.Info
	customer storage.Customer
}

type grantContextKey struct{}

func withGrant(ctx context.Context, g grantContext) context.Context {
	return context.WithValue(ctx, grantContextKey{}, g)
}

func grantFrom(ctx context.Context) (grantContext, error) {
	g, ok := ctx.Value(grantContextKey{}).(grantContext)
	if !ok || g.client == nil {
		return grantContext{}, errors.New("server: grant reached the manager without an authenticated client")
	}
	return g, nil
}

// GetClient loads a client.
func (m *Manager) GetClient(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	if g, err := grantFrom(ctx); err == nil && g.client.ID == id {
		return g.client, nil
	}
	c, err := m.clients.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oauth2errors.ErrInvalidClient
	}
	if err != nil {
		return nil, err
	}
	return &clients.Info{Client: c}, nil
}

// GenerateAuthToken is not used: the Authority issues codes itself
// (Authorize), storing only their hash, because go-oauth2's code path
// double-spends codes and matches redirect URIs by suffix.
func (m *Manager) GenerateAuthToken(context.Context, oauth2.ResponseType, *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	return nil, oauth2errors.ErrUnsupportedResponseType
}

// GenerateAccessToken issues the tokens of a grant the Authority has
// authenticated the client (and, for the password grant, the customer) of.
func (m *Manager) GenerateAccessToken(ctx context.Context, gt oauth2.GrantType, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	g, err := grantFrom(ctx)
	if err != nil {
		return nil, err
	}
	switch gt {
	case oauth2.PasswordCredentials:
		return m.passwordTokens(ctx, g, tgr)
	case oauth2.AuthorizationCode:
		return m.redeemCode(ctx, g.client, tgr)
	case oauth2.ClientCredentials:
		return m.clientTokens(ctx, g.client, tgr)
	}
	return nil, oauth2errors.ErrUnsupportedGrantType
}

func (m *Manager) passwordTokens(ctx context.Context, g grantContext, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	now := m.clock()
	ti, err := m.mintAccess(ctx, g.client, g.customer, tgr.Scope, now, now)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(strings.Fields(tgr.Scope), ScopeOfflineAccess) || !g.client.AllowsGrant(GrantRefreshToken) {
		return ti, nil
	}
	refresh, err := m.secrets.New()
	if err != nil {
		return nil, err
	}
	family, err := newFamilyID()
	if err != nil {
		return nil, err
	}
	familyEnd := now.Add(g.client.RefreshTTL(m.refreshTTL))
	row := storage.RefreshToken{
		TokenHash: tokens.HashToken(refresh), FamilyID: family, ClientID: g.client.ID,
		CustomerID: g.customer.ID, ShopKey: g.customer.ShopKey, Scope: tgr.Scope,
		AuthTime: now, IssuedAt: now, ExpiresAt: m.refreshExpiry(now, familyEnd), FamilyExpiresAt: familyEnd,
	}
	if err := m.refresh.CreateRefreshToken(ctx, row, issuedAccess(ti, family)); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	setRefresh(ti, refresh, now, row.ExpiresAt)
	return ti, nil
}

// RefreshAccessToken spends a refresh token and issues its successor
// (RFC 6749 §6, RFC 9700 §4.14.2). A spent token presented again within the
// reuse grace gets the same successor; later, it revokes the family.
func (m *Manager) RefreshAccessToken(ctx context.Context, tgr *oauth2.TokenGenerateRequest) (oauth2.TokenInfo, error) {
	g, err := grantFrom(ctx)
	if err != nil {
		return nil, err
	}
	now := m.clock()
	hash := tokens.HashToken(tgr.Refresh)
	// Two attempts: a lost race is re-read once and then judged as a retry.
	for attempt := 0; attempt < 2; attempt++ {
		row, err := m.refresh.GetRefreshToken(ctx, hash)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, oautherr.ErrInvalidGrant
		}
		if err != nil {
			return nil, fmt.Errorf("load refresh token: %w", err)
		}
		// RFC 6749 §10.4: a token issued to another client is invalid_grant,
		// without telling whose it is.
		if row.ClientID != g.client.ID || row.RevokedAt != nil {
			return nil, oautherr.ErrInvalidGrant
		}
		if row.SpentAt != nil {
			return m.retryOrReuse(ctx, g.client, row, tgr, now)
		}
		if !now.Before(row.ExpiresAt) || m.idle(row, now) {
			return nil, oautherr.ErrInvalidGrant.WithDescription("The refresh token has expired.")
		}
		scope, err := narrowScope(tgr.Scope, row.Scope)
		if err != nil {
			return nil, err
		}
		customer, err := m.liveCustomer(ctx, row)
		if err != nil {
			return nil, err
		}
		ti, err := m.mintAccess(ctx, g.client, customer, scope, now, row.AuthTime)
		if err != nil {
			return nil, err
		}
		successor := m.secrets.Successor(tgr.Refresh)
		next := row
		next.TokenHash = tokens.HashToken(successor)
		next.IssuedAt = now
		next.ExpiresAt = m.refreshExpiry(now, row.FamilyExpiresAt)
		next.SpentAt, next.RevokedAt, next.SuccessorHash = nil, nil, ""
		err = m.refresh.RotateRefreshToken(ctx, hash, now, next, issuedAccess(ti, row.FamilyID))
		if errors.Is(err, storage.ErrConflict) {
			continue // someone spent it first: judge again as a retry
		}
		if err != nil {
			return nil, fmt.Errorf("rotate refresh token: %w", err)
		}
		setRefresh(ti, successor, now, next.ExpiresAt)
		return ti, nil
	}
	return nil, oautherr.ErrInvalidGrant
}

// retryOrReuse judges a spent refresh token presented again.
func (m *Manager) retryOrReuse(ctx context.Context, client *clients.Info, row storage.RefreshToken, tgr *oauth2.TokenGenerateRequest, now time.Time) (oauth2.TokenInfo, error) {
	successor := m.secrets.Successor(tgr.Refresh)
	if m.grace > 0 && now.Sub(*row.SpentAt) <= m.grace && tokens.HashToken(successor) == row.SuccessorHash {
		next, err := m.refresh.GetRefreshToken(ctx, row.SuccessorHash)
		if err == nil && next.SpentAt == nil && next.RevokedAt == nil && now.Before(next.ExpiresAt) {
			scope, err := narrowScope(tgr.Scope, next.Scope)
			if err != nil {
				return nil, err
			}
			customer, err := m.liveCustomer(ctx, next)
			if err != nil {
				return nil, err
			}
			ti, err := m.mintAccess(ctx, client, customer, scope, now, next.AuthTime)
			if err != nil {
				return nil, err
			}
			if err := m.refresh.RecordIssuedAccessToken(ctx, issuedAccess(ti, next.FamilyID)); err != nil {
				return nil, fmt.Errorf("record access token: %w", err)
			}
			setRefresh(ti, successor, now, next.ExpiresAt)
			return ti, nil
		}
	}
	n, err := m.refresh.RevokeRefreshFamily(ctx, row.FamilyID, now)
	if err != nil {
		return nil, fmt.Errorf("revoke refresh family: %w", err)
	}
	m.logger.WarnContext(ctx, "refresh token reuse: family revoked",
		"client_id", client.ID, "family_id", row.FamilyID, "revoked", n)
	return nil, oautherr.ErrInvalidGrant
}

// liveCustomer loads the family's customer, who must still be allowed in.
func (m *Manager) liveCustomer(ctx context.Context, row storage.RefreshToken) (storage.Customer, error) {
	c, err := m.customers.GetCustomer(ctx, row.ShopKey, row.CustomerID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Customer{}, oautherr.ErrInvalidGrant
	}
	if err != nil {
		return storage.Customer{}, fmt.Errorf("load customer: %w", err)
	}
	if !c.MayUseTokens() {
		return storage.Customer{}, oautherr.ErrInvalidGrant
	}
	return c, nil
}

// idle reports whether the family went unused for longer than the idle TTL.
// New rows carry the idle deadline in ExpiresAt already (refreshExpiry);
// this also catches rows stored before the idle TTL was turned on.
func (m *Manager) idle(row storage.RefreshToken, now time.Time) bool {
	return m.idleTTL > 0 && now.Sub(row.IssuedAt) > m.idleTTL
}

// refreshExpiry is when a token issued at now stops working: the family's
// absolute end, or sooner when an idle TTL is set, so that the atomic spend
// (expires_at > now) enforces idleness and the sweeper can delete the row.
func (m *Manager) refreshExpiry(now, familyEnd time.Time) time.Time {
	if m.idleTTL > 0 && now.Add(m.idleTTL).Before(familyEnd) {
		return now.Add(m.idleTTL)
	}
	return familyEnd
}

// narrowScope returns the scope of a refreshed access token: the original
// one, or a subset of it; never more (RFC 6749 §6).
func narrowScope(requested, original string) (string, error) {
	if strings.TrimSpace(requested) == "" {
		return original, nil
	}
	narrowed, ok := clients.SubsetOf(requested, strings.Fields(original))
	if !ok {
		return "", oautherr.ErrInvalidScope
	}
	return strings.Join(narrowed, " "), nil
}

func (m *Manager) mintAccess(ctx context.Context, client *clients.Info, customer storage.Customer, scope string, now, authTime time.Time) (*issuedToken, error) {
	ti := &issuedToken{Token: models.NewToken(), customer: customer, authTime: authTime}
	ti.SetClientID(client.ID)
	ti.SetUserID(customerSubject(customer.ID))
	ti.SetScope(scope)
	ti.SetAccessCreateAt(now)
	ti.SetAccessExpiresIn(client.AccessTTL(m.accessTTL))
	tokens.SetSubject(ti, tokens.Subject{
		CustomerID: customer.ID, ShopKey: customer.ShopKey, CustomerReference: customer.CustomerReference,
		CompanyUserID: customer.CompanyUserID, AuthTime: authTime,
	})
	access, _, err := m.minter.Token(ctx, &oauth2.GenerateBasic{
		Client: client, UserID: ti.GetUserID(), CreateAt: now, TokenInfo: ti,
	}, false)
	if err != nil {
		return nil, err
	}
	ti.SetAccess(access)
	return ti, nil
}

// RemoveAccessToken is part of go-oauth2's Manager interface but never
// reached: shopauth's access tokens are stateless JWTs, revoked by jti.
func (m *Manager) RemoveAccessToken(context.Context, string) error {
	return errors.New("server: access tokens are revoked by jti, not removed")
}

// RemoveRefreshToken revokes the family of a refresh token.
func (m *Manager) RemoveRefreshToken(ctx context.Context, refresh string) error {
	row, err := m.refresh.GetRefreshToken(ctx, tokens.HashToken(refresh))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = m.refresh.RevokeRefreshFamily(ctx, row.FamilyID, m.clock())
	return err
}

// LoadAccessToken verifies a JWT access token and returns it as TokenInfo.
func (m *Manager) LoadAccessToken(ctx context.Context, access string) (oauth2.TokenInfo, error) {
	c, err := m.verifier.VerifyAccessToken(ctx, access)
	if err != nil {
		return nil, oauth2errors.ErrInvalidAccessToken
	}
	ti := models.NewToken()
	ti.SetAccess(access)
	ti.SetClientID(c.ClientID)
	ti.SetUserID(c.Subject)
	ti.SetScope(c.Scope)
	ti.SetAccessCreateAt(time.Unix(c.IssuedAt, 0))
	ti.SetAccessExpiresIn(time.Duration(c.ExpiresAt-c.IssuedAt) * time.Second)
	return ti, nil
}

// LoadRefreshToken returns a live refresh token as TokenInfo.
func (m *Manager) LoadRefreshToken(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	row, err := m.refresh.GetRefreshToken(ctx, tokens.HashToken(refresh))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oauth2errors.ErrInvalidRefreshToken
	}
	if err != nil {
		return nil, err
	}
	now := m.clock()
	if row.SpentAt != nil || row.RevokedAt != nil || !now.Before(row.ExpiresAt) {
		return nil, oauth2errors.ErrInvalidRefreshToken
	}
	ti := models.NewToken()
	ti.SetClientID(row.ClientID)
	ti.SetUserID(customerSubject(row.CustomerID))
	ti.SetScope(row.Scope)
	setRefresh(ti, refresh, row.IssuedAt, row.ExpiresAt)
	return ti, nil
}

func (m *Manager) clock() time.Time { return m.now().UTC().Truncate(time.Second) }

func setRefresh(ti oauth2.TokenInfo, refresh string, issued, expires time.Time) {
	ti.SetRefresh(refresh)
	ti.SetRefreshCreateAt(issued)
	ti.SetRefreshExpiresIn(expires.Sub(issued))
}

func issuedAccess(ti oauth2.TokenInfo, family string) storage.IssuedAccessToken {
	jti, exp := tokens.IssuedJTI(ti)
	return storage.IssuedAccessToken{JTI: jti, FamilyID: family, ExpiresAt: exp}
}

func customerSubject(id uint64) string { return strconv.FormatUint(id, 10) }

func newFamilyID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate family id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// issuedToken is the TokenInfo the Manager returns: go-oauth2's token plus
// the customer it was issued to, which the Authority echoes to the legacy
// dialects and puts into the ID token.
type issuedToken struct {
	*models.Token
	customer storage.Customer
	// nonce goes into the ID token: the authorization request's for a code
	// (OIDC Core §3.1.3.6), the password grant's nonce parameter otherwise.
	nonce string
	// authTime is when the customer authenticated: the login, also for
	// every token refreshed from it (OIDC Core §12.2).
	authTime time.Time
}
