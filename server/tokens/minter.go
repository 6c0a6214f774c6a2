package tokens

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"

	"github.com/shopauth/shopauth/server/clients"
)

// Signer signs a JWS payload with the current key and the given `typ`:
// Sign with the default algorithm (RS256), SignWith with the client's
// (storage.Client.AccessTokenAlg, IDTokenAlg; "" means the default).
type Signer interface {
	Sign(payload []byte, typ string) (string, error)
	SignWith(alg string, payload []byte, typ string) (string, error)
}

// Subject is who an access token speaks for. go-oauth2's AccessGenerate
// signature has no room for it, so it travels in the token's extension
// values (its own mechanism for per-token data).
type Subject struct {
	CustomerID        uint64
	ShopKey           string
	CustomerReference string
	CompanyUserID     string
	AuthTime          time.Time
}

const (
	extShop      = "shop"
	extReference = "customer_reference"
	extCompany   = "id_company_user"
	extAuthTime  = "auth_time"
	extJTI       = "jti"
	extAccessExp = "access_exp"
)

// SetSubject stores s on ti for the minter.
func SetSubject(ti oauth2.TokenInfo, s Subject) {
	eti, ok := ti.(oauth2.ExtendableTokenInfo)
	if !ok {
		return
	}
	ext := eti.GetExtension()
	if ext == nil {
		ext = url.Values{}
	}
	ext.Set(extShop, s.ShopKey)
	ext.Set(extReference, s.CustomerReference)
	ext.Set(extCompany, s.CompanyUserID)
	ext.Set(extAuthTime, strconv.FormatInt(s.AuthTime.Unix(), 10))
	eti.SetExtension(ext)
}

// IssuedJTI returns the jti and expiry of the access token minted into ti.
func IssuedJTI(ti oauth2.TokenInfo) (string, time.Time) {
	eti, ok := ti.(oauth2.ExtendableTokenInfo)
	if !ok || eti.GetExtension() == nil {
		return "", time.Time{}
	}
	exp, _ := strconv.ParseInt(eti.GetExtension().Get(extAccessExp), 10, 64)
	return eti.GetExtension().Get(extJTI), time.Unix(exp, 0).UTC()
}

// Minter is go-oauth2's AccessGenerate for shopauth: RFC 9068 JWT access
// tokens signed by the current key (go-jose, `kid`, `typ: at+jwt`).
// Refresh tokens are not made here: see RefreshSecrets.
type Minter struct {
	issuer string
	signer Signer
}

var _ oauth2.AccessGenerate = (*Minter)(nil)

// NewMinter returns a Minter for issuer signing with signer.
func NewMinter(issuer string, signer Signer) (*Minter, error) {
	if issuer == "" || signer == nil {
		return nil, errors.New("tokens: issuer and signer are required")
	}
	return &Minter{issuer: issuer, signer: signer}, nil
}

// Token mints the access token described by data. isGenRefresh is ignored:
// the manager issues refresh tokens itself, so that rotation can derive
// successors.
func (m *Minter) Token(_ context.Context, data *oauth2.GenerateBasic, _ bool) (string, string, error) {
	ti := data.TokenInfo
	eti, ok := ti.(oauth2.ExtendableTokenInfo)
	if !ok {
		return "", "", errors.New("tokens: token info carries no extension")
	}
	ext := eti.GetExtension()
	if ext == nil {
		ext = url.Values{}
	}
	client, ok := data.Client.(*clients.Info)
	if !ok {
		return "", "", fmt.Errorf("tokens: unexpected client type %T", data.Client)
	}
	jti, err := NewJTI()
	if err != nil {
		return "", "", err
	}
	created := data.CreateAt.UTC().Truncate(time.Second)
	exp := created.Add(ti.GetAccessExpiresIn())
	claims := AccessClaims{
		Issuer:            m.issuer,
		Subject:           data.UserID,
		ExpiresAt:         exp.Unix(),
		IssuedAt:          created.Unix(),
		NotBefore:         created.Unix(),
		JTI:               jti,
		ClientID:          client.ID,
		Scope:             ti.GetScope(),
		Shop:              ext.Get(extShop),
		CustomerReference: ext.Get(extReference),
		CompanyUserID:     ext.Get(extCompany),
	}
	if at, err := strconv.ParseInt(ext.Get(extAuthTime), 10, 64); err == nil && at > 0 {
		claims.AuthTime = at
	}
	// RFC 9068 §3: aud names the resource servers; a client without
	// configured audiences gets its own id, which is what OIDC libraries
	// check by default.
	claims.Audience = Audience(client.Audiences)
	if len(claims.Audience) == 0 {
		claims.Audience = Audience{client.ID}
	}
	if client.TokenProfile == ProfileSpryker {
		m.sprykerShape(&claims, client)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", "", fmt.Errorf("encode access token claims: %w", err)
	}
	token, err := m.signer.SignWith(client.AccessTokenAlg, payload, TypeAccessToken)
	if err != nil {
		return "", "", fmt.Errorf("sign access token: %w", err)
	}
	ext.Set(extJTI, jti)
	ext.Set(extAccessExp, strconv.FormatInt(exp.Unix(), 10))
	eti.SetExtension(ext)
	return token, "", nil
}

// scopeOfflineAccess is server.ScopeOfflineAccess (OIDC Core §11), which
// this package cannot import.
const scopeOfflineAccess = "offline_access"

// sprykerShape rewrites claims the way Spryker's Glue resource side reads
// them (docs/spryker.md): `sub` is a JSON document, `scopes` an array.
func (m *Minter) sprykerShape(c *AccessClaims, client *clients.Info) {
	id, _ := strconv.ParseUint(c.Subject, 10, 64)
	var company *string
	if c.CompanyUserID != "" {
		company = &c.CompanyUserID
	}
	sub, _ := json.Marshal(sprykerSubject{CompanyUserID: company, CustomerReference: c.CustomerReference, CustomerID: id})
	c.Subject = string(sub)
	c.Audience = Audience{client.ID}
	// Spryker's scopes name what the token may do ("customer");
	// offline_access only asked for a refresh token and is no such scope.
	c.Scopes = slices.DeleteFunc(strings.Fields(c.Scope), func(s string) bool { return s == scopeOfflineAccess })
}

// NewJTI returns a random token identifier (128 bits).
func NewJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
