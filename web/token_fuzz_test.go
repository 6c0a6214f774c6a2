package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
	"github.com/shopauth/shopauth/server"
)

// FuzzParseTokenRequest feeds arbitrary bodies and Authorization headers to
// the token endpoint's decoder: it must never panic; every rejection must be
// a client error whose description stays in the RFC 6749 §5.2 character
// set; and what it accepts must be what url.ParseQuery reads from the body,
// no parameter repeated, with exactly one client authentication method.
//
// Mutants (web/token.go): drop the repeated-parameter check in ParseForm
// (seed "a=1&a=2" is accepted: "accepted the repeated parameter"); read a
// field from the wrong parameter, e.g. Username from "password" (seed 1:
// "Username = …").
func FuzzParseTokenRequest(f *testing.F) {
	f.Add("grant_type=password&username=a%40b.c&password=x&scope=openid", "Basic c3RvcmVmcm9udDpzdG9yZWZyb250LXNlY3JldA==")
	f.Add("grant_type=refresh_token&refresh_token=abc&client_id=x&client_secret=y", "")
	f.Add("grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fshop.example%2Fcb&code_verifier=v&client_id=spa&nonce=n&shop=demo", "")
	f.Add("a=1&a=2", "")
	f.Add("a=1&a=2", "Basic !!!")
	f.Add("%zz", "Bearer x")
	f.Fuzz(func(t *testing.T, body, authorization string) {
		fuzzdeadline.Run(t, func() {
			r := formRequest(http.MethodPost, "/oauth2/token", body, authorization)
			req, err := ParseTokenRequest(r)
			if err != nil {
				checkRejection(t, err)
				return
			}
			form := acceptedForm(t, body)
			for k, v := range form {
				if len(v) > 1 {
					t.Fatalf("accepted the repeated parameter %q", k)
				}
			}
			for _, f := range []struct{ field, got, param string }{
				{"GrantType", req.GrantType, "grant_type"},
				{"Username", req.Username, "username"},
				{"Password", req.Password, "password"},
				{"RefreshToken", req.RefreshToken, "refresh_token"},
				{"Scope", req.Scope, "scope"},
				{"Code", req.Code, "code"},
				{"RedirectURI", req.RedirectURI, "redirect_uri"},
				{"CodeVerifier", req.CodeVerifier, "code_verifier"},
				{"Nonce", req.Nonce, "nonce"},
				{"ShopKey", req.ShopKey, "shop"},
			} {
				if want := form.Get(f.param); f.got != want {
					t.Fatalf("%s = %q, want %s=%q from %q", f.field, f.got, f.param, want, body)
				}
			}
			checkClientCredentials(t, r, form, req.Client)
		})
	})
}

// checkClientCredentials: with an Authorization header the client used
// HTTP Basic (and the body names no other credentials); without one, the
// body's client_id and client_secret (RFC 6749 §2.3.1).
func checkClientCredentials(t *testing.T, r *http.Request, form url.Values, got server.ClientCredentials) {
	t.Helper()
	bodyID, bodySecret := form.Get("client_id"), form.Get("client_secret")
	if r.Header.Get("Authorization") == "" {
		want := server.ClientCredentials{ID: bodyID, Secret: bodySecret, Method: server.ClientAuthNone}
		if bodySecret != "" {
			want.Method = server.ClientAuthPost
		}
		if got != want {
			t.Fatalf("client %+v, want %+v from the body", got, want)
		}
		return
	}
	if got.Method != server.ClientAuthBasic || got.ID == "" {
		t.Fatalf("client %+v, want HTTP Basic with an id", got)
	}
	if bodySecret != "" || bodyID != "" && bodyID != got.ID {
		t.Fatalf("accepted Basic and body credentials together: %+v, body client_id=%q", got, bodyID)
	}
	// net/http's reading of the header, form-decoded as RFC 6749 §2.3.1 asks.
	if rawID, rawSecret, ok := r.BasicAuth(); ok {
		id, errID := url.QueryUnescape(rawID)
		secret, errSecret := url.QueryUnescape(rawSecret)
		if errID == nil && errSecret == nil && (got.ID != id || got.Secret != secret) {
			t.Fatalf("client %+v, want id %q secret %q from the header", got, id, secret)
		}
	}
}
