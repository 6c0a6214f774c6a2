package passwords

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/shopauth/shopauth/server/customers"
)

// MinChars is the fewest characters (Unicode code points) a new password
// has: NIST SP 800-63B §3.1.1.2's minimum for a password the customer
// chooses.
const MinChars = 8

// MaxBytes is the longest password in bytes: the limit every login surface
// already applies, so that a password that can be set can be used.
const MaxBytes = customers.MaxPasswordBytes

// Problem is why a new password is refused; OK when it is not.
type Problem int

// Problems, in the order Check looks for them.
const (
	OK Problem = iota
	// Blank: empty.
	Blank
	// NotUTF8: not valid UTF-8, so it has no characters to count.
	NotUTF8
	// TooShort: fewer than MinChars characters.
	TooShort
	// TooLong: more than MaxBytes bytes.
	TooLong
	// Common: on the list of common passwords (compared case-insensitively).
	Common
)

//go:embed common-passwords.txt
var commonList string

// common is the list as a set, built on first use.
var common = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonList, "\n"))
	for line := range strings.Lines(commonList) {
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			set[p] = struct{}{}
		}
	}
	return set
})

// Check reports what, if anything, is wrong with password as a new
// password.
func Check(password string) Problem {
	switch {
	case password == "":
		return Blank
	case len(password) > MaxBytes:
		// Before counting characters: the count is bounded by the limit.
		return TooLong
	case !utf8.ValidString(password):
		return NotUTF8
	case utf8.RuneCountInString(password) < MinChars:
		return TooShort
	case IsCommon(password):
		return Common
	}
	return OK
}

// IsCommon reports whether password is on the list of common passwords,
// compared case-insensitively (the list is lower-case).
func IsCommon(password string) bool {
	_, found := common()[strings.ToLower(password)]
	return found
}
