package hosted

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
)

// FuzzParseAuthorizeRequest feeds arbitrary query strings to the
// authorization endpoint's decoder: it never panics, never reports a
// repeat that is not there, and what it decodes survives the trip through
// the pages' hidden fields (Values) unchanged.
func FuzzParseAuthorizeRequest(f *testing.F) {
	f.Add("client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
	f.Add("client_id=a&client_id=b&prompt=none+login&max_age=-1")
	f.Add("scope=&scope=openid&nonce=%zz&login_hint=%E2%80%AE")
	f.Fuzz(func(t *testing.T, query string) {
		fuzzdeadline.Run(t, func() {
			r := httptest.NewRequest(http.MethodGet, "/oauth2/authorize", nil)
			r.URL.RawQuery = query
			req, err := ParseAuthorizeRequest(r)
			if err != nil {
				t.Fatalf("a GET request always decodes: %v", err)
			}
			values := r.URL.Query()
			if req.Repeated != "" && nonEmpty(values[req.Repeated]) < 2 {
				t.Fatalf("%s reported repeated but is not", req.Repeated)
			}
			if req.Repeated == "" {
				again := AuthorizeRequestFrom(req.Values())
				if again != req {
					t.Fatalf("round trip changed the request:\n%+v\n%+v", req, again)
				}
			}
		})
	})
}

// FuzzParseLoginForm feeds arbitrary bodies to the login form's decoder:
// it never panics, keeps the e-mail bounded, and never takes a repeated
// credential field.
func FuzzParseLoginForm(f *testing.F) {
	f.Add("email=sonia%40spryker.com&password=change123&csrf_token=abc&client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb")
	f.Add("password=a&password=b")
	f.Add("email=" + strings.Repeat("a", 400))
	f.Add("%zz&=")
	f.Fuzz(func(t *testing.T, body string) {
		fuzzdeadline.Run(t, func() {
			r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			form, err := ParseLoginForm(r)
			if err != nil {
				return
			}
			if len(form.Email) > maxEmailBytes {
				t.Fatalf("e-mail of %d bytes accepted", len(form.Email))
			}
			parsed, _ := url.ParseQuery(body)
			for _, name := range []string{"email", "password", "csrf_token"} {
				if len(parsed[name]) > 1 {
					t.Fatalf("repeated %s accepted", name)
				}
			}
			if form.Password != parsed.Get("password") {
				t.Fatalf("password decoded as %q, sent %q", form.Password, parsed.Get("password"))
			}
		})
	})
}

// FuzzParseAccountForm: an accepted account form never has a field twice
// or a value over the bound, and reads back what was sent.
func FuzzParseAccountForm(f *testing.F) {
	f.Add("shop=acme&firstName=Luc%C3%ADa&lastName=Garc%C3%ADa&email=l%40example.es&password=p&confirmPassword=p&acceptedTerms=true&csrf_token=x")
	f.Add("key=a&key=b")
	f.Add("firstName=" + strings.Repeat("A", maxAccountField+1))
	f.Add("firstName=%3Cscript%3E&email=%FF")
	f.Add("%zz&=")
	f.Fuzz(func(t *testing.T, body string) {
		fuzzdeadline.Run(t, func() {
			r := httptest.NewRequest(http.MethodPost, "/account/register", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			form, err := ParseAccountForm(r)
			if err != nil {
				return
			}
			for _, name := range accountFields {
				if len(form[name]) > 1 {
					t.Fatalf("repeated %s accepted", name)
				}
			}
			for name, vs := range form {
				for _, v := range vs {
					if len(v) > maxAccountField {
						t.Fatalf("%s of %d bytes accepted", name, len(v))
					}
				}
			}
			parsed, _ := url.ParseQuery(body)
			if form.Get("password") != parsed.Get("password") {
				t.Fatalf("password decoded as %q, sent %q", form.Get("password"), parsed.Get("password"))
			}
		})
	})
}
