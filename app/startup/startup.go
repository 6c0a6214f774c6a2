package startup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/shopauth/shopauth/storage"
)

// Config says how long to wait and where to say so.
type Config struct {
	// Timeout bounds the whole wait: no try starts after it. 0 makes one
	// try.
	Timeout time.Duration
	// FirstPause and MaxPause pace the tries: the pause doubles (with
	// jitter) from FirstPause up to MaxPause. Zero: 250 ms and 5 s.
	FirstPause, MaxPause time.Duration
	Logger               *slog.Logger
}

// Wait runs step until it succeeds, fails for a reason other than
// storage.ErrUnavailable (a wrong password, a bad schema: waiting would
// not help), or cfg.Timeout has passed, and returns step's last error.
// Each failed try is logged at warn with what failed and when the next
// one comes; success after a wait is logged at info.
func Wait(ctx context.Context, cfg Config, step func(context.Context) error) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FirstPause <= 0 {
		cfg.FirstPause = 250 * time.Millisecond
	}
	if cfg.MaxPause <= 0 {
		cfg.MaxPause = 5 * time.Second
	}
	start := time.Now()
	tries := 0
	try := func() (struct{}, error) {
		tries++
		err := step(ctx)
		if err != nil && (!errors.Is(err, storage.ErrUnavailable) || cfg.Timeout <= 0) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}
	pace := &backoff.ExponentialBackOff{
		InitialInterval:     cfg.FirstPause,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         cfg.MaxPause,
	}
	_, err := backoff.Retry(ctx, try,
		backoff.WithBackOff(pace),
		backoff.WithMaxElapsedTime(cfg.Timeout),
		backoff.WithNotify(func(err error, next time.Duration) {
			logger.WarnContext(ctx, "database not available; retrying",
				"try", tries, "retry_in", next.Round(time.Millisecond), "waited", time.Since(start).Round(time.Millisecond),
				"startup_timeout", cfg.Timeout, "err", err)
		}))
	if perm, ok := err.(*backoff.PermanentError); ok {
		err = perm.Err
	}
	switch {
	case err == nil && tries > 1:
		logger.InfoContext(ctx, "database available", "tries", tries, "waited", time.Since(start).Round(time.Millisecond))
	case errors.Is(err, storage.ErrUnavailable):
		return fmt.Errorf("database not available after %s and %d tries (SHOPAUTH_DATABASE_STARTUP_TIMEOUT is %s): %w",
			time.Since(start).Round(time.Millisecond), tries, cfg.Timeout, err)
	}
	return err
}
