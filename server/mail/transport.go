package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Transport delivers one rendered mail to one recipient.
type Transport interface {
	Send(ctx context.Context, to string, m Rendered) error
}

// PermanentError wraps a delivery failure that trying again cannot fix
// (the server refused the recipient or the message for good: SMTP 5xx).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err says a retry is pointless.
func IsPermanent(err error) bool {
	_, ok := errors.AsType[*PermanentError](err)
	return ok
}

// SMTPConfig says where and as whom mail is sent.
type SMTPConfig struct {
	// URL is smtp://user:pass@host:port (STARTTLS when the server offers
	// it; port 587 by default) or smtps://user:pass@host:port (TLS from
	// the first byte; port 465 by default). User and password are
	// optional; with them, the best mechanism the server offers is used.
	URL string
	// From is the sender address (SHOPAUTH_MAIL_FROM).
	From string
	// Timeout bounds one delivery: connect, TLS, authentication, data.
	Timeout time.Duration
	// TLSConfig, when set, replaces the system's trust (tests: a server
	// with a certificate of their own). Its ServerName is set to the host.
	TLSConfig *tls.Config
}

// SMTP delivers mail to one SMTP server with go-mail, one connection per
// mail: the outbox sends few mails, and a fresh connection never meets a
// server that timed out an idle one.
type SMTP struct {
	host    string
	opts    []gomail.Option
	from    string
	timeout time.Duration
}

var _ Transport = (*SMTP)(nil)

// DefaultSMTPTimeout bounds one delivery.
const DefaultSMTPTimeout = 30 * time.Second

// ParseSMTPURL checks an SMTP URL and returns its parts; the error never
// repeats the password.
func ParseSMTPURL(raw string) (u *url.URL, implicitTLS bool, port int, err error) {
	u, err = url.Parse(raw)
	if err != nil {
		return nil, false, 0, errors.New("must be smtp://user:pass@host:port or smtps://user:pass@host:port")
	}
	switch u.Scheme {
	case "smtp":
		port = 587
	case "smtps":
		implicitTLS, port = true, 465
	default:
		return nil, false, 0, fmt.Errorf("scheme must be smtp or smtps, got %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, false, 0, errors.New("has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, false, 0, fmt.Errorf("port %q is not a port", p)
		}
		port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, false, 0, errors.New("takes no path, query or fragment")
	}
	return u, implicitTLS, port, nil
}

// NewSMTP checks cfg and returns the transport.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	u, implicitTLS, port, err := ParseSMTPURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("mail: SHOPAUTH_SMTP_URL %w", err)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: SHOPAUTH_MAIL_FROM %q is not an address: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	tlsConfig.ServerName = u.Hostname()
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	if implicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		// STARTTLS whenever the server offers it (RFC 3207); a server that
		// does not is spoken to in the clear, as SHOPAUTH_SMTP_URL's
		// smtp:// scheme says.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	return &SMTP{host: u.Hostname(), opts: opts, from: from.String(), timeout: cfg.Timeout}, nil
}

// Send delivers m to to. A refusal the server calls permanent (5xx) is a
// *PermanentError; anything else (unreachable, 4xx, timeout) may pass.
func (s *SMTP) Send(ctx context.Context, to string, m Rendered) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return &PermanentError{Err: fmt.Errorf("from: %w", err)}
	}
	if err := msg.To(to); err != nil {
		return &PermanentError{Err: fmt.Errorf("recipient: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageID()
	msg.SetDate()
	// RFC 3834 §5: an automatic mail, so vacation responders stay quiet.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return &PermanentError{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	var sendErr *gomail.SendError
	if errors.As(err, &sendErr) && !sendErr.IsTemp() && sendErr.ErrorCode() >= 500 {
		return &PermanentError{Err: err}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return fmt.Errorf("smtp %s: %w", s.host, err)
	}
	return err
}

// Log is the demo's transport: it delivers nothing and logs each mail's
// link at info, so a newcomer running `serve --demo` without an SMTP
// server can click it. Never use it in production: the log then holds
// live keys.
type Log struct {
	Logger *slog.Logger
}

var _ Transport = Log{}

// Send logs the mail's subject, recipient and link.
func (l Log) Send(ctx context.Context, to string, m Rendered) error {
	l.Logger.InfoContext(ctx, "demo mail (no SMTP server configured): open the link in a browser",
		"to", to, "subject", m.Subject, "link", m.Link)
	return nil
}

// Unconfigured stands for a missing SMTP server: every delivery fails as a
// temporary error, so mails wait in the outbox (and are given up after the
// bound) until an operator sets SHOPAUTH_SMTP_URL.
type Unconfigured struct{}

var _ Transport = Unconfigured{}

// ErrNoSMTP is Unconfigured's error.
var ErrNoSMTP = errors.New("no SMTP server configured (SHOPAUTH_SMTP_URL)")

// Send fails with ErrNoSMTP.
func (Unconfigured) Send(context.Context, string, Rendered) error { return ErrNoSMTP }
