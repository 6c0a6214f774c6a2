package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// MaxBodyBytes bounds an admin request body: the largest (a client with
// its lists) is far smaller.
const MaxBodyBytes = 64 << 10

// DecodeBody reads one JSON object of v's type from body: the content
// type must be application/json, the body at most limit bytes, every
// field one v knows, nothing after the object. Errors are problems
// (unsupported-media-type, body-too-large, invalid-body).
func DecodeBody(contentType string, body io.Reader, limit int64, v any) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return fail("unsupported-media-type", "send Content-Type: application/json")
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || int64(len(data)) > limit {
		return fail("body-too-large", fmt.Sprintf("at most %d bytes", limit))
	}
	if err != nil {
		return fail("invalid-body", "the body could not be read")
	}
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return fail("invalid-body", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fail("invalid-body", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail("invalid-body", "one JSON object only")
	}
	return nil
}

// describeJSONError words a decoding error without echoing the input.
func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return "field " + typeErr.Field + " has the wrong type"
		}
		return "the body must be a JSON object"
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); len(msg) > len(unknown) && msg[:len(unknown)] == unknown && len(msg) < 200 {
		return "unknown field " + msg[len(unknown):]
	}
	return "the body is not a valid JSON object for this resource"
}

func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
