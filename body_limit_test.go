package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBodyOverLimitInEachDialect: a body declared longer than 1 MiB is
// refused with 413 in the words of the route it was sent to, and the
// connection is closed rather than drained. The client asks first
// (Expect: 100-continue, as curl does for large bodies): the server
// answers without asking for the body, so none of it is sent. Without
// that, a client still writing the body when the server closes may see
// a reset instead of the answer.
func TestBodyOverLimitInEachDialect(t *testing.T) {
	ts := newTestServer(t)
	pad := strings.Repeat("a", 1<<20)
	tests := []struct {
		name, path, contentType, body string
		want                          string // the whole answer
	}{
		{name: "OAuth token endpoint", path: "/oauth2/token", contentType: "application/x-www-form-urlencoded",
			body: "grant_type=password&pad=" + pad,
			want: `{"error":"invalid_request","error_description":"The request body is too large."}`},
		{name: "Spryker Glue", path: "/access-tokens", contentType: "application/vnd.api+json",
			body: `{"data":{"type":"access-tokens","attributes":{"username":"` + pad + `"}}}`,
			want: `{"errors":[{"status":413,"detail":"Request body is too large."}]}`},
		{name: "shopKey", path: "/api/v1/" + demoShop + "/customers/login", contentType: "application/json",
			body: `{"email":"` + pad + `"}`,
			want: `{"data":[],"locale":"es","message":"Solicitud demasiado grande","status":413,"success":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, ts.URL+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			require.Greater(t, req.ContentLength, int64(1<<20), "the length is declared")
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("Expect", "100-continue")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(raw))
			require.True(t, resp.Close, "Connection: close")
			require.True(t, json.Valid(raw))
			require.JSONEq(t, tt.want, string(raw))
		})
	}
}
