package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shopauth/shopauth/storage"
)

// OutboxStore is the outbox the sender drains, and the lease that lets one
// replica at a time do it.
type OutboxStore interface {
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	DueMail(ctx context.Context, now time.Time, limit int) ([]storage.OutboxMail, error)
	MarkMailSent(ctx context.Context, id uint64, now time.Time) error
	MarkMailRetry(ctx context.Context, id uint64, attempts int, next time.Time, lastErr string) error
	MarkMailFailed(ctx context.Context, id uint64, now time.Time, lastErr string) error
}

// OutboxSweeper forgets settled mails and expired account keys.
type OutboxSweeper interface {
	SweepOutbox(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepAccountKeys(ctx context.Context, before time.Time, limit int) (int64, error)
}

// Observer counts deliveries (metrics); nil: nobody.
type Observer interface {
	// MailDelivered is told of every mail: "sent", "retry" or "failed".
	MailDelivered(outcome string)
}

// Delivery outcomes, as Observer hears them.
const (
	OutcomeSent   = "sent"
	OutcomeRetry  = "retry"
	OutcomeFailed = "failed"
)

// SenderConfig holds a Sender's dependencies and policy. Zero durations
// and counts take the defaults.
type SenderConfig struct {
	Store     OutboxStore
	Sweeper   OutboxSweeper // optional
	Sealer    *Sealer
	Renderer  *Renderer
	Transport Transport
	// Interval between looks at the outbox (default 10 s); Notify wakes
	// the sender at once.
	Interval time.Duration
	// BatchSize bounds the mails one pass sends (default 20).
	BatchSize int
	// MaxAttempts bounds the deliveries tried before a mail is given up
	// (default 8: with the default backoff, about four hours).
	MaxAttempts int
	// FirstRetry is the wait after the first failure (default 1 min); it
	// doubles after every further one, up to MaxRetry (default 1 h).
	FirstRetry, MaxRetry time.Duration
	// SendTimeout bounds one delivery (default 30 s).
	SendTimeout time.Duration
	// Retention keeps settled mails and expired keys this long (default
	// 7 days) before they are swept, once an hour.
	Retention time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
	Observer  Observer
}

// Sender drains the outbox: it delivers every due mail, records each
// outcome in the database (so a restart continues where it stopped), and
// retries a failed delivery with exponential backoff until MaxAttempts,
// when it gives up with a logged error. A lease lets one replica at a time
// send; a mail delivered by a sender that dies before recording it is
// delivered again (at least once, never lost).
type Sender struct {
	cfg       SenderConfig
	holder    string
	wake      chan struct{}
	lastSweep time.Time
}

// outboxLease names the lease of the sending job.
const outboxLease = "mail-outbox"

// Defaults of SenderConfig.
const (
	DefaultInterval    = 10 * time.Second
	DefaultBatchSize   = 20
	DefaultMaxAttempts = 8
	DefaultFirstRetry  = time.Minute
	DefaultMaxRetry    = time.Hour
	DefaultRetention   = 7 * 24 * time.Hour
	sweepEvery         = time.Hour
	sweepBatch         = 500
)

// NewSender checks cfg and returns a Sender.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Store == nil || cfg.Sealer == nil || cfg.Renderer == nil || cfg.Transport == nil {
		return nil, errors.New("mail: sender needs a store, sealer, renderer and transport")
	}
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&cfg.Interval, DefaultInterval}, {&cfg.FirstRetry, DefaultFirstRetry}, {&cfg.MaxRetry, DefaultMaxRetry},
		{&cfg.SendTimeout, DefaultSMTPTimeout}, {&cfg.Retention, DefaultRetention},
	}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("mail: sender holder id: %w", err)
	}
	return &Sender{cfg: cfg, holder: hex.EncodeToString(b[:]), wake: make(chan struct{}, 1)}, nil
}

// Notify asks the sender to look at the outbox now (a mail was just
// written); it never blocks.
func (s *Sender) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. Failures are logged, never fatal: the next
// pass tries again.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.WarnContext(ctx, "mail outbox pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// Pass counts what one Deliver did.
type Pass struct {
	// Ran is false when nothing was due or another replica holds the lease.
	Ran                   bool
	Sent, Retried, Failed int
}

// Deliver runs one pass: if mail is due and this replica gets the lease,
// it delivers up to BatchSize mails, renewing the lease before each, and
// once an hour sweeps what the outbox no longer needs.
func (s *Sender) Deliver(ctx context.Context) (Pass, error) {
	var pass Pass
	due, err := s.cfg.Store.DueMail(ctx, s.cfg.Now(), s.cfg.BatchSize)
	if err != nil {
		return pass, err
	}
	if len(due) == 0 && !s.sweepDue() {
		return pass, nil
	}
	for _, m := range due {
		if held, err := s.lease(ctx); err != nil || !held {
			return pass, err
		}
		pass.Ran = true
		outcome, err := s.deliver(ctx, m)
		if err != nil {
			return pass, err
		}
		switch outcome {
		case OutcomeSent:
			pass.Sent++
		case OutcomeRetry:
			pass.Retried++
		case OutcomeFailed:
			pass.Failed++
		}
		if s.cfg.Observer != nil {
			s.cfg.Observer.MailDelivered(outcome)
		}
	}
	if s.sweepDue() {
		if held, err := s.lease(ctx); err != nil || !held {
			return pass, err
		}
		pass.Ran = true
		return pass, s.sweep(ctx)
	}
	return pass, nil
}

// lease takes or renews the lease for long enough to deliver one mail.
func (s *Sender) lease(ctx context.Context) (bool, error) {
	return s.cfg.Store.AcquireLease(ctx, outboxLease, s.holder, s.cfg.Now(), 2*max(s.cfg.Interval, s.cfg.SendTimeout))
}

// deliver sends one mail and records the outcome. An error is a store
// fault; a delivery failure is an outcome.
func (s *Sender) deliver(ctx context.Context, m storage.OutboxMail) (string, error) {
	msg, err := s.cfg.Sealer.Open(m.Sealed)
	if err != nil {
		return s.giveUp(ctx, m, "", err)
	}
	rendered, err := s.cfg.Renderer.Render(msg)
	if err != nil {
		return s.giveUp(ctx, m, msg.Kind, err)
	}
	sendCtx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	sendErr := s.cfg.Transport.Send(sendCtx, msg.To, rendered)
	cancel()
	now := s.cfg.Now()
	if sendErr == nil {
		if err := s.cfg.Store.MarkMailSent(ctx, m.ID, now); err != nil {
			return "", fmt.Errorf("mail %d: %w", m.ID, err)
		}
		return OutcomeSent, nil
	}
	if ctx.Err() != nil {
		// Shutting down: the attempt does not count.
		return "", ctx.Err()
	}
	attempts := m.Attempts + 1
	if IsPermanent(sendErr) || attempts >= s.cfg.MaxAttempts {
		m.Attempts = attempts
		return s.giveUp(ctx, m, msg.Kind, sendErr)
	}
	next := now.Add(s.Backoff(attempts))
	if err := s.cfg.Store.MarkMailRetry(ctx, m.ID, attempts, next, sendErr.Error()); err != nil {
		return "", fmt.Errorf("mail %d: %w", m.ID, err)
	}
	s.cfg.Logger.WarnContext(ctx, "mail delivery failed; will retry",
		"mail_id", m.ID, "kind", msg.Kind, "attempts", attempts, "next_attempt", next, "err", sendErr)
	return OutcomeRetry, nil
}

// giveUp settles a mail as failed and logs why, once, as an error: the
// customer never gets it. The log names the mail, never its link.
func (s *Sender) giveUp(ctx context.Context, m storage.OutboxMail, kind string, cause error) (string, error) {
	if err := s.cfg.Store.MarkMailFailed(ctx, m.ID, s.cfg.Now(), cause.Error()); err != nil {
		return "", fmt.Errorf("mail %d: %w", m.ID, err)
	}
	s.cfg.Logger.ErrorContext(ctx, "mail given up: not delivered",
		"mail_id", m.ID, "kind", kind, "attempts", m.Attempts, "created_at", m.CreatedAt, "err", cause)
	return OutcomeFailed, nil
}

// Backoff is the wait after the attempts-th failed delivery: FirstRetry,
// doubling, at most MaxRetry.
func (s *Sender) Backoff(attempts int) time.Duration {
	d := s.cfg.FirstRetry
	for i := 1; i < attempts && d < s.cfg.MaxRetry; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxRetry)
}

func (s *Sender) sweepDue() bool {
	return s.cfg.Sweeper != nil && s.cfg.Now().Sub(s.lastSweep) >= sweepEvery
}

// sweep deletes settled mails and expired keys older than Retention.
func (s *Sender) sweep(ctx context.Context) error {
	before := s.cfg.Now().Add(-s.cfg.Retention)
	for _, batch := range []func(limit int) (int64, error){
		func(l int) (int64, error) { return s.cfg.Sweeper.SweepOutbox(ctx, before, l) },
		func(l int) (int64, error) { return s.cfg.Sweeper.SweepAccountKeys(ctx, before, l) },
	} {
		for {
			n, err := batch(sweepBatch)
			if err != nil {
				return err
			}
			if n < sweepBatch {
				break
			}
		}
	}
	s.lastSweep = s.cfg.Now()
	return nil
}
