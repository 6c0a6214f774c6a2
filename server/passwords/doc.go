// Package passwords is the policy every new password meets, whichever
// surface sets it (registration, reset, change): at least MinChars
// characters, at most MaxBytes bytes of UTF-8, and not on an embedded list
// of common passwords (common-passwords.txt; its licence is in
// LICENSE-common-passwords.txt).
package passwords
