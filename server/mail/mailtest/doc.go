// Package mailtest runs a real SMTP server in tests (go-smtp) that keeps
// what it receives: the sink the mail sender delivers to, which can speak
// STARTTLS or implicit TLS, require authentication, refuse mail, crash
// and come back on the same port.
package mailtest
