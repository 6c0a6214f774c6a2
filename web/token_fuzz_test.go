package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopauth/shopauth/server/oautherr"
)

// FuzzParseTokenRequest feeds arbitrary bodies and Authorization headers to
// the token endpoint's decoder: it must never panic, and every rejection
// must be an OAuth error whose description stays in the RFC 6749 §5.2
// character set.
func FuzzParseTokenRequest(f *testing.F) {
	f.Add("grant_type=password&username=a%40b.c&password=x&scope=openid", "Basic c3RvcmVmcm9udDpzdG9yZWZyb250LXNlY3JldA==")
	f.Add("grant_type=refresh_token&refresh_token=abc&client_id=x&client_secret=y", "")
	f.Add("a=1&a=2", "Basic !!!")
	f.Add("%zz", "Bearer x")
	f.Fuzz(func(t *testing.T, body, authorization string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" && utf8.ValidString(authorization) && !strings.ContainsAny(authorization, "\r\n") {
			r.Header.Set("Authorization", authorization)
		}
		_, err := ParseTokenRequest(r)
		if err == nil {
			return
		}
		e := oautherr.From(err)
		if e.Status >= 500 {
			t.Fatalf("decoder answered a fault for bad input: %v", err)
		}
		if oautherr.Sanitize(e.Description) != e.Description {
			t.Fatalf("description outside RFC 6749 §5.2 charset: %q", e.Description)
		}
	})
}
