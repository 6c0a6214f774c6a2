package spryker

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/web"
)

// formContentType is what Spryker's /token answers with, exactly.
const formContentType = "application/json"

// The error descriptions of Spryker's /token (league/oauth2-server's).
const (
	descriptionBadCredentials = "The user credentials were incorrect."
	descriptionBadRefresh     = "The refresh token is invalid."
)

var (
	formInvalidRequest = oautherr.ErrInvalidRequest // its description is league's, word for word
	formBadCredentials = oautherr.ErrInvalidGrant.WithDescription(descriptionBadCredentials)
	formBadRefresh     = oautherr.ErrInvalidRequest.WithDescription(descriptionBadRefresh)
)

// formToken is POST /token, Spryker's OAuth form endpoint: grant_type
// password or refresh_token, form-encoded, no client credentials (the
// adapter's client is used; client_id and client_secret are ignored).
func (h *Handler) formToken(c *gin.Context) {
	form, err := web.ParseForm(c.Request)
	if err != nil {
		// Not a form, a repeated parameter, a body over the bound.
		h.writeFormError(c, formInvalidRequest, nil)
		return
	}
	req := server.TokenRequest{GrantType: form.Get("grant_type"), Scope: form.Get("scope")}
	failed := formBadCredentials
	switch req.GrantType {
	case server.GrantPassword:
		req.Username, req.Password = form.Get("username"), form.Get("password")
		if req.Username == "" || req.Password == "" {
			h.writeFormError(c, formInvalidRequest, nil)
			return
		}
	case server.GrantRefreshToken:
		req.RefreshToken = form.Get("refresh_token")
		if req.RefreshToken == "" {
			h.writeFormError(c, formInvalidRequest, nil)
			return
		}
		failed = formBadRefresh
	default:
		// league answers a missing grant_type like an unknown one.
		h.writeFormError(c, oautherr.ErrUnsupportedGrantType, nil)
		return
	}
	resp, err := h.adapterToken(c, req)
	if err != nil {
		h.writeFormError(c, formGrantError(err, failed), err)
		return
	}
	noStore(c)
	writeJSON(c, http.StatusOK, formContentType, struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token,omitempty"`
	}{resp.AccessToken, "Bearer", resp.ExpiresIn, resp.RefreshToken})
}

// formGrantError is the /token endpoint's one table from the core's
// refusals to league's answers: every refusal is 400 with league's words;
// throttling keeps 429/503 and its Retry-After (a client cannot back off
// from a 400), and faults stay faults.
func formGrantError(err error, failed *oautherr.Error) *oautherr.Error {
	switch refusal.KindOf(err) {
	case refusal.BadCredentials, refusal.NotVerified, refusal.UnknownShop, refusal.InvalidGrant:
		return failed
	case refusal.InvalidScope:
		return oautherr.ErrInvalidScope
	case refusal.InvalidRequest:
		return formInvalidRequest
	case refusal.Throttled, refusal.Unavailable:
		return oautherr.From(err)
	}
	// InvalidClient, UnauthorizedClient: the adapter's client is
	// misconfigured, which the caller cannot fix; faults.
	return oautherr.ErrServerError
}

// writeFormError writes {"error","error_description"}; a fault's cause is
// logged once and never sent.
func (h *Handler) writeFormError(c *gin.Context, e *oautherr.Error, cause error) {
	if e.Status == http.StatusInternalServerError && cause != nil {
		h.logger.ErrorContext(c.Request.Context(), "spryker token request failed",
			"request_id", web.RequestID(c), "route", c.FullPath(), "err", cause)
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	noStore(c)
	writeJSON(c, e.Status, formContentType, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{e.Code, oautherr.Sanitize(e.Description)})
	c.Abort()
}
