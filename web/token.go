package web

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/oautherr"
)

type tokenHandler struct {
	tokens TokenIssuer
	logger *slog.Logger
}

// Mount adds the token endpoint (RFC 6749 §3.2): POST only.
func (h *tokenHandler) Mount(r gin.IRouter) {
	r.POST(PathToken, h.token)
}

func (h *tokenHandler) token(c *gin.Context) {
	req, err := ParseTokenRequest(c.Request)
	if err != nil {
		WriteOAuthError(c, h.logger, err)
		return
	}
	req.ClientIP = c.ClientIP()
	req.Dialect = server.DialectOAuth2
	resp, err := h.tokens.Token(c.Request.Context(), req)
	if err != nil {
		WriteOAuthError(c, h.logger, err)
		return
	}
	WriteToken(c, resp)
}

var errBodyTooLarge = &oautherr.Error{Code: "invalid_request", Status: http.StatusRequestEntityTooLarge,
	Description: "The request body is too large."}

// ParseTokenRequest decodes a token request: form-encoded body only (never
// the query string, RFC 6749 §3.2), no repeated parameters, empty values
// treated as absent, and exactly one client authentication method.
func ParseTokenRequest(r *http.Request) (server.TokenRequest, error) {
	form, err := ParseForm(r)
	if err != nil {
		return server.TokenRequest{}, err
	}
	creds, err := clientCredentials(r, form)
	if err != nil {
		return server.TokenRequest{}, err
	}
	return server.TokenRequest{
		GrantType:    form.Get("grant_type"),
		Client:       creds,
		Username:     form.Get("username"),
		Password:     form.Get("password"),
		RefreshToken: form.Get("refresh_token"),
		Scope:        form.Get("scope"),
		Code:         form.Get("code"),
		RedirectURI:  form.Get("redirect_uri"),
		CodeVerifier: form.Get("code_verifier"),
		Nonce:        form.Get("nonce"),
		ShopKey:      form.Get("shop"),
	}, nil
}

const formMediaType = "application/x-www-form-urlencoded"

// ParseForm reads an application/x-www-form-urlencoded body and rejects
// repeated parameters (RFC 6749 §3.2).
func ParseForm(r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != formMediaType {
		return nil, oautherr.ErrInvalidRequest.WithDescription("The body must be application/x-www-form-urlencoded.")
	}
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		return nil, oautherr.ErrInvalidRequest.WithDescription("The body is not valid form encoding.")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, oautherr.ErrInvalidRequest.WithDescription("The parameter " + k + " is repeated.")
		}
	}
	return r.PostForm, nil
}

// clientCredentials finds how the client authenticates: HTTP Basic, or
// client_id/client_secret in the body, never both (RFC 6749 §2.3).
func clientCredentials(r *http.Request, form url.Values) (server.ClientCredentials, error) {
	bodyID, bodySecret := form.Get("client_id"), form.Get("client_secret")
	header := r.Header.Get("Authorization")
	if header == "" {
		if bodySecret != "" {
			return server.ClientCredentials{ID: bodyID, Secret: bodySecret, Method: server.ClientAuthPost}, nil
		}
		return server.ClientCredentials{ID: bodyID, Method: server.ClientAuthNone}, nil
	}
	id, secret, err := parseBasic(header)
	if err != nil {
		return server.ClientCredentials{}, err
	}
	if bodySecret != "" || (bodyID != "" && bodyID != id) {
		return server.ClientCredentials{}, oautherr.ErrInvalidRequest.WithDescription("Use one client authentication method only.")
	}
	return server.ClientCredentials{ID: id, Secret: secret, Method: server.ClientAuthBasic}, nil
}

// parseBasic decodes HTTP Basic client credentials. RFC 6749 §2.3.1 has the
// client form-urlencode id and secret before base64; r.BasicAuth does not
// undo that.
func parseBasic(header string) (id, secret string, err error) {
	scheme, value, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", oautherr.ErrInvalidClient.WithDescription("Unsupported authorization scheme.")
	}
	raw, decErr := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if decErr != nil {
		return "", "", oautherr.ErrInvalidClient.WithDescription("Malformed Basic credentials.")
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", oautherr.ErrInvalidClient.WithDescription("Malformed Basic credentials.")
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", oautherr.ErrInvalidClient.WithDescription("Malformed Basic credentials.")
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", oautherr.ErrInvalidClient.WithDescription("Malformed Basic credentials.")
	}
	if id == "" {
		return "", "", oautherr.ErrInvalidClient
	}
	return id, secret, nil
}
