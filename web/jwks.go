package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

type jwksHandler struct {
	keys KeyPublisher
}

// Mount adds the JWKS route (RFC 7517). The bytes are prebuilt by the key
// manager; this handler only copies them out.
func (h *jwksHandler) Mount(r gin.IRouter) {
	r.GET("/.well-known/jwks.json", func(c *gin.Context) {
		maxAge := int(h.keys.JWKSMaxAge().Seconds())
		c.Header("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
		c.Header("Access-Control-Allow-Origin", "*")
		c.Data(http.StatusOK, "application/json", h.keys.JWKS())
	})
}
