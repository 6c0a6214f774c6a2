package hosted

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"

	"github.com/shopauth/shopauth/server"
)

// errBadForm is a form that cannot be read at all.
var errBadForm = errors.New("hosted: the form could not be read")

// errFormTooLarge is a body over the server's limit.
var errFormTooLarge = errors.New("hosted: the form is too large")

// authorizeParams are the parameters of an authorization request, in the
// order they are carried through the pages.
var authorizeParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint",
}

// ParseAuthorizeRequest reads an authorization request from the query (GET)
// or a form body (POST, OIDC Core §3.1.2.1). Empty parameters count as
// absent and unknown ones are ignored; a repeated one is noted for the
// Authority to refuse (RFC 6749 §3.1).
func ParseAuthorizeRequest(r *http.Request) (server.AuthorizeRequest, error) {
	values := r.URL.Query()
	if r.Method == http.MethodPost {
		form, err := readForm(r)
		if err != nil {
			return server.AuthorizeRequest{}, err
		}
		values = form
	}
	return AuthorizeRequestFrom(values), nil
}

// AuthorizeRequestFrom decodes the authorization parameters of values.
func AuthorizeRequestFrom(values url.Values) server.AuthorizeRequest {
	get := func(name string) string { return firstNonEmpty(values[name]) }
	req := server.AuthorizeRequest{
		ClientID: get("client_id"), RedirectURI: get("redirect_uri"), ResponseType: get("response_type"),
		Scope: get("scope"), State: get("state"), Nonce: get("nonce"),
		CodeChallenge: get("code_challenge"), CodeChallengeMethod: get("code_challenge_method"),
		Prompt: get("prompt"), MaxAge: get("max_age"), LoginHint: get("login_hint"),
	}
	// client_id and redirect_uri first: a repeat of either is shown on a
	// page rather than redirected.
	for _, name := range authorizeParams {
		if nonEmpty(values[name]) > 1 {
			req.Repeated = name
			break
		}
	}
	return req
}

// nonEmpty counts the non-empty values of a parameter: an empty one is as
// good as absent (RFC 6749 §3.1).
func nonEmpty(vs []string) int {
	return len(vs) - len(slices.DeleteFunc(slices.Clone(vs), func(v string) bool { return v != "" }))
}

func firstNonEmpty(vs []string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// LoginForm is what the login page posts.
type LoginForm struct {
	Request  server.AuthorizeRequest
	Email    string
	Password string
	CSRF     string
}

// maxEmailBytes bounds the e-mail field (RFC 5321 §4.5.3.1.3 paths are 256
// octets).
const maxEmailBytes = 320

// ParseLoginForm decodes the login page's form: form-encoded body only,
// no repeated credential fields, bounded sizes.
func ParseLoginForm(r *http.Request) (LoginForm, error) {
	form, err := readForm(r)
	if err != nil {
		return LoginForm{}, err
	}
	for _, name := range []string{"email", "password", "csrf_token"} {
		if len(form[name]) > 1 {
			return LoginForm{}, errBadForm
		}
	}
	f := LoginForm{
		Request:  AuthorizeRequestFrom(form),
		Email:    form.Get("email"),
		Password: form.Get("password"),
		CSRF:     form.Get("csrf_token"),
	}
	if len(f.Email) > maxEmailBytes {
		return LoginForm{}, errBadForm
	}
	return f, nil
}

// readForm reads an application/x-www-form-urlencoded body, never the
// query string.
func readForm(r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errBadForm
	}
	if err := r.ParseForm(); err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return nil, errFormTooLarge
		}
		return nil, errBadForm
	}
	return r.PostForm, nil
}

// logoutParams are the parameters of a logout request, in the order they
// are carried through the confirmation page.
var logoutParams = []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state"}

// logoutValues is the canonical form of a logout request: what the
// confirmation page carries and its CSRF token is bound to.
func logoutValues(r server.LogoutRequest) url.Values {
	v := url.Values{}
	for i, value := range []string{r.IDTokenHint, r.ClientID, r.PostLogoutRedirectURI, r.State} {
		if value != "" {
			v.Set(logoutParams[i], value)
		}
	}
	return v
}

// LogoutRequestFrom decodes an RP-initiated logout request (RP-Initiated
// Logout 1.0 §2).
func LogoutRequestFrom(values url.Values) server.LogoutRequest {
	get := func(name string) string { return firstNonEmpty(values[name]) }
	req := server.LogoutRequest{
		IDTokenHint: get("id_token_hint"), ClientID: get("client_id"),
		PostLogoutRedirectURI: get("post_logout_redirect_uri"), State: get("state"),
	}
	for _, name := range logoutParams {
		if nonEmpty(values[name]) > 1 {
			req.Repeated = name
			break
		}
	}
	return req
}

// maxAccountField bounds every value of an account form: enough for any
// name, address or password the core accepts (it refuses over 1,024
// bytes itself), and a bound on what one request can make it check.
const maxAccountField = 4096

// accountFields are the single-valued fields of the account forms.
var accountFields = []string{
	"email", "firstName", "lastName", "password", "newPassword", "confirmPassword",
	"acceptedTerms", "key", "shop", "csrf_token",
}

// ParseAccountForm decodes an account page's form: form-encoded body only,
// each field at most once and at most maxAccountField bytes, the
// authorization request's parameters as for the login form.
func ParseAccountForm(r *http.Request) (url.Values, error) {
	form, err := readForm(r)
	if err != nil {
		return nil, err
	}
	for _, name := range accountFields {
		if len(form[name]) > 1 {
			return nil, errBadForm
		}
	}
	for _, vs := range form {
		for _, v := range vs {
			if len(v) > maxAccountField {
				return nil, errBadForm
			}
		}
	}
	return form, nil
}
