package web

import (
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server/oautherr"
)

// bearerRealm names the protection space in Bearer challenges (RFC 6750 §3).
const bearerRealm = "shopauth"

// errNoBearer means the request carried no access token at all: RFC 6750
// §3.1 answers it with a bare challenge, without an error code.
var errNoBearer = &oautherr.Error{Code: "", Status: http.StatusUnauthorized}

// ParseBearer finds the access token of a protected-resource request: the
// Authorization header with the Bearer scheme (RFC 6750 §2.1, scheme
// matched case-insensitively), or the access_token form parameter of a
// form-encoded POST body (§2.2). Never the query string (§2.3; RFC 9700
// §4.3.2). Two methods at once are invalid_request (RFC 6750 §2); none at
// all is errNoBearer.
func ParseBearer(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	var form url.Values
	// Only a form body can carry the token (RFC 6750 §2.2); any other body
	// is not ours to judge.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && mt == formMediaType {
		f, err := ParseForm(r)
		if err != nil {
			return "", err
		}
		form = f
	}
	bodyToken := form.Get("access_token")
	switch {
	case header != "" && bodyToken != "":
		return "", oautherr.ErrInvalidRequest.WithDescription("Send the access token by one method only.")
	case bodyToken != "":
		return bodyToken, nil
	case header == "":
		return "", errNoBearer
	}
	return parseBearerHeader(header)
}

// parseBearerHeader reads "Bearer b64token" (RFC 6750 §2.1). Another scheme
// counts as no credentials for this resource; a malformed token value is
// invalid_request.
func parseBearerHeader(header string) (string, error) {
	scheme, value, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoBearer
	}
	token := strings.TrimLeft(value, " ")
	if token == "" || !isB64Token(token) {
		return "", oautherr.ErrInvalidRequest.WithDescription("Malformed Bearer credentials.")
	}
	return token, nil
}

// isB64Token checks the RFC 6750 §2.1 b64token syntax:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, r := range body {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '.', r == '_', r == '~', r == '+', r == '/':
		default:
			return false
		}
	}
	return true
}

// WriteBearerError is the one writer of protected-resource errors (RFC 6750
// §3): a Bearer challenge naming the error, with the status RFC 6750 §3.1
// gives it. A request without credentials gets the bare challenge. Faults
// are logged once and answered 500 without their cause.
func WriteBearerError(c *gin.Context, logger *slog.Logger, err error) {
	e := oautherr.From(err)
	if e.Status >= 500 {
		WriteOAuthError(c, logger, err)
		return
	}
	challenge := `Bearer realm="` + bearerRealm + `"`
	if e.Code != "" {
		challenge += `, error="` + e.Code + `"`
		if d := oautherr.Sanitize(e.Description); d != "" {
			challenge += `, error_description="` + d + `"`
		}
	}
	c.Header("WWW-Authenticate", challenge)
	noStore(c)
	if e.Code == "" {
		c.AbortWithStatus(e.Status)
		return
	}
	writeJSON(c, e.Status, errorJSON{Error: e.Code, Description: oautherr.Sanitize(e.Description)})
	c.Abort()
}
