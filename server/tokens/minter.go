package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/storage"
)

// Signer signs a JWS payload with the current key and the given `typ`:
// Sign with the default algorithm (RS256), SignWith with the client's
// (storage.Client.AccessTokenAlg, IDTokenAlg; "" means the default).
type Signer interface {
	Sign(payload []byte, typ string) (string, error)
	SignWith(alg string, payload []byte, typ string) (string, error)
}

// Minter makes shopauth's JWTs: RFC 9068 access tokens and OIDC ID tokens,
// signed by the current key (go-jose, `kid`, `typ`). Refresh tokens are not
// made here: see RefreshSecrets.
type Minter struct {
	issuer    string
	signer    Signer
	accessTTL time.Duration
}

// MinterConfig holds a Minter's issuer, signer and default access-token
// lifetime (a client's own AccessTokenTTL overrides it).
type MinterConfig struct {
	Issuer    string
	Signer    Signer
	AccessTTL time.Duration
}

// NewMinter checks cfg and returns a Minter.
func NewMinter(cfg MinterConfig) (*Minter, error) {
	if cfg.Issuer == "" || cfg.Signer == nil {
		return nil, errors.New("tokens: issuer and signer are required")
	}
	if cfg.AccessTTL <= 0 {
		return nil, errors.New("tokens: the access-token lifetime must be positive")
	}
	return &Minter{issuer: cfg.Issuer, signer: cfg.Signer, accessTTL: cfg.AccessTTL}, nil
}

// Issuer is the `iss` of every token the Minter makes.
func (m *Minter) Issuer() string { return m.issuer }

// Grant is what one access token is minted for.
type Grant struct {
	Client storage.Client
	// Customer is who the token speaks for; nil for a client's own token
	// (client_credentials: `sub` is the client id, RFC 9068 §2.2).
	Customer *storage.Customer
	Scope    string // space-separated
	// AuthTime is when the customer authenticated (the login, also for
	// every token refreshed from it, OIDC Core §12.2); zero for a client.
	AuthTime time.Time
	// Nonce goes into the ID token: the authorization request's for a code
	// (OIDC Core §3.1.3.6), the password grant's parameter otherwise.
	Nonce string
	// IssuedAt is now; it is truncated to whole seconds, as JWT times are.
	// The tokens live for the client's access-token lifetime.
	IssuedAt time.Time
}

// Minted is what Mint made. JTI and ExpiresAt are what revocation and the
// issued-jti records need.
type Minted struct {
	AccessToken string
	JTI         string
	IssuedAt    time.Time
	ExpiresAt   time.Time
	// IDToken is set when the scope has openid and there is a customer
	// (OIDC Core §3.1.3.3).
	IDToken string
}

// ExpiresIn is the access token's lifetime in whole seconds (RFC 6749 §5.1).
func (t Minted) ExpiresIn() int64 { return int64(t.ExpiresAt.Sub(t.IssuedAt) / time.Second) }

// Mint makes the access token of g and, for a customer's openid scope, its
// ID token.
func (m *Minter) Mint(_ context.Context, g Grant) (Minted, error) {
	jti, err := NewJTI()
	if err != nil {
		return Minted{}, err
	}
	iat := g.IssuedAt.UTC().Truncate(time.Second)
	ttl := m.accessTTL
	if g.Client.AccessTokenTTL > 0 {
		ttl = g.Client.AccessTokenTTL
	}
	exp := iat.Add(ttl)
	claims := AccessClaims{
		Issuer:    m.issuer,
		Subject:   g.Client.ID,
		ExpiresAt: exp.Unix(),
		IssuedAt:  iat.Unix(),
		NotBefore: iat.Unix(),
		JTI:       jti,
		ClientID:  g.Client.ID,
		Scope:     g.Scope,
		Shop:      g.Client.ShopKey,
	}
	if c := g.Customer; c != nil {
		claims.Subject = CustomerSubject(c.ID)
		claims.Shop, claims.CustomerReference, claims.CompanyUserID = c.ShopKey, c.CustomerReference, c.CompanyUserID
		if !g.AuthTime.IsZero() && g.AuthTime.Unix() > 0 {
			claims.AuthTime = g.AuthTime.Unix()
		}
	}
	// RFC 9068 §3: aud names the resource servers; a client without
	// configured audiences gets its own id, which is what OIDC libraries
	// check by default.
	claims.Audience = Audience(g.Client.Audiences)
	if len(claims.Audience) == 0 {
		claims.Audience = Audience{g.Client.ID}
	}
	if g.Client.TokenProfile == ProfileSpryker {
		sprykerShape(&claims, g.Client.ID)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return Minted{}, fmt.Errorf("encode access token claims: %w", err)
	}
	access, err := m.signer.SignWith(g.Client.AccessTokenAlg, payload, TypeAccessToken)
	if err != nil {
		return Minted{}, fmt.Errorf("sign access token: %w", err)
	}
	out := Minted{AccessToken: access, JTI: jti, IssuedAt: iat, ExpiresAt: exp}
	scopes := strings.Fields(g.Scope)
	if g.Customer != nil && slices.Contains(scopes, server.ScopeOpenID) {
		// OIDC Core §12.2: on refresh iss, sub and aud are the login's, iat
		// is new and auth_time stays the login's.
		out.IDToken, err = m.IDToken(g.Client.IDTokenAlg, IDClaims{
			Audience:   Audience{g.Client.ID},
			IssuedAt:   iat.Unix(),
			ExpiresAt:  exp.Unix(),
			AuthTime:   g.AuthTime.Unix(),
			Nonce:      g.Nonce,
			UserClaims: UserClaimsOf(*g.Customer, scopes),
		})
		if err != nil {
			return Minted{}, err
		}
	}
	return out, nil
}

// sprykerShape rewrites claims the way Spryker's Glue resource side reads
// them (docs/spryker.md): `sub` is a JSON document, `scopes` an array.
func sprykerShape(c *AccessClaims, clientID string) {
	id, _ := strconv.ParseUint(c.Subject, 10, 64)
	var company *string
	if c.CompanyUserID != "" {
		company = &c.CompanyUserID
	}
	sub, _ := json.Marshal(sprykerSubject{CompanyUserID: company, CustomerReference: c.CustomerReference, CustomerID: id})
	c.Subject = string(sub)
	c.Audience = Audience{clientID}
	// Spryker's scopes name what the token may do ("customer");
	// offline_access only asked for a refresh token and is no such scope.
	c.Scopes = slices.DeleteFunc(strings.Fields(c.Scope), func(s string) bool { return s == server.ScopeOfflineAccess })
}

// CustomerSubject is the `sub` of a customer's tokens: the decimal id.
func CustomerSubject(id uint64) string { return strconv.FormatUint(id, 10) }

// UserClaimsOf returns the claims about customer that scopes release (OIDC
// Core §5.4): email and email_verified with `email`, name with `profile`.
// The ID token and UserInfo both use it, so their `sub` is always equal
// (OIDC Core §5.3.2).
func UserClaimsOf(customer storage.Customer, scopes []string) UserClaims {
	u := UserClaims{Subject: CustomerSubject(customer.ID), Shop: customer.ShopKey}
	if slices.Contains(scopes, server.ScopeEmail) {
		verified := customer.Verified()
		u.Email, u.EmailVerified = customer.Email, &verified
	}
	if slices.Contains(scopes, server.ScopeProfile) {
		u.Name = customer.Name
	}
	return u
}

// NewJTI returns a unique token identifier: a UUIDv7 (a millisecond
// timestamp, then 74 random bits) in base64 whose alphabet is in byte
// order, so that identifiers sort as they were made. The store's index of
// issued jtis then grows at its end instead of at a random page per token
// (docs/performance.md); RFC 9068 asks only that a jti be unique.
func NewJTI() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("generate jti: %w", err)
	}
	return sortableBase64.EncodeToString(id[:]), nil
}

// sortableBase64 is base64url's alphabet in byte order.
var sortableBase64 = base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").WithPadding(base64.NoPadding)
