package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	core "github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/server/refusal"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the offending request field (invalid-field).
	Field string `json:"field,omitempty"`
}

// ProblemBase starts every problem type URI: a stable name, listed in
// docs/admin.md ("Errors"), not a page to fetch.
const ProblemBase = "urn:shopauth:admin:problem:"

// problemKinds are the problems: their slug (the type's last part), title
// and status.
var problemKinds = map[string]struct {
	title  string
	status int
}{
	"invalid-body":           {"The request body is not valid JSON for this resource", http.StatusBadRequest},
	"invalid-field":          {"A field is missing or invalid", http.StatusBadRequest},
	"invalid-parameter":      {"A query parameter is invalid", http.StatusBadRequest},
	"unauthorized":           {"An admin client's access token is required", http.StatusUnauthorized},
	"forbidden":              {"The admin client may not do this", http.StatusForbidden},
	"not-found":              {"No such resource", http.StatusNotFound},
	"method-not-allowed":     {"The resource does not allow this method", http.StatusMethodNotAllowed},
	"conflict":               {"The resource exists already", http.StatusConflict},
	"precondition-failed":    {"The resource changed since it was read", http.StatusPreconditionFailed},
	"body-too-large":         {"The request body is too large", http.StatusRequestEntityTooLarge},
	"unsupported-media-type": {"The request body must be application/json", http.StatusUnsupportedMediaType},
	"precondition-required":  {"This update needs an If-Match header with the resource's ETag", http.StatusPreconditionRequired},
	"not-implemented":        {"The server is not set up for this", http.StatusNotImplemented},
	"unavailable":            {"The server cannot answer now; try again", http.StatusServiceUnavailable},
	"internal":               {"Something went wrong on the server", http.StatusInternalServerError},
}

// problemError is a problem a handler answers with.
type problemError struct {
	slug, detail, field string
}

func (e *problemError) Error() string { return e.slug + ": " + e.detail }

func fail(slug, detail string) error { return &problemError{slug: slug, detail: detail} }

// ProblemOf maps an error to its problem and, for 503, the Retry-After
// seconds.
func ProblemOf(err error) (Problem, int) {
	slug, detail, field, retry := "internal", "", "", 0
	var pe *problemError
	var ce *core.Error
	switch {
	case errors.As(err, &pe):
		slug, detail, field = pe.slug, pe.detail, pe.field
	case errors.As(err, &ce):
		detail, field = ce.Message, ce.Field
		switch ce.Kind {
		case core.Invalid:
			slug = "invalid-field"
			if field == "limit" || field == "cursor" {
				slug = "invalid-parameter"
			}
		case core.NotFound:
			slug = "not-found"
		case core.Conflict:
			slug = "conflict"
		case core.PreconditionFailed:
			slug = "precondition-failed"
		case core.Forbidden:
			slug = "forbidden"
		case core.Unsupported:
			slug = "not-implemented"
		}
	default:
		if r := refusal.Of(err); r.Kind == refusal.Unavailable {
			slug, retry = "unavailable", max(r.RetryAfterSeconds(), 1)
		}
	}
	k := problemKinds[slug]
	return Problem{Type: ProblemBase + slug, Title: k.title, Status: k.status, Detail: detail, Field: field}, retry
}

// writeProblem answers err as application/problem+json; a fault is
// logged once, here, without its cause reaching the client.
func writeProblem(c *gin.Context, logger *slog.Logger, err error) {
	p, retry := ProblemOf(err)
	if p.Status >= 500 && p.Status != http.StatusNotImplemented {
		logger.ErrorContext(c.Request.Context(), "admin request failed", "path", c.FullPath(), "err", err)
	}
	if retry > 0 {
		c.Header("Retry-After", strconv.Itoa(retry))
	}
	if p.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="shopauth"`)
	}
	c.Header("Cache-Control", "no-store")
	c.Render(p.Status, problemJSON{p})
	c.Abort()
}

type problemJSON struct{ p Problem }

func (r problemJSON) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	b, err := jsonMarshal(r.p)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (problemJSON) WriteContentType(w http.ResponseWriter) {
	w.Header()["Content-Type"] = []string{"application/problem+json"}
}
