package accounts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopauth/shopauth/server/passwords"
)

// Field names a field of an account request. The names are the Spryker
// Glue attributes', which the hosted pages use as form field names too.
type Field string

// Fields.
const (
	FieldEmail           Field = "email"
	FieldGender          Field = "gender"
	FieldSalutation      Field = "salutation"
	FieldFirstName       Field = "firstName"
	FieldLastName        Field = "lastName"
	FieldCurrentPassword Field = "password"
	FieldPassword        Field = "password"
	FieldNewPassword     Field = "newPassword"
	FieldConfirmPassword Field = "confirmPassword"
	FieldAcceptedTerms   Field = "acceptedTerms"
	FieldKey             Field = "key"
)

// Problem is what is wrong with a field.
type Problem int

// Problems.
const (
	// Blank: empty (or only white space).
	Blank Problem = iota + 1
	// Invalid: not what the field holds (not an e-mail address; markup,
	// control characters or invalid UTF-8 in a name).
	Invalid
	// TooLong: over the field's limit.
	TooLong
	// NotAChoice: not one of the field's values (salutation, gender).
	NotAChoice
	// NotAccepted: the terms of service were not accepted.
	NotAccepted
	// Mismatch: the confirmation differs from the password.
	Mismatch
	// PasswordTooShort, PasswordTooLong, PasswordCommon: the password
	// policy (package passwords).
	PasswordTooShort
	PasswordTooLong
	PasswordCommon
)

// FieldError is one problem with one field.
type FieldError struct {
	Field   Field
	Problem Problem
}

// InvalidInput is a request refused for its fields: nothing was written.
type InvalidInput struct {
	Fields []FieldError
}

func (e *InvalidInput) Error() string {
	var b strings.Builder
	b.WriteString("accounts: invalid input:")
	for _, f := range e.Fields {
		b.WriteString(" " + string(f.Field))
	}
	return b.String()
}

// Has reports whether field has problem p.
func (e *InvalidInput) Has(field Field, p Problem) bool {
	for _, f := range e.Fields {
		if f.Field == field && f.Problem == p {
			return true
		}
	}
	return false
}

// validation collects field problems in order.
type validation struct{ fields []FieldError }

func (v *validation) add(f Field, p Problem) {
	v.fields = append(v.fields, FieldError{Field: f, Problem: p})
}

func (v *validation) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &InvalidInput{Fields: v.fields}
}

// Limits of the registration fields.
const (
	// MaxNameChars is Spryker's limit on first and last names.
	MaxNameChars = 100
	// MaxEmailBytes is RFC 5321 §4.5.3.1's limit on an address (a path
	// of 256 octets, less the angle brackets).
	MaxEmailBytes = 254
	maxLocalBytes = 64
	maxLabelBytes = 63
)

// Salutations and Genders are the values Spryker's customers resource
// accepts.
var (
	Salutations = []string{"Mr", "Mrs", "Dr", "Ms", "n/a"}
	Genders     = []string{"Male", "Female"}
)

// name checks a first or last name: not blank, at most MaxNameChars
// characters, printable UTF-8 without the characters markup needs (< >)
// or that end a header line. A name is shown on pages and in mails; it
// is escaped there, but a name that carries markup is refused here, so
// nothing downstream (a shop's own mails, its back office) has to be
// careful with it.
func (v *validation) name(f Field, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		v.add(f, Blank)
	case !utf8.ValidString(s):
		v.add(f, Invalid)
	case utf8.RuneCountInString(s) > MaxNameChars:
		v.add(f, TooLong)
	case strings.ContainsAny(s, "<>") || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		v.add(f, Invalid)
	}
}

// email checks an address as ValidEmail does.
func (v *validation) email(s string) {
	switch {
	case strings.TrimSpace(s) == "":
		v.add(FieldEmail, Blank)
	case len(s) > MaxEmailBytes:
		v.add(FieldEmail, TooLong)
	case !ValidEmail(s):
		v.add(FieldEmail, Invalid)
	}
}

// choice checks that s is one of choices (blank is Blank).
func (v *validation) choice(f Field, s string, choices []string) {
	switch {
	case s == "":
		v.add(f, Blank)
	case !contains(choices, s):
		v.add(f, NotAChoice)
	}
}

// newPassword checks a new password against the policy and its
// confirmation.
func (v *validation) newPassword(f Field, password, confirm string) {
	switch passwords.Check(password) {
	case passwords.Blank:
		v.add(f, Blank)
	case passwords.NotUTF8:
		v.add(f, Invalid)
	case passwords.TooShort:
		v.add(f, PasswordTooShort)
	case passwords.TooLong:
		v.add(f, PasswordTooLong)
	case passwords.Common:
		v.add(f, PasswordCommon)
	}
	switch {
	case confirm == "":
		v.add(FieldConfirmPassword, Blank)
	case confirm != password:
		v.add(FieldConfirmPassword, Mismatch)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ValidEmail reports whether s is an e-mail address a customer can have:
// one "@", a local part and a dotted domain within RFC 5321's lengths
// (address 254 octets, local part 64, label 63), no white space, control
// characters or the specials of RFC 5322 §3.2.3 that only appear in quoted
// forms no shop registers. Non-ASCII letters are allowed on both sides
// (RFC 6531): josé@example.es is an address.
func ValidEmail(s string) bool {
	if len(s) > MaxEmailBytes || !utf8.ValidString(s) {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > maxLocalBytes || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range local {
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) || strings.ContainsRune(`"(),:;<>[\]`, r) {
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
