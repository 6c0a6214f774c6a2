package shopkey

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/storage"
)

// preflightMaxAge lets browsers reuse a preflight answer for ten minutes.
const preflightMaxAge = "600"

// allowOrigin lets the shop's configured origins read the answer (Fetch
// Standard, CORS protocol). Other origins get no CORS headers, so the
// browser withholds the answer. Vary: Origin is always sent: the answer
// depends on the header, and a shared cache must not hand one origin's
// answer to another.
func allowOrigin(c *gin.Context, shop storage.Shop) {
	c.Writer.Header().Add("Vary", "Origin")
	origin := c.GetHeader("Origin")
	if !originAllowed(origin, shop.CORSOrigins) {
		return
	}
	c.Header("Access-Control-Allow-Origin", origin)
	// Scripts may read the Retry-After of a 429 or 503.
	c.Header("Access-Control-Expose-Headers", "Retry-After")
}

// preflight answers OPTIONS. An allowed origin's preflight lists what the
// routes accept; any other request gets the bare 204, with no CORS
// headers.
func (h *Handler) preflight(c *gin.Context) {
	c.Header("Allow", "POST, OPTIONS")
	// resolveShop has already allowed the origin, or not.
	allowed := c.Writer.Header().Get("Access-Control-Allow-Origin") != ""
	if allowed && c.GetHeader("Access-Control-Request-Method") != "" {
		c.Header("Access-Control-Allow-Methods", "POST, OPTIONS")
		c.Header("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Accept-Language, X-Requested-With")
		c.Header("Access-Control-Max-Age", preflightMaxAge)
	}
	c.Status(http.StatusNoContent)
	c.Abort()
}

// originAllowed compares origins as the browser serializes them (scheme,
// host, port; RFC 6454 §6.2), ignoring case and a configured trailing
// slash. The opaque origin "null" is never allowed.
func originAllowed(origin string, allowed []string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}
