package admin

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopauth/shopauth/server/accounts"
)

// The field rules, one place for the CLI and the API (docs/admin.md,
// "Fields").

// ValidShopKey reports whether k is a shop key: 1-64 letters, digits, '-'
// or '_' (it is a path segment of the legacy APIs).
func ValidShopKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ValidClientID reports whether id is a client id: 1-128 printable ASCII
// characters without white space, ':' (HTTP Basic) or '/'.
func ValidClientID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '/' {
			return false
		}
	}
	return true
}

var localeRE = regexp.MustCompile(`^[a-z]{2,3}([_-][A-Za-z]{2,4})?$`)

func checkLocale(field, l string) error {
	if !localeRE.MatchString(l) {
		return invalid(field, "must be a locale such as es, en or es_ES")
	}
	return nil
}

// MaxNameChars bounds display names.
const MaxNameChars = 255

func checkName(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return invalid(field, "is required")
	case !utf8.ValidString(s):
		return invalid(field, "is not UTF-8")
	case utf8.RuneCountInString(s) > MaxNameChars:
		return invalid(field, "is longer than %d characters", MaxNameChars)
	case strings.ContainsAny(s, "<>") || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return invalid(field, "holds markup or control characters")
	}
	return nil
}

func checkEmail(field, s string) error {
	if !accounts.ValidEmail(strings.TrimSpace(s)) {
		return invalid(field, "is not an e-mail address")
	}
	return nil
}

// checkOrigins checks browser origins: scheme and host (and port) only.
func checkOrigins(field string, origins []string) error {
	if len(origins) > 32 {
		return invalid(field, "lists more than 32 origins")
	}
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Scheme+"://"+u.Host != o {
			return invalid(field, "%q is not an origin (scheme://host[:port])", o)
		}
	}
	return nil
}
