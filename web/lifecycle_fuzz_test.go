package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
	"github.com/shopauth/shopauth/server/oautherr"
)

// checkRejection fails unless err is a client error (never a fault) whose
// description stays in the RFC 6749 §5.2 character set.
func checkRejection(t *testing.T, err error) {
	t.Helper()
	e := oautherr.From(err)
	if e.Status >= 500 || e.Status < 400 {
		t.Fatalf("decoder answered status %d for bad input: %v", e.Status, err)
	}
	if oautherr.Sanitize(e.Description) != e.Description {
		t.Fatalf("description outside RFC 6749 §5.2 charset: %q", e.Description)
	}
}

func headerSafe(v string) bool {
	return v != "" && utf8.ValidString(v) && !strings.ContainsAny(v, "\r\n")
}

// formRequest is a form-encoded request with body and, when it can be a
// header value, the Authorization header.
func formRequest(method, path, body, authorization string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if headerSafe(authorization) {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

// acceptedForm is what url.ParseQuery reads from a body the decoder
// accepted; it fails t when url.ParseQuery rejects it.
func acceptedForm(t *testing.T, body string) url.Values {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("accepted a body url.ParseQuery rejects: %v", err)
	}
	return form
}

// FuzzParseBearer feeds arbitrary Authorization headers and bodies to the
// UserInfo credential decoder: no panic, client errors only, and a token it
// accepts is the body's access_token or a b64token (RFC 6750 §2.1).
func FuzzParseBearer(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "", true)
	f.Add("bearer abc==", "", false)
	f.Add("", "access_token=abc", true)
	f.Add("Bearer x", "access_token=y", true)
	f.Add("Bearer   ", "access_token=a&access_token=b", true)
	f.Add("Basic Zm9vOmJhcg==", "%zz", true)
	f.Fuzz(func(t *testing.T, authorization, body string, post bool) {
		fuzzdeadline.Run(t, func() {
			method := http.MethodGet
			if post {
				method = http.MethodPost
			}
			token, err := ParseBearer(formRequest(method, "/userinfo", body, authorization))
			if err != nil {
				checkRejection(t, err)
				return
			}
			if token == "" {
				t.Fatal("accepted an empty token")
			}
			if form, _ := url.ParseQuery(body); post && form.Get("access_token") == token {
				return
			}
			if !isB64Token(token) {
				t.Fatalf("accepted a header token outside the b64token syntax: %q", token)
			}
		})
	})
}

// FuzzParseTokenQuery feeds arbitrary bodies and Authorization headers to
// the revocation and introspection decoder: no panic, client errors only,
// and what it accepts is what the form said.
func FuzzParseTokenQuery(f *testing.F) {
	f.Add("token=abc&token_type_hint=refresh_token", "Basic c3RvcmVmcm9udDpzdG9yZWZyb250LXNlY3JldA==")
	f.Add("token=abc&client_id=spa", "")
	f.Add("token=a&token=b", "")
	f.Add("token=abc&client_id=x&client_secret=y", "Basic eDp5")
	f.Add("%zz", "Bearer x")
	f.Fuzz(func(t *testing.T, body, authorization string) {
		fuzzdeadline.Run(t, func() {
			q, err := ParseTokenQuery(formRequest(http.MethodPost, "/oauth2/revoke", body, authorization))
			if err != nil {
				checkRejection(t, err)
				return
			}
			form := acceptedForm(t, body)
			if q.Token != form.Get("token") || q.TokenTypeHint != form.Get("token_type_hint") {
				t.Fatalf("decoded %+v from %q", q, body)
			}
		})
	})
}
