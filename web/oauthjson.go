package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/oautherr"
)

// tokenJSON is the RFC 6749 §5.1 success body. Absent values are omitted,
// never null (OIDC Core §13.3).
type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

type errorJSON struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// noStore marks a response as carrying credentials (RFC 6749 §5.1).
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

func writeJSON(c *gin.Context, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, "application/json;charset=UTF-8", body)
}

// WriteToken writes a token response.
func WriteToken(c *gin.Context, resp *server.TokenResponse) {
	noStore(c)
	writeJSON(c, http.StatusOK, tokenJSON{
		AccessToken:  resp.AccessToken,
		TokenType:    resp.TokenType,
		ExpiresIn:    resp.ExpiresIn,
		RefreshToken: resp.RefreshToken,
		Scope:        resp.Scope,
		IDToken:      resp.IDToken,
	})
}

// WriteOAuthError is the one writer of RFC 6749 §5.2 errors: the core's
// refusal becomes its code and status through the OAuth dialect's one table
// (oautherr.From: a database that cannot answer is 503
// temporarily_unavailable with Retry-After), it adds the headers the RFCs
// ask for, and logs the cause of a fault once, without ever sending it.
func WriteOAuthError(c *gin.Context, logger *slog.Logger, err error) {
	e := oautherr.From(err)
	switch {
	case e.Status == 500:
		logger.ErrorContext(c.Request.Context(), "request failed",
			"request_id", RequestID(c), "route", c.FullPath(), "err", err)
	case e.Status > 500:
		// Overload answers (a saturated hashing pool) come in floods: one
		// error line each would bury the log, so they are debug-level; the
		// metrics count them.
		logger.DebugContext(c.Request.Context(), "request shed",
			"request_id", RequestID(c), "route", c.FullPath(), "status", e.Status)
	}
	if e.Code == oautherr.ErrInvalidClient.Code {
		// RFC 6749 §5.2; RFC 9110 §15.5.2 requires a challenge with 401.
		c.Header("WWW-Authenticate", `Basic realm="shopauth", charset="UTF-8"`)
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	noStore(c)
	writeJSON(c, e.Status, errorJSON{Error: e.Code, Description: oautherr.Sanitize(e.Description)})
	c.Abort()
}
