package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestBodyOverLimitInEachDialect: a body declared longer than 1 MiB is
// refused with 413 in the words of the route it was sent to, and the
// connection is closed. A client that asks first (Expect: 100-continue,
// as curl does for large bodies) is answered without sending the body; one
// that just sends it gets the answer too, not a reset: the server reads
// and drops the rest of the body before it closes (lingering close).
func TestBodyOverLimitInEachDialect(t *testing.T) {
	ts := harness.NewTestServer(t)
	pad := strings.Repeat("a", 1<<20)
	tests := []struct {
		name, path, contentType, body string
		want                          string // the whole JSON answer, or a part of the HTML page
	}{
		{name: "OAuth token endpoint", path: "/oauth2/token", contentType: "application/x-www-form-urlencoded",
			body: "grant_type=password&pad=" + pad,
			want: `{"error":"invalid_request","error_description":"The request body is too large."}`},
		{name: "Spryker Glue", path: "/access-tokens", contentType: "application/vnd.api+json",
			body: `{"data":{"type":"access-tokens","attributes":{"username":"` + pad + `"}}}`,
			want: `{"errors":[{"status":413,"detail":"Request body is too large."}]}`},
		{name: "shopKey", path: "/api/v1/" + app.DemoShop + "/customers/login", contentType: "application/json",
			body: `{"email":"` + pad + `"}`,
			want: `{"data":[],"locale":"es","message":"Solicitud demasiado grande","status":413,"success":false}`},
		{name: "hosted login page", path: "/login", contentType: "application/x-www-form-urlencoded",
			body: "email=sonia%40spryker.com&pad=" + pad, want: "The form is too large."},
	}
	for _, tt := range tests {
		for _, expect := range []string{"", "100-continue"} {
			t.Run(tt.name+" expect="+expect, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodPost, ts.URL+tt.path, strings.NewReader(tt.body))
				require.NoError(t, err)
				require.Greater(t, req.ContentLength, int64(1<<20), "the length is declared")
				req.Header.Set("Content-Type", tt.contentType)
				if expect != "" {
					req.Header.Set("Expect", expect)
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				raw, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(raw))
				require.True(t, resp.Close, "Connection: close")
				if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					require.Contains(t, string(raw), tt.want)
					return
				}
				require.True(t, json.Valid(raw))
				require.JSONEq(t, tt.want, string(raw))
			})
		}
	}
}
