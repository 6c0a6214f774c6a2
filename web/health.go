package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

type health struct {
	ready func(ctx context.Context) error
}

// Mount adds /healthz (the process is up) and /readyz (it can serve tokens).
func (h *health) Mount(r gin.IRouter) {
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/readyz", func(c *gin.Context) {
		if err := h.ready(c.Request.Context()); err != nil {
			// The reason is for operators' logs and probes, and names no secret.
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": err.Error()})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	})
}
