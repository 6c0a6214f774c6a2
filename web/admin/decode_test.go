package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
	core "github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/storage"
)

func TestDecodeBody(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		limit                   int64
		slug                    string // "" accepted
	}{
		{"an object", "application/json", `{"key":"a","name":"A"}`, 100, ""},
		{"with charset", "application/json; charset=utf-8", `{"key":"a"}`, 100, ""},
		{"form", "application/x-www-form-urlencoded", `key=a`, 100, "unsupported-media-type"},
		{"no content type", "", `{}`, 100, "unsupported-media-type"},
		{"unknown field", "application/json", `{"key":"a","colour":"red"}`, 100, "invalid-body"},
		{"two objects", "application/json", `{"key":"a"}{"key":"b"}`, 100, "invalid-body"},
		{"trailing garbage", "application/json", `{"key":"a"} x`, 100, "invalid-body"},
		{"wrong type", "application/json", `{"key":1}`, 100, "invalid-body"},
		{"an array", "application/json", `[]`, 100, "invalid-body"},
		{"null", "application/json", `null`, 100, "invalid-body"},
		{"empty", "application/json", ``, 100, "invalid-body"},
		{"cut short", "application/json", `{"key":`, 100, "invalid-body"},
		{"at the limit", "application/json", `{"key":"` + strings.Repeat("a", 90) + `"}`, 100, ""},
		{"over the limit", "application/json", `{"key":"` + strings.Repeat("a", 91) + `"}`, 100, "body-too-large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v shopCreate
			err := DecodeBody(tt.contentType, strings.NewReader(tt.body), tt.limit, &v)
			if tt.slug == "" {
				require.NoError(t, err)
				require.NotEmpty(t, v.Key)
				return
			}
			p, _ := ProblemOf(err)
			require.Equal(t, ProblemBase+tt.slug, p.Type, "err: %v", err)
		})
	}
}

func TestProblemOf(t *testing.T) {
	tests := []struct {
		err    error
		slug   string
		status int
		retry  int
	}{
		{&core.Error{Kind: core.Invalid, Field: "email", Message: "x"}, "invalid-field", 400, 0},
		{&core.Error{Kind: core.Invalid, Field: "limit", Message: "x"}, "invalid-parameter", 400, 0},
		{&core.Error{Kind: core.NotFound}, "not-found", 404, 0},
		{&core.Error{Kind: core.Conflict}, "conflict", 409, 0},
		{&core.Error{Kind: core.PreconditionFailed}, "precondition-failed", 412, 0},
		{&core.Error{Kind: core.Forbidden}, "forbidden", 403, 0},
		{&core.Error{Kind: core.Unsupported}, "not-implemented", 501, 0},
		{fmt.Errorf("update: %w", storage.ErrUnavailable), "unavailable", 503, 1},
		{refusal.ErrUnavailable.WithRetryAfter(3e9), "unavailable", 503, 3},
		{errors.New("boom"), "internal", 500, 0},
		{fail("precondition-required", "x"), "precondition-required", 428, 0},
	}
	for _, tt := range tests {
		p, retry := ProblemOf(tt.err)
		require.Equal(t, ProblemBase+tt.slug, p.Type, "%v", tt.err)
		require.Equal(t, tt.status, p.Status)
		require.Equal(t, tt.retry, retry)
		require.NotEmpty(t, p.Title)
	}
	p, _ := ProblemOf(errors.New("secret cause"))
	require.Empty(t, p.Detail, "a fault's cause is not shown")
}

// FuzzDecodeBody feeds arbitrary bodies to the admin body decoder: it
// never panics, a refusal is one of the decoder's problems (400, 413,
// 415), and what it accepts is one JSON object with only known fields
// that decodes the same way with the standard library.
//
// Mutant (decode.go): drop DisallowUnknownFields: seed 2 is accepted
// ("accepted an unknown field").
func FuzzDecodeBody(f *testing.F) {
	f.Add("application/json", `{"email":"a@b.c","name":"A","password":"p"}`)
	f.Add("application/json", `{"email":"a@b.c","colour":"red"}`)
	f.Add("application/json", `{"id":1}{"id":2}`)
	f.Add("text/plain", `{}`)
	f.Add("application/json", `{"id":-1,"invite":"yes"}`)
	f.Add("application/json", "\x00\xff")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		fuzzdeadline.Run(t, func() {
			var v customerCreate
			err := DecodeBody(contentType, strings.NewReader(body), 4096, &v)
			if err != nil {
				p, _ := ProblemOf(err)
				switch p.Status {
				case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
				default:
					t.Fatalf("refusal %d %s for %q", p.Status, p.Type, body)
				}
				return
			}
			var fields map[string]json.RawMessage
			if json.Unmarshal([]byte(body), &fields) != nil {
				t.Fatalf("accepted what is not one JSON object: %q", body)
			}
			known := map[string]bool{"email": true, "name": true, "password": true, "password_hash": true, "invite": true, "verified": true,
				"id": true, "account_id": true, "customer_reference": true, "company_user_id": true}
			for k := range fields {
				if !known[strings.ToLower(k)] { // encoding/json matches names case-insensitively
					t.Fatalf("accepted an unknown field %q", k)
				}
			}
			var again customerCreate
			dec := json.NewDecoder(bytes.NewReader([]byte(body)))
			if err := dec.Decode(&again); err != nil || again != v {
				t.Fatalf("decoded %+v, the standard library %+v (%v)", v, again, err)
			}
		})
	})
}
