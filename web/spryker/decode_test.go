package spryker

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
)

func TestDecodeAttributes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]string
		err  *problem
	}{
		{"seed shape", `{"data":{"type":"access-tokens","attributes":{"username":"sonia@spryker.com","password":"change123"}}}`,
			map[string]string{"username": "sonia@spryker.com", "password": "change123"}, nil},
		{"white space and unknown members", " {\"meta\":{},\"data\":{\"id\":null,\"type\":\"access-tokens\",\"attributes\":{\"username\":\"a@b.c\",\"extra\":[1,{}]}}}\n",
			map[string]string{"username": "a@b.c", "password": ""}, nil},
		{"null and absent are blank", `{"data":{"type":"access-tokens","attributes":{"username":null}}}`,
			map[string]string{"username": "", "password": ""}, nil},
		{"escapes", `{"data":{"type":"access-tokens","attributes":{"username":"s\u00f6nia@x.es","password":"a\"b\\c"}}}`,
			map[string]string{"username": "sönia@x.es", "password": `a"b\c`}, nil},
		{"same name in different objects is no duplicate", `{"data":{"type":"access-tokens","attributes":{"password":"p","username":"u","type":"x"}}}`,
			map[string]string{"username": "u", "password": "p"}, nil},
		{"wrong type", `{"data":{"type":"refresh-tokens","attributes":{}}}`, nil, errInvalidType},
		{"type in another case", `{"data":{"type":"Access-Tokens","attributes":{}}}`, nil, errInvalidType},
		{"type null", `{"data":{"type":null,"attributes":{}}}`, nil, errInvalidType},
		{"type a number", `{"data":{"type":1,"attributes":{}}}`, nil, errInvalidType},
		{"attributes null", `{"data":{"type":"access-tokens","attributes":null}}`, nil, errInvalidPostData},
		{"attributes a string", `{"data":{"type":"access-tokens","attributes":"x"}}`, nil, errInvalidPostData},
		{"data null", `{"data":null}`, nil, errInvalidPostData},
		{"top-level array", `[{"data":{}}]`, nil, errInvalidPostData},
		{"top-level string", `"data"`, nil, errInvalidPostData},
		{"empty", ``, nil, errInvalidPostData},
		{"two documents", `{} {}`, nil, errInvalidPostData},
		{"truncated", `{"data":{"type":"access-tokens"`, nil, errInvalidPostData},
		{"attribute an object", `{"data":{"type":"access-tokens","attributes":{"username":{"x":1}}}}`, nil, errInvalidPostData},
		{"attribute a boolean", `{"data":{"type":"access-tokens","attributes":{"password":true}}}`, nil, errInvalidPostData},
		{"duplicate top level", `{"data":{"type":"access-tokens","attributes":{}},"data":{}}`, nil, errInvalidPostData},
		{"duplicate type", `{"data":{"type":"refresh-tokens","type":"access-tokens","attributes":{}}}`, nil, errInvalidPostData},
		{"duplicate deep in an ignored member", `{"meta":[{"a":1,"a":2}],"data":{"type":"access-tokens","attributes":{}}}`, nil, errInvalidPostData},
		{"duplicate by escape", `{"data":{"type":"access-tokens","attributes":{"username":"a@b.c","usernam\u0065":"x@y.z"}}}`, nil, errInvalidPostData},
		{"invalid UTF-8", "{\"data\":{\"type\":\"access-tokens\",\"attributes\":{\"password\":\"\xc3\x28\"}}}", nil, errInvalidPostData},
		{"too deep", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), nil, errInvalidPostData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, p := decodeAttributes([]byte(tt.body), typeAccessTokens, attrUsername, attrPassword)
			require.Equal(t, tt.err, p)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestValidEmail(t *testing.T) {
	tests := []struct {
		email string
		valid bool
	}{
		{"sonia@spryker.com", true},
		{"Sonia.Maria+shop@spryker.co.uk", true},
		{"o'brien@example.ie", true},
		{"sönia@spryker.com", true},
		{"josé@bücher.de", true},
		{"用户@例子.广告", true},
		{"a@b.c", true},
		{"sonia", false},
		{"sonia@", false},
		{"@spryker.com", false},
		{"sonia@spryker", false},
		{"sonia@@spryker.com", false},
		{"so@nia@spryker.com", false},
		{"sonia @spryker.com", false},
		{" sonia@spryker.com", false},
		{"sonia@spryker.com\n", false},
		{"sonia\x00@spryker.com", false},
		{"\"sonia\"@spryker.com", false},
		{"so<nia>@spryker.com", false},
		{".sonia@spryker.com", false},
		{"sonia.@spryker.com", false},
		{"so..nia@spryker.com", false},
		{"sonia@spryker..com", false},
		{"sonia@-spryker.com", false},
		{"sonia@spryker.com-", false},
		{"sonia@spry_ker.com", false},
		{"sonia@spryker.com.", false},
		{"sonia\u200b@spryker.com", false}, // zero-width space: not printable
		{"a\uFFFD@b.c", false},
		{strings.Repeat("a", 64) + "@b.c", true},
		{strings.Repeat("a", 65) + "@b.c", false},
		{"a@" + strings.Repeat("b", 63) + ".c", true},
		{"a@" + strings.Repeat("b", 64) + ".c", false},
		{"a@" + strings.Repeat("b.", 125) + "cc", true}, // 254 bytes
		{"a@" + strings.Repeat("b.", 126) + "c", false}, // 255 bytes
		{strings.Repeat("a", 10_000), false},
		{strings.Repeat("a", 5_000) + "@" + strings.Repeat("b", 5_000) + ".c", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.valid, validEmail(tt.email), "%q", tt.email)
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		token  string
		err    *problem
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", nil},
		{"bearer abc", "abc", nil},
		{"BEARER   abc  ", "abc", nil},
		{"", "", errMissingToken},
		{" \t", "", errMissingToken},
		{"Bearer", "", errInvalidToken},
		{"Bearer ", "", errInvalidToken},
		{"Basic abc", "", errInvalidToken},
		{"Bearer a b", "", errInvalidToken},
		{"Bearer a\tb", "", errInvalidToken},
		{"abc", "", errInvalidToken},
	}
	for _, tt := range tests {
		token, p := bearerToken(tt.header)
		require.Equal(t, tt.err, p, "%q", tt.header)
		require.Equal(t, tt.token, token, "%q", tt.header)
	}
}

// FuzzDecode checks the JSON:API decoder on arbitrary bodies: it never
// panics, answers only documented problems, and when it accepts a body it
// agrees with encoding/json on the attribute values.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		loginJSON, refreshJSON, `{"data":{"type":"access-tokens","attributes":{"username":null}}}`,
		`{"data":{"type":"access-tokens","attributes":{"username":"a","username":"b"}}}`,
		`{"data":{"type":"access-tokens","attributes":{"password":["x"]}}}`, `{"data":[]}`, `[]`, `"x"`, ``, `{`,
		"{\"data\":{\"type\":\"access-tokens\",\"attributes\":{\"username\":\"\xff\"}}}",
		`{"data":{"type":"access-tokens","attributes":{"usernam\u0065":"a@b.c"}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzdeadline.Run(t, func() {
			got, p := decodeAttributes(body, typeAccessTokens, attrUsername, attrPassword)
			if p != nil {
				if p != errInvalidPostData && p != errInvalidType {
					t.Fatalf("undocumented problem %v", p)
				}
				return
			}
			if len(got) != 2 {
				t.Fatalf("got %v", got)
			}
			// encoding/json into maps: member names matched exactly, as
			// JSON:API wants (struct fields would match in any case).
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("accepted a body encoding/json refuses: %v", err)
			}
			data, _ := doc["data"].(map[string]any)
			attrs, ok := data["attributes"].(map[string]any)
			if !ok || data["type"] != typeAccessTokens {
				t.Fatalf("accepted %q", body)
			}
			for _, name := range []string{attrUsername, attrPassword} {
				want, _ := attrs[name].(string)
				if got[name] != want || !utf8.ValidString(got[name]) {
					t.Fatalf("%s: got %q, encoding/json reads %q", name, got[name], want)
				}
			}
		})
	})
}

// FuzzRequest sends arbitrary bodies, content types and Authorization
// headers through the mounted routes over a fake core: only documented
// statuses come back, always as a JSON:API document (or empty for 204),
// never a 500.
func FuzzRequest(f *testing.F) {
	f.Add(uint8(0), contentType, loginJSON, "")
	f.Add(uint8(1), "application/json", refreshJSON, "")
	f.Add(uint8(2), "", "", "Bearer good")
	f.Add(uint8(3), "", "", "Bearer bad")
	f.Add(uint8(0), "text/plain", `{"data":{}}`, "")
	f.Add(uint8(1), contentType+"; ext=x", `{"data":{"type":"refresh-tokens","attributes":{"refreshToken":""}}}`, "")
	e := newEngine(f, &fakeCore{claims: claimsOf21}, nil)
	routes := []struct{ method, path string }{
		{http.MethodPost, PathAccessTokens}, {http.MethodPost, PathRefreshTokens},
		{http.MethodDelete, "/refresh-tokens/mine"}, {http.MethodDelete, "/refresh-tokens/x"},
	}
	allowed := map[int]bool{201: true, 204: true, 400: true, 401: true, 403: true, 413: true, 422: true}
	f.Fuzz(func(t *testing.T, route uint8, ctype, body, auth string) {
		fuzzdeadline.Run(t, func() {
			r := routes[int(route)%len(routes)]
			var header []string
			if auth != "" && !strings.ContainsAny(auth, "\r\n") {
				header = []string{"Authorization", auth}
			}
			w := serve(e, r.method, r.path, ctype, body, header...)
			if !allowed[w.Code] {
				t.Fatalf("%s %s: status %d: %s", r.method, r.path, w.Code, w.Body)
			}
			if w.Code == http.StatusNoContent {
				return
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || (doc["data"] == nil) == (doc["errors"] == nil) {
				t.Fatalf("not a JSON:API document: %s", w.Body)
			}
		})
	})
}
