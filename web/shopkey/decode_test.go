package shopkey

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/web"
)

const (
	jsonType  = "application/json"
	formType  = "application/x-www-form-urlencoded"
	cartToken = "sadsdfuh3r4bibcjsdh8sdssd9hs78dh"
)

func request(contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/acme12aa/customers/login", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestDecodeLogin(t *testing.T) {
	long := strings.Repeat("a", 10_000)
	tests := []struct {
		name        string
		contentType string
		body        string
		want        loginInput
		wantStatus  int         // 0: success
		wantFields  fieldErrors // English, for 422
	}{
		{name: "json", contentType: jsonType,
			body: `{"_method":"POST","email":" Sonia@Spryker.com ","password":" change123 ","token":"` + cartToken + `"}`,
			want: loginInput{Email: "Sonia@Spryker.com", Password: " change123 ", Token: cartToken}},
		{name: "json with charset and unknown fields", contentType: "application/json; charset=utf-8",
			body: `{"email":"sonia@spryker.com","password":"change123","remember":true,"extra":{"a":[1]}}`,
			want: loginInput{Email: "sonia@spryker.com", Password: "change123"}},
		{name: "json null is absent", contentType: jsonType,
			body: `{"email":"sonia@spryker.com","password":"change123","token":null}`,
			want: loginInput{Email: "sonia@spryker.com", Password: "change123"}},
		{name: "form", contentType: formType,
			body: url.Values{"_method": {"post"}, "email": {"sonia@spryker.com"}, "password": {"ch@nge 123&="}, "token": {cartToken}}.Encode(),
			want: loginInput{Email: "sonia@spryker.com", Password: "ch@nge 123&=", Token: cartToken}},
		{name: "unicode password and e-mail", contentType: jsonType,
			body: `{"email":"sönia@bücher.example","password":"contraseña☃"}`,
			want: loginInput{Email: "sönia@bücher.example", Password: "contraseña☃"}},
		{name: "empty token is no token", contentType: formType, body: "email=a%40b.example&password=x&token=",
			want: loginInput{Email: "a@b.example", Password: "x"}},

		{name: "_method DELETE", contentType: jsonType, body: `{"_method":"DELETE","email":"a@b.example","password":"x"}`, wantStatus: 405},
		{name: "_method PUT in a form", contentType: formType, body: "_method=PUT", wantStatus: 405},
		{name: "_method repeated", contentType: formType, body: "_method=POST&_method=POST&email=a%40b.example&password=x", wantStatus: 400},
		{name: "_method not a string", contentType: jsonType, body: `{"_method":1}`, wantStatus: 400},

		{name: "malformed json", contentType: jsonType, body: `{"email":`, wantStatus: 400},
		{name: "json array", contentType: jsonType, body: `[{"email":"a@b.example"}]`, wantStatus: 400},
		{name: "json string", contentType: jsonType, body: `"hello"`, wantStatus: 400},
		{name: "trailing data", contentType: jsonType, body: `{"email":"a@b.example","password":"x"}{}`, wantStatus: 400},
		{name: "bad form escape", contentType: formType, body: "email=%zz&password=x", wantStatus: 400},
		{name: "unsupported media type", contentType: "text/plain", body: "email=a", wantStatus: 400},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", body: "--x--", wantStatus: 400},
		{name: "body without content type", body: `{"email":"a@b.example"}`, wantStatus: 400},

		{name: "empty body", wantStatus: 422, wantFields: fieldErrors{
			Email: []string{"The email field is required."}, Password: []string{"The password field is required."}}},
		{name: "empty object", contentType: jsonType, body: `{}`, wantStatus: 422, wantFields: fieldErrors{
			Email: []string{"The email field is required."}, Password: []string{"The password field is required."}}},
		{name: "blank fields", contentType: jsonType, body: `{"email":"   ","password":""}`, wantStatus: 422, wantFields: fieldErrors{
			Email: []string{"The email field is required."}, Password: []string{"The password field is required."}}},
		{name: "invalid e-mail", contentType: formType, body: "email=sonia&password=x", wantStatus: 422, wantFields: fieldErrors{
			Email: []string{"The email must be a valid email address."}}},
		{name: "e-mail with display name", contentType: jsonType, body: `{"email":"Sonia <sonia@spryker.com>","password":"x"}`, wantStatus: 422,
			wantFields: fieldErrors{Email: []string{"The email must be a valid email address."}}},
		{name: "repeated form fields", contentType: formType, body: "email=a%40b.example&email=c%40d.example&password=x&password=y", wantStatus: 422,
			wantFields: fieldErrors{Email: []string{"The email field must not be repeated."}, Password: []string{"The password field must not be repeated."}}},
		{name: "repeated json keys", contentType: jsonType, body: `{"email":"a@b.example","password":"x","email":"c@d.example"}`, wantStatus: 422,
			wantFields: fieldErrors{Email: []string{"The email field must not be repeated."}}},
		{name: "numbers are not strings", contentType: jsonType, body: `{"email":42,"password":123456}`, wantStatus: 422,
			wantFields: fieldErrors{Email: []string{"The email must be a string."}, Password: []string{"The password must be a string."}}},
		{name: "invalid UTF-8 in a form", contentType: formType, body: "email=a%40b.example&password=%ff%fe", wantStatus: 422,
			wantFields: fieldErrors{Password: []string{"The password must be a string."}}},
		{name: "invalid UTF-8 in json", contentType: jsonType, body: "{\"email\":\"a@b.example\",\"password\":\"\xff\"}", wantStatus: 422,
			wantFields: fieldErrors{Password: []string{"The password must be a string."}}},
		{name: "10,000-character fields", contentType: jsonType,
			body: `{"email":"` + long + `@b.example","password":"` + long + `","token":"` + long + `"}`, wantStatus: 422,
			wantFields: fieldErrors{
				Email:    []string{"The email must be a valid email address."},
				Password: []string{"The password may not be greater than 1024 characters."},
				Token:    []string{"The token must be 32 letters or digits."}}},
		{name: "32-character token with non-alphanumerics", contentType: jsonType,
			body: `{"email":"a@b.example","password":"x","token":"sadsdfuh3r4bibcjsdh8sdssd9hs78d!"}`, wantStatus: 422,
			wantFields: fieldErrors{Token: []string{"The token must be 32 letters or digits."}}},
		{name: "32-byte token with unicode", contentType: jsonType,
			body: `{"email":"a@b.example","password":"x","token":"ñadsdfuh3r4bibcjsdh8sdssd9hs78d"}`, wantStatus: 422,
			wantFields: fieldErrors{Token: []string{"The token must be 32 letters or digits."}}},
		{name: "short token", contentType: formType, body: "email=a%40b.example&password=x&token=abc", wantStatus: 422,
			wantFields: fieldErrors{Token: []string{"The token must be 32 letters or digits."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeLogin(request(tt.contentType, tt.body))
			if tt.wantStatus == 0 {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			var in *inputError
			require.ErrorAs(t, err, &in)
			require.Equal(t, tt.wantStatus, in.status)
			if tt.wantStatus != 422 {
				require.Nil(t, in.fields)
				return
			}
			require.Equal(t, tt.wantFields, in.fields(localeEN))
		})
	}
}

func TestDecodeLoginSpanish(t *testing.T) {
	_, err := decodeLogin(request(jsonType, `{"email":"sonia"}`))
	var in *inputError
	require.ErrorAs(t, err, &in)
	require.Equal(t, fieldErrors{
		Email:    []string{"El campo email debe ser una dirección de correo válida."},
		Password: []string{"El campo password es obligatorio."},
	}, in.fields(localeES))
}

func TestDecodeBodyTooLarge(t *testing.T) {
	r := request(jsonType, `{"email":"`+strings.Repeat("a", 2000)+`"}`)
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
	_, err := decodeLogin(r)
	var in *inputError
	require.ErrorAs(t, err, &in)
	require.Equal(t, http.StatusRequestEntityTooLarge, in.status)
}

func TestBearerToken(t *testing.T) {
	tests := []struct{ header, want string }{
		{"Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"},
		{"bearer abc", "abc"},
		{"BEARER   abc==", "abc=="},
		{"", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"Basic abc", ""},
		{"Bearer a b", ""},
		{"Bearer ===", ""},
		{"Bearer ñ", ""},
		{"Bearer " + strings.Repeat("a", web.MaxBearerLength+1), ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, bearerToken(tt.header), "%q", tt.header)
	}
}

// FuzzDecode feeds the JSON and the form decoder arbitrary bodies. Neither
// may panic; every answer is a success whose fields obey the rules, or one
// of the dialect's input errors.
func FuzzDecode(f *testing.F) {
	seeds := []struct {
		form bool
		body string
	}{
		{false, `{"_method":"POST","email":"sonia@spryker.com","password":"change123","token":"` + cartToken + `"}`},
		{false, `{"email":"a@b.example","password":"x","email":null}`},
		{false, `{"email":1,"password":{"a":[1,2]},"token":true}`},
		{false, "{\"password\":\"\xff\"}"},
		{false, `[]`},
		{false, `{"email":"a@b.example"} x`},
		{true, "_method=POST&email=sonia%40spryker.com&password=change123&token=" + cartToken},
		{true, "email=a&email=b&password=%ff"},
		{true, "_method=PATCH"},
		{true, "%zz=1"},
	}
	for _, s := range seeds {
		f.Add(s.form, s.body)
	}
	f.Fuzz(func(t *testing.T, form bool, body string) {
		fuzzdeadline.Run(t, func() {
			contentType := jsonType
			if form {
				contentType = formType
			}
			got, err := decodeLogin(request(contentType, body))
			if err != nil {
				var in *inputError
				require.ErrorAs(t, err, &in)
				require.Contains(t, []int{400, 405, 413, 422}, in.status)
				if in.fields != nil {
					require.False(t, func() bool { fe := in.fields(localeES); return fe.empty() }(), "422 without field errors")
				}
				return
			}
			require.NotEmpty(t, got.Email)
			require.True(t, validEmail(got.Email))
			require.NotEmpty(t, got.Password)
			require.LessOrEqual(t, len(got.Password), server.MaxPasswordBytes)
			require.True(t, utf8.ValidString(got.Password))
			require.True(t, got.Token == "" || validCartToken(got.Token))
			require.NoError(t, decodeBody(request(contentType, body)))
		})
	})
}
