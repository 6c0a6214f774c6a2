package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/mail"
	"github.com/shopauth/shopauth/server/mail/mailtest"
	"github.com/shopauth/shopauth/storage"
)

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeOutbox is the outbox store in memory, with the storage contract's
// semantics: a settled mail stays settled and forgets its message.
type fakeOutbox struct {
	mu       sync.Mutex
	mails    []storage.OutboxMail
	leaseTo  string // holder of the lease; "other" means another replica
	acquired int
	swept    []time.Time
}

func (o *fakeOutbox) add(sealed []byte, at time.Time) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := uint64(len(o.mails) + 1)
	o.mails = append(o.mails, storage.OutboxMail{ID: id, Sealed: sealed, NextAttemptAt: &at, CreatedAt: at})
	return id
}

func (o *fakeOutbox) get(id uint64) storage.OutboxMail {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.mails[id-1]
}

func (o *fakeOutbox) AcquireLease(_ context.Context, _, holder string, _ time.Time, _ time.Duration) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.acquired++
	if o.leaseTo == "other" {
		return false, nil
	}
	o.leaseTo = holder
	return true, nil
}

func (o *fakeOutbox) DueMail(_ context.Context, now time.Time, limit int) ([]storage.OutboxMail, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []storage.OutboxMail
	for _, m := range o.mails {
		if m.NextAttemptAt != nil && !m.NextAttemptAt.After(now) && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (o *fakeOutbox) settle(id uint64, fn func(m *storage.OutboxMail)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id == 0 || int(id) > len(o.mails) || o.mails[id-1].NextAttemptAt == nil {
		return storage.ErrNotFound
	}
	fn(&o.mails[id-1])
	return nil
}

func (o *fakeOutbox) MarkMailSent(_ context.Context, id uint64, now time.Time) error {
	return o.settle(id, func(m *storage.OutboxMail) { m.SentAt, m.NextAttemptAt, m.Sealed = &now, nil, nil })
}

func (o *fakeOutbox) MarkMailRetry(_ context.Context, id uint64, attempts int, next time.Time, lastErr string) error {
	return o.settle(id, func(m *storage.OutboxMail) { m.Attempts, m.NextAttemptAt, m.LastError = attempts, &next, lastErr })
}

func (o *fakeOutbox) MarkMailFailed(_ context.Context, id uint64, now time.Time, lastErr string) error {
	return o.settle(id, func(m *storage.OutboxMail) {
		m.FailedAt, m.NextAttemptAt, m.Sealed, m.LastError = &now, nil, nil, lastErr
	})
}

func (o *fakeOutbox) SweepOutbox(_ context.Context, before time.Time, _ int) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.swept = append(o.swept, before)
	return 0, nil
}

func (o *fakeOutbox) SweepAccountKeys(context.Context, time.Time, int) (int64, error) { return 0, nil }

type observer struct {
	mu       sync.Mutex
	outcomes []string
}

func (o *observer) MailDelivered(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outcomes = append(o.outcomes, outcome)
}

type fixture struct {
	sink     *mailtest.Sink
	outbox   *fakeOutbox
	sealer   *mail.Sealer
	sender   *mail.Sender
	clock    *clock
	log      *bytes.Buffer
	observer *observer
}

var secret = bytes.Repeat([]byte{7}, 32)

func newFixture(t *testing.T, opts mailtest.Options, mutate func(*mail.SenderConfig)) *fixture {
	t.Helper()
	f := &fixture{
		sink: mailtest.Start(t, opts), outbox: &fakeOutbox{}, log: &bytes.Buffer{}, observer: &observer{},
		clock: &clock{t: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)},
	}
	var err error
	f.sealer, err = mail.NewSealer(secret)
	require.NoError(t, err)
	renderer, err := mail.NewRenderer()
	require.NoError(t, err)
	transport, err := mail.NewSMTP(mail.SMTPConfig{
		URL: f.sink.URL(), From: "ACME <shop@acme.example>", Timeout: 30 * time.Second, TLSConfig: f.sink.TLSConfig,
	})
	require.NoError(t, err)
	cfg := mail.SenderConfig{
		Store: f.outbox, Sweeper: f.outbox, Sealer: f.sealer, Renderer: renderer, Transport: transport,
		SendTimeout: 30 * time.Second, Now: f.clock.Now, Observer: f.observer,
		Logger: slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	f.sender, err = mail.NewSender(cfg)
	require.NoError(t, err)
	return f
}

// enqueue seals a reset mail to ann and puts it in the outbox, due now.
func (f *fixture) enqueue(t *testing.T, locale string) uint64 {
	t.Helper()
	sealed, err := f.sealer.Seal(mail.Message{
		Kind: mail.KindResetPassword, To: "ann@example.com", Name: "Ann", ShopName: "ACME Shop", Locale: locale,
		Link: "https://auth.example/account/reset?key=k3y-with_chars", ValidFor: time.Hour,
	})
	require.NoError(t, err)
	return f.outbox.add(sealed, f.clock.Now())
}

func (f *fixture) deliver(t *testing.T) mail.Pass {
	t.Helper()
	pass, err := f.sender.Deliver(context.Background())
	require.NoError(t, err)
	return pass
}

// TestDeliverOverSTARTTLSWithAuth delivers to a real SMTP server that
// offers STARTTLS and wants a login: the mail goes encrypted, as the
// configured user, with both bodies, and the link in it is the one sealed.
func TestDeliverOverSTARTTLSWithAuth(t *testing.T) {
	f := newFixture(t, mailtest.Options{TLS: mailtest.StartTLS, Username: "mailer", Password: "s3cret"}, nil)
	id := f.enqueue(t, "es")
	pass := f.deliver(t)
	require.Equal(t, mail.Pass{Ran: true, Sent: 1}, pass)

	got := f.sink.Wait(1, 5*time.Second)[0]
	require.True(t, got.TLS, "STARTTLS was used")
	require.Equal(t, "mailer", got.User)
	require.Equal(t, "shop@acme.example", got.From)
	require.Equal(t, []string{"ann@example.com"}, got.To)
	require.Equal(t, "Elige una contraseña nueva para ACME Shop", got.Header("Subject"))
	require.Equal(t, "auto-generated", got.Header("Auto-Submitted"))
	text, html, err := got.Bodies()
	require.NoError(t, err)
	require.Contains(t, text, "Hola Ann,")
	require.Contains(t, text, "El enlace funciona durante 1 hora.")
	require.Contains(t, html, `href="https://auth.example/account/reset?key=k3y-with_chars"`)
	link, err := got.Link()
	require.NoError(t, err)
	require.Equal(t, "https://auth.example/account/reset?key=k3y-with_chars", link)

	m := f.outbox.get(id)
	require.NotNil(t, m.SentAt)
	require.Empty(t, m.Sealed, "the key leaves the outbox once delivered")
	require.Equal(t, []string{mail.OutcomeSent}, f.observer.outcomes)
	require.NotContains(t, f.log.String(), "k3y-with_chars", "the link is never logged")
}

func TestDeliverOverImplicitTLS(t *testing.T) {
	f := newFixture(t, mailtest.Options{TLS: mailtest.ImplicitTLS, Username: "mailer", Password: "s3cret"}, nil)
	f.enqueue(t, "en")
	require.Equal(t, 1, f.deliver(t).Sent)
	got := f.sink.Wait(1, 5*time.Second)[0]
	require.True(t, got.TLS)
	require.Equal(t, "Set a new password for ACME Shop", got.Header("Subject"))
}

func TestDeliverWrongAuthRetries(t *testing.T) {
	f := newFixture(t, mailtest.Options{TLS: mailtest.StartTLS, Username: "mailer", Password: "s3cret"}, nil)
	u, err := url.Parse(f.sink.URL())
	require.NoError(t, err)
	u.User = url.UserPassword("mailer", "wrong")
	renderer, err := mail.NewRenderer()
	require.NoError(t, err)
	transport, err := mail.NewSMTP(mail.SMTPConfig{URL: u.String(), From: "shop@acme.example", TLSConfig: f.sink.TLSConfig})
	require.NoError(t, err)
	sender, err := mail.NewSender(mail.SenderConfig{Store: f.outbox, Sealer: f.sealer, Renderer: renderer, Transport: transport, Now: f.clock.Now})
	require.NoError(t, err)
	id := f.enqueue(t, "en")
	pass, err := sender.Deliver(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, pass.Retried, "a refused login may be fixed by the operator")
	require.Empty(t, f.sink.Messages())
	require.Equal(t, 1, f.outbox.get(id).Attempts)
}

// TestCrashedServerLosesNoMail: the SMTP server is down when the mail is
// due; the attempt is recorded and retried after the backoff, and the
// mail arrives once the server is back.
func TestCrashedServerLosesNoMail(t *testing.T) {
	f := newFixture(t, mailtest.Options{TLS: mailtest.StartTLS}, nil)
	f.sink.Stop()
	id := f.enqueue(t, "en")

	pass := f.deliver(t)
	m := f.outbox.get(id)
	require.Equal(t, 1, pass.Retried, "%+v, last error: %s", pass, m.LastError)
	require.Equal(t, 1, m.Attempts)
	require.Equal(t, f.clock.Now().Add(mail.DefaultFirstRetry), *m.NextAttemptAt)
	require.NotEmpty(t, m.Sealed, "a waiting mail keeps its message")
	require.NotEmpty(t, m.LastError)

	f.sink.Restart()
	require.Equal(t, mail.Pass{}, f.deliver(t), "nothing is due before the backoff")
	f.clock.Advance(mail.DefaultFirstRetry)
	require.Equal(t, 1, f.deliver(t).Sent, "last error: %s", f.outbox.get(id).LastError)
	require.Len(t, f.sink.Wait(1, 5*time.Second), 1)
	require.NotNil(t, f.outbox.get(id).SentAt)
	require.Equal(t, []string{mail.OutcomeRetry, mail.OutcomeSent}, f.observer.outcomes)
}

// TestGivesUpAfterTheBound: a server that keeps answering 451 gets
// MaxAttempts tries, with backoff doubling, then the mail is settled as
// failed with an error logged and counted.
func TestGivesUpAfterTheBound(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, func(c *mail.SenderConfig) { c.MaxAttempts = 4 })
	f.sink.Refuse(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})
	id := f.enqueue(t, "en")
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		require.Equal(t, 1, f.deliver(t).Retried, "attempt %d", i+1)
		require.Equal(t, f.clock.Now().Add(wait), *f.outbox.get(id).NextAttemptAt)
		f.clock.Advance(wait)
	}
	require.Equal(t, 1, f.deliver(t).Failed)
	m := f.outbox.get(id)
	require.NotNil(t, m.FailedAt)
	require.Nil(t, m.NextAttemptAt, "never tried again")
	require.Contains(t, m.LastError, "451")
	require.Empty(t, m.Sealed)
	require.Contains(t, f.log.String(), "level=ERROR msg=\"mail given up: not delivered\"")
	require.Equal(t, []string{mail.OutcomeRetry, mail.OutcomeRetry, mail.OutcomeRetry, mail.OutcomeFailed}, f.observer.outcomes)
	f.clock.Advance(24 * time.Hour)
	pass := f.deliver(t)
	require.Zero(t, pass.Sent+pass.Retried+pass.Failed, "a given-up mail is never tried again")
}

func TestPermanentRefusalGivesUpAtOnce(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, nil)
	f.sink.Refuse(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	id := f.enqueue(t, "en")
	require.Equal(t, 1, f.deliver(t).Failed)
	require.Contains(t, f.outbox.get(id).LastError, "550")
}

func TestUnsealableMailIsGivenUp(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, nil)
	other, err := mail.NewSealer(bytes.Repeat([]byte{8}, 32))
	require.NoError(t, err)
	sealed, err := other.Seal(mail.Message{Kind: mail.KindConfirmEmail, To: "ann@example.com", Link: "https://x"})
	require.NoError(t, err)
	id := f.outbox.add(sealed, f.clock.Now())
	require.Equal(t, 1, f.deliver(t).Failed)
	require.Contains(t, f.outbox.get(id).LastError, "SHOPAUTH_KEY_ENCRYPTION_KEY")
	require.Empty(t, f.sink.Messages())
}

func TestAnotherReplicaHoldsTheLease(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, nil)
	f.outbox.leaseTo = "other"
	id := f.enqueue(t, "en")
	require.Equal(t, mail.Pass{}, f.deliver(t))
	require.Empty(t, f.sink.Messages())
	require.NotNil(t, f.outbox.get(id).NextAttemptAt, "left for the holder")
}

func TestNothingDueTakesNoLease(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, func(c *mail.SenderConfig) { c.Sweeper = nil })
	require.Equal(t, mail.Pass{}, f.deliver(t))
	require.Zero(t, f.outbox.acquired, "an idle replica writes nothing")
}

func TestSweepsOnceAnHour(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, nil)
	f.deliver(t)
	f.deliver(t)
	require.Equal(t, []time.Time{f.clock.Now().Add(-mail.DefaultRetention)}, f.outbox.swept)
	f.clock.Advance(time.Hour)
	f.deliver(t)
	require.Len(t, f.outbox.swept, 2)
}

// TestRunDeliversOnNotify: Run wakes on Notify rather than the interval.
func TestRunDeliversOnNotify(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, func(c *mail.SenderConfig) { c.Interval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.sender.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	f.enqueue(t, "en")
	f.sender.Notify()
	f.sink.Wait(1, 10*time.Second)
}

func TestBackoff(t *testing.T) {
	f := newFixture(t, mailtest.Options{}, func(c *mail.SenderConfig) { c.FirstRetry, c.MaxRetry = 30*time.Second, 5*time.Minute })
	for attempts, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 4: 4 * time.Minute, 5: 5 * time.Minute, 30: 5 * time.Minute} {
		require.Equal(t, want, f.sender.Backoff(attempts), "after %d attempts", attempts)
	}
}

func TestSealer(t *testing.T) {
	s, err := mail.NewSealer(secret)
	require.NoError(t, err)
	m := mail.Message{Kind: mail.KindConfirmEmail, To: "ann@example.com", Link: "https://x/?key=abc", ValidFor: time.Hour}
	sealed, err := s.Seal(m)
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "abc", "the key is not readable in the outbox")
	require.NotContains(t, string(sealed), "ann@example.com")
	got, err := s.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, m, got)

	again, err := mail.NewSealer(secret)
	require.NoError(t, err)
	_, err = again.Open(sealed)
	require.NoError(t, err, "another replica with the same secret opens it")

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for _, bad := range [][]byte{tampered, sealed[:10], nil} {
		_, err := s.Open(bad)
		require.ErrorIs(t, err, mail.ErrUnsealable)
	}
	_, err = mail.NewSealer(secret[:16])
	require.Error(t, err)
}

func TestRender(t *testing.T) {
	r, err := mail.NewRenderer()
	require.NoError(t, err)
	tests := []struct {
		msg      mail.Message
		subject  string
		inText   []string
		notInAny []string
	}{
		{mail.Message{Kind: mail.KindConfirmEmail, Name: "Ann", ShopName: "ACME", Locale: "en_US", Link: "https://a/c?key=1", ValidFor: 72 * time.Hour},
			"Confirm your e-mail address for ACME", []string{"Hello Ann,", "at ACME", "https://a/c?key=1", "The link works for 72 hours."}, nil},
		{mail.Message{Kind: mail.KindConfirmEmail, ShopName: "ACME", Locale: "es-MX", Link: "https://a/c?key=1", ValidFor: 30 * time.Minute},
			"Confirma tu correo electrónico para ACME", []string{"Hola,", "El enlace funciona durante 30 minutos."}, nil},
		{mail.Message{Kind: mail.KindAlreadyRegistered, Name: "<b>Eve</b>", ShopName: "ACME", Locale: "es", Link: "https://a/f?shop=acme"},
			"Ya tienes una cuenta en ACME", []string{"https://a/f?shop=acme"}, []string{"funciona durante"}},
	}
	for _, tt := range tests {
		got, err := r.Render(tt.msg)
		require.NoError(t, err)
		require.Equal(t, tt.subject, got.Subject)
		for _, s := range tt.inText {
			require.Contains(t, got.Text, s)
		}
		require.Contains(t, got.HTML, tt.msg.ShopName, "the shop is named")
		require.NotContains(t, got.HTML, "<b>Eve</b>", "a name is escaped in HTML")
		for _, s := range tt.notInAny {
			require.NotContains(t, got.Text+got.HTML, s)
		}
		require.Equal(t, tt.msg.Link, got.Link)
	}
	_, err = r.Render(mail.Message{Kind: "nonsense"})
	require.Error(t, err)
}

func TestSMTPConfig(t *testing.T) {
	good := []string{"smtp://mail.example", "smtp://u:p@mail.example:2525", "smtps://u:p%40x@mail.example", "smtp://[::1]:25"}
	for _, u := range good {
		_, err := mail.NewSMTP(mail.SMTPConfig{URL: u, From: "shop@example.com"})
		require.NoError(t, err, u)
	}
	bad := map[string]string{
		"http://mail.example":              "scheme",
		"smtp://":                          "no host",
		"smtp://u:hunter2@mail.example:0":  "port",
		"smtp://u:hunter2@mail.example/x":  "path",
		"smtp://mail.example:99999":        "port",
		"smtp://u:hunter2@mail.example?x=": "query",
	}
	for u, want := range bad {
		_, err := mail.NewSMTP(mail.SMTPConfig{URL: u, From: "shop@example.com"})
		require.ErrorContains(t, err, want, u)
		require.NotContains(t, err.Error(), "hunter2", "the password is never repeated")
	}
	_, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://mail.example", From: "not an address"})
	require.ErrorContains(t, err, "SHOPAUTH_MAIL_FROM")
}

func TestLogTransport(t *testing.T) {
	var buf bytes.Buffer
	l := mail.Log{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	require.NoError(t, l.Send(context.Background(), "ann@example.com", mail.Rendered{Subject: "S", Link: "https://a/c?key=1"}))
	require.Contains(t, buf.String(), "level=INFO")
	require.Contains(t, buf.String(), "link=\"https://a/c?key=1\"")
}
