package spryker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/server/oautherr"
	"github.com/shopauth/shopauth/web"
)

// contentType is JSON:API's media type; every JSON:API answer carries it.
const contentType = "application/vnd.api+json"

// Glue error codes and details (docs/spryker.md, "Errors").
const (
	codeInvalidAccessToken  = "001"
	codeMissingAccessToken  = "002"
	codeAuthenticationFails = "003"
	codeRefreshFails        = "004"
	codeValidation          = "901"
	codeTooManyLogins       = "4401"

	detailInvalidAccessToken  = "Invalid access token."
	detailMissingAccessToken  = "Missing access token."
	detailAuthenticationFails = "Failed to authenticate user."
	detailRefreshFails        = "Failed to refresh token."
	detailInvalidType         = "Invalid type."
	detailInvalidPostData     = "Post data is invalid."
	detailMissingID           = "Resource id is not specified."
	detailNotFound            = "Not Found"
	detailNotBlank            = "This value should not be blank."
	detailNotEmail            = "This value is not a valid email address."
	// The three below have no Spryker original; they follow Glue's style.
	detailTooLarge    = "Request body is too large."
	detailUnavailable = "Service temporarily unavailable. Please try again later."
	detailServerError = "Internal Server Error"
)

// apiError is one JSON:API error object. Key order and types are Glue's:
// code a string (absent for generic errors), status an integer.
type apiError struct {
	Code   string `json:"code,omitempty"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// problem is a failed request: one or more error objects, and the
// Retry-After seconds to send (0: none).
type problem struct {
	errors     []apiError
	retryAfter int
}

func newProblem(status int, code, detail string) *problem {
	return &problem{errors: []apiError{{Code: code, Status: status, Detail: detail}}}
}

func (p *problem) Error() string { return fmt.Sprintf("spryker: %+v", p.errors) }

var (
	errInvalidPostData = newProblem(http.StatusBadRequest, "", detailInvalidPostData)
	errInvalidType     = newProblem(http.StatusBadRequest, "", detailInvalidType)
	errTooLarge        = newProblem(http.StatusRequestEntityTooLarge, "", detailTooLarge)
	errMissingToken    = newProblem(http.StatusForbidden, codeMissingAccessToken, detailMissingAccessToken)
	errInvalidToken    = newProblem(http.StatusUnauthorized, codeInvalidAccessToken, detailInvalidAccessToken)
	errMissingID       = newProblem(http.StatusBadRequest, "", detailMissingID)
	errNotFound        = newProblem(http.StatusNotFound, "", detailNotFound)
	errServer          = newProblem(http.StatusInternalServerError, "", detailServerError)
)

// validationError is Glue's 422 for one attribute, "field => message".
func validationError(field, message string) apiError {
	return apiError{Code: codeValidation, Status: http.StatusUnprocessableEntity, Detail: field + " => " + message}
}

// grantProblem translates a core error of a grant into Glue's words.
// failed is the problem of a refused grant (003 for a login, 004 for a
// refresh). ok is false for faults, which are not the caller's to see.
func grantProblem(err error, failed *problem) (p *problem, ok bool) {
	var oe *oautherr.Error
	if !errors.As(err, &oe) {
		return errServer, false
	}
	switch {
	case errors.Is(err, customers.ErrNotVerified):
		// The seed's 403: the right password, an unconfirmed address.
		return newProblem(http.StatusForbidden, codeAuthenticationFails, detailAuthenticationFails), true
	case errors.Is(err, oautherr.ErrInvalidGrant):
		return failed, true
	case errors.Is(err, oautherr.ErrSlowDown):
		return tooManyLogins(oe.RetryAfter), true
	case errors.Is(err, oautherr.ErrTemporarilyUnavailable):
		p := newProblem(http.StatusServiceUnavailable, "", detailUnavailable)
		p.retryAfter = oe.RetryAfter
		return p, true
	}
	// invalid_client, unauthorized_client, invalid_scope: the adapter's
	// client is misconfigured, which the caller cannot fix.
	return errServer, false
}

// tooManyLogins is Glue's 4401 (Spryker's SecurityBlocker): the wait is in
// whole minutes, rounded up, at least one; Retry-After says the same.
func tooManyLogins(retryAfter int) *problem {
	if retryAfter <= 0 {
		retryAfter = 60
	}
	minutes := (retryAfter + 59) / 60
	p := newProblem(http.StatusTooManyRequests, codeTooManyLogins,
		"Too many log in attempts from your address. Please wait "+strconv.Itoa(minutes)+" minutes before trying again.")
	p.retryAfter = retryAfter
	return p
}

// writeProblem is the dialect's one JSON:API error writer: the status is
// that of the last error object (Glue's rule), a fault's cause is logged
// once and never sent.
func (h *Handler) writeProblem(c *gin.Context, p *problem, cause error) {
	status := p.errors[len(p.errors)-1].Status
	if status == http.StatusInternalServerError && cause != nil {
		h.logger.ErrorContext(c.Request.Context(), "spryker request failed",
			"request_id", web.RequestID(c), "route", c.FullPath(), "err", cause)
	}
	if p.retryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(p.retryAfter))
	}
	noStore(c)
	writeJSON(c, status, contentType, struct {
		Errors []apiError `json:"errors"`
	}{p.errors})
	c.Abort()
}

// tokenDocument is the 201 body of /access-tokens and /refresh-tokens.
type tokenDocument struct {
	Data tokenResource `json:"data"`
}

type tokenResource struct {
	Type string `json:"type"`
	// ID is always null: a token is not an addressable resource.
	ID         *string         `json:"id"`
	Attributes tokenAttributes `json:"attributes"`
	Links      struct {
		Self string `json:"self"`
	} `json:"links"`
}

type tokenAttributes struct {
	TokenType    string `json:"tokenType"`
	ExpiresIn    int64  `json:"expiresIn"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken,omitempty"`
	// IDCompanyUser is only there for B2B customers that have one.
	IDCompanyUser string `json:"idCompanyUser,omitempty"`
}

func (h *Handler) writeTokens(c *gin.Context, resourceType, path string, resp *server.TokenResponse) {
	doc := tokenDocument{Data: tokenResource{
		Type: resourceType,
		Attributes: tokenAttributes{
			TokenType:     "Bearer",
			ExpiresIn:     resp.ExpiresIn,
			AccessToken:   resp.AccessToken,
			RefreshToken:  resp.RefreshToken,
			IDCompanyUser: resp.Customer.CompanyUserID,
		},
	}}
	doc.Data.Links.Self = h.selfBase + path
	noStore(c)
	writeJSON(c, http.StatusCreated, contentType, doc)
}

// noStore marks a response as carrying credentials (RFC 6749 §5.1).
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
}

// writeJSON writes v without encoding/json's HTML escaping: Glue's
// "username => …" details go out as "=>", not "=\u003e".
func writeJSON(c *gin.Context, status int, contentType string, v any) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, contentType, bytes.TrimSuffix(body.Bytes(), []byte("\n")))
}

// notFound answers a wrong method on a Spryker route as Glue does.
func (h *Handler) notFound(c *gin.Context) { h.writeProblem(c, errNotFound, nil) }
