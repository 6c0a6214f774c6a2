package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/introspection"
	"github.com/shopauth/shopauth/server/revocation"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/server/userinfo"
)

// Route paths of the token-lifecycle endpoints.
const (
	PathRevoke     = "/oauth2/revoke"
	PathIntrospect = "/oauth2/introspect"
	PathUserInfo   = "/userinfo"
)

// Revoker ends tokens (RFC 7009); *revocation.Endpoint implements it.
type Revoker interface {
	Revoke(ctx context.Context, q server.TokenQuery) error
}

// Introspector answers whether a token is active (RFC 7662);
// *introspection.Endpoint implements it.
type Introspector interface {
	Introspect(ctx context.Context, q server.TokenQuery) (introspection.Result, error)
}

// UserInfoSource answers UserInfo requests (OIDC Core §5.3);
// *userinfo.Endpoint implements it.
type UserInfoSource interface {
	UserInfo(ctx context.Context, accessToken string) (tokens.UserClaims, error)
}

var (
	_ Revoker        = (*revocation.Endpoint)(nil)
	_ Introspector   = (*introspection.Endpoint)(nil)
	_ UserInfoSource = (*userinfo.Endpoint)(nil)
)

// Lifecycle is the core of the token-lifecycle endpoints.
type Lifecycle struct {
	Revoker      Revoker
	Introspector Introspector
	UserInfo     UserInfoSource
}

type lifecycleHandler struct {
	core   Lifecycle
	logger *slog.Logger
}

// Mount adds revocation (RFC 7009), introspection (RFC 7662) and UserInfo
// (OIDC Core §5.3, GET and POST).
func (h *lifecycleHandler) Mount(r gin.IRouter) {
	r.POST(PathRevoke, h.revoke)
	r.POST(PathIntrospect, h.introspect)
	r.GET(PathUserInfo, h.userInfo)
	r.POST(PathUserInfo, h.userInfo)
}

func (h *lifecycleHandler) revoke(c *gin.Context) {
	q, err := ParseTokenQuery(c.Request)
	if err != nil {
		WriteOAuthError(c, h.logger, err)
		return
	}
	if err := h.core.Revoker.Revoke(c.Request.Context(), q); err != nil {
		WriteOAuthError(c, h.logger, err)
		return
	}
	// RFC 7009 §2.2: 200, the body is ignored.
	noStore(c)
	c.Status(http.StatusOK)
}

func (h *lifecycleHandler) introspect(c *gin.Context) {
	q, err := ParseTokenQuery(c.Request)
	if err != nil {
		WriteOAuthError(c, h.logger, err)
		return
	}
	in, err := h.core.Introspector.Introspect(c.Request.Context(), q)
	if err != nil {
		WriteOAuthError(c, h.logger, err)
		return
	}
	noStore(c)
	writeJSON(c, http.StatusOK, introspectionJSON{
		Active: in.Active, Scope: in.Scope, ClientID: in.ClientID, Username: in.Username, TokenType: in.TokenType,
		ExpiresAt: in.ExpiresAt, IssuedAt: in.IssuedAt, NotBefore: in.NotBefore,
		Subject: in.Subject, Audience: in.Audience, Issuer: in.Issuer, JTI: in.JTI,
	})
}

func (h *lifecycleHandler) userInfo(c *gin.Context) {
	token, err := ParseBearer(c.Request)
	if err != nil {
		WriteBearerError(c, h.logger, err)
		return
	}
	claims, err := h.core.UserInfo.UserInfo(c.Request.Context(), token)
	if err != nil {
		WriteBearerError(c, h.logger, err)
		return
	}
	noStore(c)
	writeJSON(c, http.StatusOK, claims)
}

// introspectionJSON is the RFC 7662 §2.2 body; an inactive token's body is
// {"active":false} and nothing else.
type introspectionJSON struct {
	Active    bool            `json:"active"`
	Scope     string          `json:"scope,omitempty"`
	ClientID  string          `json:"client_id,omitempty"`
	Username  string          `json:"username,omitempty"`
	TokenType string          `json:"token_type,omitempty"`
	ExpiresAt int64           `json:"exp,omitempty"`
	IssuedAt  int64           `json:"iat,omitempty"`
	NotBefore int64           `json:"nbf,omitempty"`
	Subject   string          `json:"sub,omitempty"`
	Audience  tokens.Audience `json:"aud,omitempty"`
	Issuer    string          `json:"iss,omitempty"`
	JTI       string          `json:"jti,omitempty"`
}

// ParseTokenQuery decodes a revocation (RFC 7009 §2.1) or introspection
// (RFC 7662 §2.1) request: a form body with token and token_type_hint,
// authenticated like the token endpoint (ParseForm's rules, one client
// authentication method).
func ParseTokenQuery(r *http.Request) (server.TokenQuery, error) {
	form, err := ParseForm(r)
	if err != nil {
		return server.TokenQuery{}, err
	}
	creds, err := clientCredentials(r, form)
	if err != nil {
		return server.TokenQuery{}, err
	}
	return server.TokenQuery{Client: creds, Token: form.Get("token"), TokenTypeHint: form.Get("token_type_hint")}, nil
}
