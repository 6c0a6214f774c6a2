package web

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// Switch is the server's handler while it starts: it serves one handler
// until Set replaces it. serve listens at once with Starting behind a
// Switch, so probes get answers while it waits for the database, and
// swaps the engine in when the wiring is done.
type Switch struct {
	h atomic.Pointer[http.Handler]
}

// NewSwitch returns a Switch serving h.
func NewSwitch(h http.Handler) *Switch {
	s := &Switch{}
	s.Set(h)
	return s
}

// Set makes h serve every request from now on.
func (s *Switch) Set(h http.Handler) { s.h.Store(&h) }

func (s *Switch) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }

// startingRetryAfter is the Retry-After of the answers while starting.
const startingRetryAfter = 5

// Starting answers while the server waits for its database: /healthz is
// 200 (the process is alive: a liveness probe must not restart it for
// waiting), /readyz is 503 (no traffic yet), and every other request 503
// with Retry-After and an RFC 6749 temporarily_unavailable body; a load
// balancer that sends traffic anyway gets a clear refusal, not a reset.
func Starting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case "/readyz":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","reason":"starting: waiting for the database"}`))
		default:
			h.Set("Retry-After", strconv.Itoa(startingRetryAfter))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"the server is starting"}`))
		}
	})
}
