package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

const requestIDKey = "request_id"

// deadline gives every request's context a deadline d from its arrival.
// Everything a request waits for (the database, the hashing pool, a
// webhook) takes that context, so no request waits longer: the database
// layer turns the expired deadline into storage.ErrUnavailable, answered
// 503 with Retry-After in the route's dialect.
func deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// RequestID returns the id of the request being served, for logs.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// requestID takes a sane X-Request-ID from the caller (a proxy's) or makes
// one, and echoes it.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !saneRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// accessLog logs one line per request. It logs the route pattern, never the
// raw path or query: paths carry refresh tokens (DELETE
// /refresh-tokens/{token}) and queries may carry anything. Requests for
// the public documents and probes (quiet routes) log at debug: they are the
// bulk of the traffic, say nothing about customers, and their counts and
// latencies are in /metrics; a failure among them still logs as an error.
func accessLog(logger *slog.Logger, quiet map[string]bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		level := slog.LevelInfo
		switch {
		case c.Writer.Status() >= 500:
			level = slog.LevelError
		case quiet[route]:
			level = slog.LevelDebug
		}
		ctx := c.Request.Context()
		if !logger.Enabled(ctx, level) {
			return
		}
		if route == "" {
			route = "(unmatched)"
		}
		logger.LogAttrs(ctx, level, "http request",
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// recoverer turns a panic into a 500 without leaking it.
func recoverer(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				logger.ErrorContext(c.Request.Context(), "panic serving request",
					"request_id", RequestID(c), "route", c.FullPath(), "panic", r)
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "server_error"})
			}
		}()
		c.Next()
	}
}

// limitBody refuses bodies over max bytes: a reader that fails at once when
// the declared length is over, and one that fails past max otherwise.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			// Declared too large: not a byte is read, yet every reader of
			// the body meets the limit at once, so each route answers 413
			// in its own dialect (OAuth error JSON, JSON:API, the shopKey
			// envelope, the login page).
			c.Header("Connection", "close")
			sent := c.Request.Body
			c.Request.Body = exceededBody{limit: max}
			rc := http.NewResponseController(c.Writer)
			_ = rc.EnableFullDuplex() // read what was sent after answering
			c.Next()
			lingerOnBody(rc, sent)
			return
		}
		if c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// A refused body's client may still be sending it when the answer is
// ready. Closing the connection with its bytes unread makes the kernel
// reset it, and the client can lose the answer to the reset. So the
// answer is flushed first, and then up to lingerBytes of the body are read
// and dropped for at most lingerTime (nginx's lingering close): enough for
// an ordinary client to finish writing and read the 413.
const (
	lingerBytes = 4 << 20
	lingerTime  = 2 * time.Second
)

func lingerOnBody(rc *http.ResponseController, body io.Reader) {
	if err := rc.Flush(); err != nil {
		return
	}
	_ = rc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, body, lingerBytes)
}

// exceededBody stands for a body declared longer than limit.
type exceededBody struct{ limit int64 }

func (b exceededBody) Read([]byte) (int, error) { return 0, &http.MaxBytesError{Limit: b.limit} }
func (exceededBody) Close() error               { return nil }
