package spryker

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// readBody returns the body of a JSON:API request. The media type may be
// JSON:API's, plain JSON or absent (docs/spryker.md, "Transport"); anything
// else is not a Glue request.
func readBody(r *http.Request) ([]byte, *problem) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json") {
			return nil, errInvalidPostData
		}
	}
	// The engine bounds the body (MaxBytesReader): reading past the bound
	// fails instead of exhausting memory.
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case err != nil:
		return nil, errInvalidPostData
	}
	return body, nil
}

// decodeAttributes parses a JSON:API document
// {"data":{"type":resourceType,"attributes":{…}}} and returns the named
// attributes: "" for an absent or null one. Member names are matched
// exactly (encoding/json's struct binding would also take "DATA" or
// "UserName"); unknown members are ignored, as JSON:API allows.
//
//   - not UTF-8, not one JSON value, a member given twice at any depth, no
//     data object, no attributes object, an attribute that is neither a
//     string nor null: 400 "Post data is invalid."
//   - data.type absent, not a string, or not resourceType: 400 "Invalid type."
func decodeAttributes(body []byte, resourceType string, names ...string) (map[string]string, *problem) {
	attrs, p := decodeResource(body, resourceType)
	if p != nil {
		return nil, p
	}
	return stringAttributes(attrs, names...)
}

// decodeResource checks a JSON:API document as decodeAttributes does and
// returns its data.attributes, each member undecoded.
func decodeResource(body []byte, resourceType string) (map[string]json.RawMessage, *problem) {
	// RFC 8259 §8.1: JSON exchanged between systems is UTF-8. encoding/json
	// would silently turn bad bytes into U+FFFD instead.
	if !utf8.Valid(body) || !json.Valid(body) || hasDuplicateMembers(body) {
		return nil, errInvalidPostData
	}
	doc, ok := object(body)
	if !ok {
		return nil, errInvalidPostData
	}
	data, ok := object(doc["data"])
	if !ok {
		return nil, errInvalidPostData
	}
	var typ string
	if json.Unmarshal(data["type"], &typ) != nil || typ != resourceType {
		return nil, errInvalidType
	}
	attrs, ok := object(data["attributes"])
	if !ok {
		return nil, errInvalidPostData
	}
	return attrs, nil
}

// stringAttributes returns the named string attributes: "" for an absent
// or null one; a number, array, object or boolean where a string belongs
// is 400 "Post data is invalid."
func stringAttributes(attrs map[string]json.RawMessage, names ...string) (map[string]string, *problem) {
	values := make(map[string]string, len(names))
	for _, name := range names {
		raw, present := attrs[name]
		if !present || string(raw) == "null" {
			values[name] = ""
			continue
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return nil, errInvalidPostData
		}
		values[name] = v
	}
	return values, nil
}

// boolAttribute returns a boolean attribute: false when absent or null;
// any other type is 400 "Post data is invalid."
func boolAttribute(attrs map[string]json.RawMessage, name string) (bool, *problem) {
	raw, present := attrs[name]
	if !present || string(raw) == "null" {
		return false, nil
	}
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		return false, errInvalidPostData
	}
	return v, nil
}

// object decodes raw as a JSON object; null, absent and any other value are
// not one.
func object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	if len(raw) == 0 || raw[0] == 'n' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return m, true
}

// hasDuplicateMembers reports whether an object anywhere in the valid JSON
// body names a member twice (compared after unescaping, so "user\u006eame"
// repeats "username"). RFC 8259 §4 leaves duplicates to the parser, and
// parsers disagree on which one wins; refusing them means a proxy and
// shopauth can never read different credentials out of one body. The walk
// is iterative: json.Valid already bounds the nesting depth.
func hasDuplicateMembers(body []byte) bool {
	type frame struct {
		members   map[string]struct{} // nil for an array
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return !errors.Is(err, io.EOF) // a syntax error is no duplicate, but is not fine either
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if key, isString := tok.(string); isString && top != nil && top.members != nil && top.expectKey {
			if _, seen := top.members[key]; seen {
				return true
			}
			top.members[key] = struct{}{}
			top.expectKey = false
			continue
		}
		// Any other token is a value, or opens or closes one.
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{members: map[string]struct{}{}, expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				stack[len(stack)-1].expectKey = true
			}
		default:
			if top != nil && top.members != nil {
				top.expectKey = true
			}
		}
	}
}

// Limits of RFC 5321 §4.5.3.1: a forward-path of at most 256 octets
// (254 for the address itself), a local part of at most 64 and a domain
// label of at most 63.
const (
	maxEmailBytes  = 254
	maxLocalBytes  = 64
	maxLabelBytes  = 63
	emailSeparator = "@"
)

// validEmail is Glue's e-mail check on username, made explicit: one "@", a
// local part and a dotted domain within RFC 5321's lengths, no white space,
// control characters or the specials of RFC 5322 §3.2.3 that only appear in
// quoted forms no shop registers. Non-ASCII letters are allowed on both
// sides (RFC 6531 internationalised addresses): a shop may have customers
// named josé@example.es.
func validEmail(s string) bool {
	if len(s) > maxEmailBytes || !utf8.ValidString(s) {
		return false
	}
	local, domain, ok := strings.Cut(s, emailSeparator)
	if !ok || local == "" || len(local) > maxLocalBytes || strings.Contains(domain, emailSeparator) {
		return false
	}
	for _, r := range local {
		if !emailRune(r) || strings.ContainsRune(`"(),:;<>[\]`, r) {
			return false
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > maxLabelBytes || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
				return false
			}
		}
	}
	return true
}

// emailRune reports whether r may appear in a local part at all: printable,
// not white space, not the replacement character of a bad byte.
func emailRune(r rune) bool {
	return r != utf8.RuneError && unicode.IsPrint(r) && !unicode.IsSpace(r)
}
