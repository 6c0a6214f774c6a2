package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLSMode is how the sink speaks TLS.
type TLSMode int

// TLS modes.
const (
	// NoTLS: plain SMTP, no STARTTLS offered.
	NoTLS TLSMode = iota
	// StartTLS: plain SMTP that offers STARTTLS (smtp://).
	StartTLS
	// ImplicitTLS: TLS from the first byte (smtps://).
	ImplicitTLS
)

// Options configure a Sink.
type Options struct {
	TLS TLSMode
	// Username and Password, when set, are required (AUTH PLAIN).
	Username, Password string
}

// Received is one message the sink accepted.
type Received struct {
	From string
	To   []string
	Data []byte
	// TLS reports whether the message came over TLS.
	TLS bool
	// User is who authenticated, "" for nobody.
	User string
}

// Sink is a running SMTP server on 127.0.0.1.
type Sink struct {
	t    testing.TB
	opts Options
	// Addr is host:port, the same across Stop and Start.
	Addr string
	// TLSConfig is a client configuration that trusts the sink.
	TLSConfig *tls.Config

	serverTLS *tls.Config
	mu        sync.Mutex
	server    *smtp.Server
	listener  net.Listener
	received  []Received
	refuse    *smtp.SMTPError
	arrived   chan struct{}
}

// Start runs a sink until the test ends.
func Start(t testing.TB, opts Options) *Sink {
	t.Helper()
	s := &Sink{t: t, opts: opts, arrived: make(chan struct{}, 1000)}
	s.serverTLS, s.TLSConfig = certificates(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// URL is the sink's SHOPAUTH_SMTP_URL.
func (s *Sink) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.opts.TLS == ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

func (s *Sink) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{sink: s, conn: c}, nil
	}))
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = quiet{}
	if s.opts.TLS != NoTLS {
		srv.TLSConfig = s.serverTLS
	}
	if s.opts.TLS == ImplicitTLS {
		ln = tls.NewListener(ln, s.serverTLS)
	}
	s.mu.Lock()
	s.server, s.listener = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the listener and every connection at once, like a crash.
// Stopping a stopped sink does nothing.
func (s *Sink) Stop() {
	s.mu.Lock()
	srv, ln := s.server, s.listener
	s.server, s.listener = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// The listener too: Serve may not have registered it with the
		// server yet, and then Close alone would leave it accepting.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Restart listens again on the same address after Stop.
func (s *Sink) Restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after the crash
		if ln, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.Addr, err)
	}
	s.serve(ln)
}

// Refuse makes the sink answer every recipient with err (nil: accept
// again), e.g. &smtp.SMTPError{Code: 550, …} or a 451.
func (s *Sink) Refuse(err *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = err
}

// Messages returns what the sink received so far.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Wait returns once the sink has received n messages, or fails the test
// after timeout.
func (s *Sink) Wait(n int, timeout time.Duration) []Received {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			s.t.Fatalf("mailtest: %d messages after %v, want %d", len(s.Messages()), timeout, n)
			return nil
		}
	}
}

type session struct {
	sink *Sink
	conn *smtp.Conn
	from string
	to   []string
	user string
}

var _ smtp.AuthSession = (*session)(nil)

func (x *session) AuthMechanisms() []string {
	if x.sink.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.sink.opts.Username || pass != x.sink.opts.Password {
			return smtp.ErrAuthFailed
		}
		x.user = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.sink.opts.Username != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.sink.mu.Lock()
	refuse := x.sink.refuse
	x.sink.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.sink.mu.Lock()
	x.sink.received = append(x.sink.received, Received{From: x.from, To: x.to, Data: data, TLS: isTLS, User: x.user})
	x.sink.mu.Unlock()
	x.sink.arrived <- struct{}{}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

type quiet struct{}

func (quiet) Printf(string, ...any) {}
func (quiet) Println(...any)        {}

// Header returns a header of the message, decoded (RFC 2047).
func (r Received) Header(name string) string {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return ""
	}
	v, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get(name))
	if err != nil {
		return m.Header.Get(name)
	}
	return v
}

// Bodies returns the message's text and HTML parts, decoded.
func (r Received) Bodies() (text, html string, err error) {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return "", "", err
	}
	parts := map[string]string{}
	if err := collect(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, parts); err != nil {
		return "", "", err
	}
	return parts["text/plain"], parts["text/html"], nil
}

func collect(contentType, encoding string, body io.Reader, parts map[string]string) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := collect(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, parts); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		return errors.New("mailtest: base64 parts are not decoded")
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	parts[mt] = string(b)
	return nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+`)

// Link returns the first link of the message's text body.
func (r Received) Link() (string, error) {
	text, _, err := r.Bodies()
	if err != nil {
		return "", err
	}
	link := linkPattern.FindString(text)
	if link == "" {
		return "", errors.New("mailtest: no link in the text body")
	}
	return link, nil
}

// certificates makes a self-signed certificate for 127.0.0.1 and returns
// the server's TLS configuration and a client's that trusts it.
func certificates(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("mailtest: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sink.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}
