package spryker

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/web"
)

// Attribute names of the JSON:API requests, in the order their errors are
// reported.
const (
	attrUsername     = "username"
	attrPassword     = "password"
	attrRefreshToken = "refreshToken"
)

// createAccessToken is POST /access-tokens: a password grant.
func (h *Handler) createAccessToken(c *gin.Context) {
	attrs, p := h.decode(c, typeAccessTokens, attrUsername, attrPassword)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	var invalid []apiError
	switch username := attrs[attrUsername]; {
	case username == "":
		invalid = append(invalid, validationError(attrUsername, detailNotBlank))
	case !validEmail(username):
		invalid = append(invalid, validationError(attrUsername, detailNotEmail))
	}
	if attrs[attrPassword] == "" {
		invalid = append(invalid, validationError(attrPassword, detailNotBlank))
	}
	if len(invalid) > 0 {
		h.writeProblem(c, &problem{errors: invalid}, nil)
		return
	}
	h.grant(c, typeAccessTokens, PathAccessTokens, authenticationFailed, server.TokenRequest{
		GrantType: server.GrantPassword,
		Username:  attrs[attrUsername],
		Password:  attrs[attrPassword],
	})
}

// refreshAccessToken is POST /refresh-tokens: a refresh_token grant, which
// rotates the refresh token.
func (h *Handler) refreshAccessToken(c *gin.Context) {
	attrs, p := h.decode(c, typeRefreshTokens, attrRefreshToken)
	if p != nil {
		h.writeProblem(c, p, nil)
		return
	}
	if attrs[attrRefreshToken] == "" {
		h.writeProblem(c, &problem{errors: []apiError{validationError(attrRefreshToken, detailNotBlank)}}, nil)
		return
	}
	h.grant(c, typeRefreshTokens, PathRefreshTokens, refreshFailed, server.TokenRequest{
		GrantType:    server.GrantRefreshToken,
		RefreshToken: attrs[attrRefreshToken],
	})
}

var (
	authenticationFailed = newProblem(http.StatusUnauthorized, codeAuthenticationFails, detailAuthenticationFails)
	refreshFailed        = newProblem(http.StatusUnauthorized, codeRefreshFails, detailRefreshFails)
)

func (h *Handler) decode(c *gin.Context, resourceType string, names ...string) (map[string]string, *problem) {
	body, p := readBody(c.Request)
	if p != nil {
		return nil, p
	}
	return decodeAttributes(body, resourceType, names...)
}

// grant runs req for the adapter's client in its shop and writes the
// JSON:API answer; failed is the problem of a refused grant.
func (h *Handler) grant(c *gin.Context, resourceType, path string, failed *problem, req server.TokenRequest) {
	resp, err := h.adapterToken(c, req)
	if err != nil {
		p, _ := problemOf(err, failed)
		h.writeProblem(c, p, err)
		return
	}
	h.writeTokens(c, resourceType, path, resp)
}

// adapterToken runs req for the adapter's client in its shop, keyed for
// the login rate limit by the caller's address (gin's ClientIP, which
// believes X-Forwarded-For only from trusted proxies).
func (h *Handler) adapterToken(c *gin.Context, req server.TokenRequest) (*server.TokenResponse, error) {
	req.ShopKey, req.ClientIP, req.Dialect = h.shopKey, c.ClientIP(), server.DialectSpryker
	return h.grants.AdapterToken(c.Request.Context(), h.clientID, req)
}

// deleteRefreshToken is DELETE /refresh-tokens/{refreshToken} and DELETE
// /refresh-tokens/mine. Once the caller is authenticated the answer is 204,
// whether or not anything was revoked: another customer's token is left
// untouched and nothing tells the caller whether it exists.
func (h *Handler) deleteRefreshToken(c *gin.Context) {
	customerID, ok := h.authenticate(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var err error
	if id := c.Param("refreshToken"); id == Mine {
		err = h.revocations.RevokeAllCustomerRefreshTokens(ctx, customerID, h.shopKey)
	} else {
		err = h.revocations.RevokeCustomerRefreshToken(ctx, customerID, h.shopKey, id)
	}
	if err != nil {
		p, _ := problemOf(err, errServer)
		h.writeProblem(c, p, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deleteWithoutID is DELETE /refresh-tokens and /refresh-tokens/.
func (h *Handler) deleteWithoutID(c *gin.Context) {
	if _, ok := h.authenticate(c); !ok {
		return
	}
	h.writeProblem(c, errMissingID, nil)
}

// authenticate checks the Bearer access token as every protected route
// does (customerToken) and returns its customer.
func (h *Handler) authenticate(c *gin.Context) (uint64, bool) {
	claims, ok := h.customerToken(c)
	if !ok {
		return 0, false
	}
	customerID, _ := claims.CustomerID()
	return customerID, true
}

// bearerToken extracts the token of an RFC 6750 §2.1 Authorization header
// (web.ParseBearerHeader's rules). No header (or an empty one) is Glue's
// 403 "Missing access token."; any other scheme or shape is 401 "Invalid
// access token.".
func bearerToken(header string) (string, *problem) {
	switch token, p := web.ParseBearerHeader(header); p {
	case web.BearerOK:
		return token, nil
	case web.BearerAbsent:
		return "", errMissingToken
	}
	return "", errInvalidToken
}
