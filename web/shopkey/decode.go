package shopkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
)

// Field names of the login body (docs/shopkey.md).
const (
	fieldNameMethod   = "_method"
	fieldNameEmail    = "email"
	fieldNamePassword = "password"
	fieldNameToken    = "token"
)

// maxEmailLength is RFC 5321 §4.5.3.1's limit on a forward path, which
// every deliverable address fits.
const maxEmailLength = 254

// loginInput is a decoded, validated login body.
type loginInput struct {
	Email    string
	Password string
	Token    string // empty: no anonymous cart
}

// fieldErrors are the 422 answer's `data.errors`, in the order the fields
// appear in the spec.
type fieldErrors struct {
	Email    []string `json:"email,omitempty"`
	Password []string `json:"password,omitempty"`
	Token    []string `json:"token,omitempty"`
}

func (f *fieldErrors) empty() bool { return len(f.Email)+len(f.Password)+len(f.Token) == 0 }

// inputError is a request this dialect refuses before calling the core:
// 400 (unreadable body), 405 (`_method` other than POST), 413 or 422 (field
// errors).
type inputError struct {
	status  int
	message message
	fields  func(locale string) fieldErrors // only for 422
}

func (e *inputError) Error() string { return "shopkey: bad input (" + strconv.Itoa(e.status) + ")" }

var (
	errBadRequest       = &inputError{status: http.StatusBadRequest, message: msgBadRequest}
	errTooLarge         = &inputError{status: http.StatusRequestEntityTooLarge, message: msgTooLarge}
	errMethodNotAllowed = &inputError{status: http.StatusMethodNotAllowed, message: msgMethodNotAllowed}
)

// bodyValue is one field of a body: every value it was given, and whether
// any of them was not a string (JSON numbers, objects, …; invalid UTF-8).
type bodyValue struct {
	values    []string
	malformed bool
}

// readBody reads a JSON or form body into its fields. An empty body
// without a content type has no fields; anything unreadable is 400.
func readBody(r *http.Request) (map[string]*bodyValue, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		return nil, errBadRequest
	}
	contentType := r.Header.Get("Content-Type")
	if contentType == "" && len(bytes.TrimSpace(raw)) == 0 {
		return map[string]*bodyValue{}, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return nil, errBadRequest
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return readJSON(raw)
	case mt == "application/x-www-form-urlencoded":
		return readForm(raw)
	}
	return nil, errBadRequest
}

// readJSON reads one JSON object. Keys may repeat (they are recorded, and
// judged like repeated form fields); null means absent.
func readJSON(raw []byte) (map[string]*bodyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errBadRequest
	}
	fields := map[string]*bodyValue{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errBadRequest
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errBadRequest
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, errBadRequest
		}
		if string(value) == "null" {
			continue
		}
		f := fieldOf(fields, key)
		var s string
		// encoding/json replaces invalid UTF-8 with U+FFFD; refuse it
		// instead, as the form decoder does, so a password is never
		// silently altered.
		if value[0] != '"' || !utf8.Valid(value) || json.Unmarshal(value, &s) != nil {
			f.malformed = true
		}
		f.values = append(f.values, s)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errBadRequest
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errBadRequest // trailing data after the object
	}
	return fields, nil
}

// readForm reads application/x-www-form-urlencoded (the WHATWG URL
// Standard's form encoding).
func readForm(raw []byte) (map[string]*bodyValue, error) {
	values, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, errBadRequest
	}
	fields := map[string]*bodyValue{}
	for key, vs := range values {
		f := fieldOf(fields, key)
		for _, v := range vs {
			if !utf8.ValidString(v) {
				f.malformed = true
			}
			f.values = append(f.values, v)
		}
	}
	return fields, nil
}

func fieldOf(fields map[string]*bodyValue, key string) *bodyValue {
	f, ok := fields[key]
	if !ok {
		f = &bodyValue{}
		fields[key] = f
	}
	return f
}

// checkMethod applies Laravel's method spoofing: `_method` may say POST
// (in any case), anything else is 405 (docs/shopkey.md, Transport).
func checkMethod(fields map[string]*bodyValue) error {
	f, ok := fields[fieldNameMethod]
	if !ok {
		return nil
	}
	if len(f.values) != 1 || f.malformed {
		return errBadRequest
	}
	if !strings.EqualFold(strings.TrimSpace(f.values[0]), http.MethodPost) {
		return errMethodNotAllowed
	}
	return nil
}

// decodeBody reads a private route's body: it may be empty, and only
// `_method` is looked at.
func decodeBody(r *http.Request) error {
	fields, err := readBody(r)
	if err != nil {
		return err
	}
	return checkMethod(fields)
}

// decodeLogin reads and validates a login body. Unknown fields are ignored,
// as the legacy API did.
func decodeLogin(r *http.Request) (loginInput, error) {
	fields, err := readBody(r)
	if err != nil {
		return loginInput{}, err
	}
	if err := checkMethod(fields); err != nil {
		return loginInput{}, err
	}
	var (
		in       loginInput
		problems []func(locale string) (field string, text string)
	)
	add := func(field string, m message, replacements ...string) {
		problems = append(problems, func(locale string) (string, string) {
			return field, text(locale, m, append([]string{":attribute", field}, replacements...)...)
		})
	}
	// Laravel trims every string but passwords (TrimStrings middleware).
	email, state := single(fields, fieldNameEmail, true)
	switch {
	case state != valueOK:
		add(fieldNameEmail, state.message())
	case email == "":
		add(fieldNameEmail, fieldRequired)
	case !validEmail(email):
		add(fieldNameEmail, fieldEmail)
	}
	in.Email = email

	password, state := single(fields, fieldNamePassword, false)
	switch {
	case state != valueOK:
		add(fieldNamePassword, state.message())
	case password == "":
		add(fieldNamePassword, fieldRequired)
	case len(password) > customers.MaxPasswordBytes:
		add(fieldNamePassword, fieldMaxLength, ":max", strconv.Itoa(customers.MaxPasswordBytes))
	}
	in.Password = password

	token, state := single(fields, fieldNameToken, true)
	switch {
	case state != valueOK:
		add(fieldNameToken, state.message())
	case token != "" && !validCartToken(token):
		add(fieldNameToken, fieldCartToken)
	}
	in.Token = token

	if len(problems) > 0 {
		return loginInput{}, &inputError{status: http.StatusUnprocessableEntity, message: msgInvalidData,
			fields: func(locale string) fieldErrors {
				var fe fieldErrors
				for _, p := range problems {
					field, t := p(locale)
					switch field {
					case fieldNameEmail:
						fe.Email = append(fe.Email, t)
					case fieldNamePassword:
						fe.Password = append(fe.Password, t)
					case fieldNameToken:
						fe.Token = append(fe.Token, t)
					}
				}
				return fe
			}}
	}
	return in, nil
}

// valueState says why a field could not be read.
type valueState int

const (
	valueOK valueState = iota
	valueRepeated
	valueMalformed
)

func (s valueState) message() message {
	if s == valueRepeated {
		return fieldRepeated
	}
	return fieldString
}

// single returns the one value of a field ("" when absent).
func single(fields map[string]*bodyValue, name string, trim bool) (string, valueState) {
	f, ok := fields[name]
	switch {
	case !ok:
		return "", valueOK
	case len(f.values) > 1:
		return "", valueRepeated
	case f.malformed:
		return "", valueMalformed
	}
	v := f.values[0]
	if trim {
		v = strings.TrimSpace(v)
	}
	return v, valueOK
}

// validEmail accepts a bare addr-spec (RFC 5322 §3.4.1, with RFC 6532's
// UTF-8) of deliverable length: no display name, no comments.
func validEmail(s string) bool {
	if len(s) > maxEmailLength || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Name == "" && addr.Address == s
}

// validCartToken reports whether s has the anonymous cart token's form: 32
// ASCII letters and digits.
func validCartToken(s string) bool {
	if len(s) != storage.CartTokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// maxBearerLength bounds the Authorization header's token; ours are far
// shorter.
const maxBearerLength = 8 << 10

// bearerToken returns the token of an `Authorization: Bearer` header
// (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1), or ""
// when the header is missing or malformed.
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || len(token) > maxBearerLength {
		return ""
	}
	// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
	body := strings.TrimRight(token, "=")
	if body == "" {
		return ""
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return ""
		}
	}
	return token
}
