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
	token, problem := ParseBearerHeader(header)
	switch problem {
	case BearerAbsent, BearerOtherScheme:
		return "", errNoBearer
	case BearerMalformed:
		return "", oautherr.ErrInvalidRequest.WithDescription("Malformed Bearer credentials.")
	case BearerOversized:
		// No token of ours is this long: what verifying it would answer.
		return "", oautherr.ErrInvalidToken
	}
	return token, nil
}

// BearerProblem is why an Authorization header yields no Bearer token.
// Each dialect answers each in its own words.
type BearerProblem int

// Bearer header problems.
const (
	// BearerOK: the header carries a well-formed Bearer token.
	BearerOK BearerProblem = iota
	// BearerAbsent: no Authorization header, or only whitespace.
	BearerAbsent
	// BearerOtherScheme: another scheme (Basic, …), or no scheme at all.
	BearerOtherScheme
	// BearerMalformed: the Bearer scheme with a value that is not a
	// b64token (RFC 6750 §2.1): empty, with spaces, quotes, non-ASCII, or
	// padding alone.
	BearerMalformed
	// BearerOversized: a b64token longer than MaxBearerLength, which no
	// token of this server is.
	BearerOversized
)

// MaxBearerLength bounds a Bearer token; shopauth's are far shorter, and
// nothing longer reaches a JWT parser.
const MaxBearerLength = 8 << 10

// ParseBearerHeader is the one reader of `Authorization: Bearer b64token`
// (RFC 6750 §2.1) for every dialect. Surrounding whitespace is ignored, the
// scheme is matched case-insensitively (RFC 9110 §11.1) and separated from
// the token by one or more spaces.
func ParseBearerHeader(header string) (string, BearerProblem) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", BearerAbsent
	}
	scheme, value, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", BearerOtherScheme
	}
	token := strings.TrimLeft(value, " ")
	if !isB64Token(token) {
		return "", BearerMalformed
	}
	if len(token) > MaxBearerLength {
		return "", BearerOversized
	}
	return token, BearerOK
}

// isB64Token checks the RFC 6750 §2.1 b64token syntax:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
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
