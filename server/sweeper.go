package server

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

// SweepStore deletes what no longer protects anything, in small batches,
// and leases the job to one replica at a time.
type SweepStore interface {
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	SweepRevokedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepIssuedAccessTokens(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepRefreshTokens(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error)
	SweepLoginFailures(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepAuthorizationCodes(ctx context.Context, expiredBefore, settledBefore time.Time, limit int) (int64, error)
	SweepBrowserSessions(ctx context.Context, before time.Time, limit int) (int64, error)
	SweepSigningKeys(ctx context.Context, before time.Time, limit int) (int64, error)
}

// SweeperConfig holds the sweeper's dependencies and policy.
type SweeperConfig struct {
	Store SweepStore
	// Interval between sweeps.
	Interval time.Duration
	// BatchSize bounds the rows one DELETE removes, so no statement holds
	// locks for long.
	BatchSize int
	// SettledRetention keeps revoked refresh tokens this long, spent ones
	// this long after their family ended (whatever their idle expiry),
	// signing keys this long after they left the JWKS (for `keys list`),
	// and redeemed authorization codes this long after they expired: while
	// one is kept, presenting it again is detected as reuse and revokes its
	// tokens (RFC 9700 §4.14.2, RFC 6749 §4.1.2); once it is gone, it is
	// merely unknown (still invalid_grant).
	SettledRetention time.Duration
	// Leeway is the verifier's allowance past a token's exp: a token
	// verifies until exp plus this by the verifier's clock.
	Leeway time.Duration
	// ClockSkew is how far another replica's clock may be behind the
	// sweeper's. A revoked jti stays listed, and an issued jti stays
	// recorded (so that revoking its family still lists it), until exp plus
	// Leeway plus ClockSkew by the sweeper's clock: then no verifier
	// anywhere accepts the token. Failed-login records, authorization codes
	// and browser sessions are kept ClockSkew longer than they matter.
	ClockSkew time.Duration
	// Lockout is the Authenticator's lockout policy: a failed-login record
	// goes once its policy has forgotten it (ForgottenBefore), so none that
	// still locks or counts toward a lock is deleted.
	Lockout storage.LockoutPolicy
	Now     func() time.Time
	Logger  *slog.Logger
}

// SweepResult counts the rows one sweep deleted.
type SweepResult struct {
	// Ran is false when another replica holds the lease.
	Ran                 bool
	RevokedAccessTokens int64
	IssuedAccessTokens  int64
	RefreshTokens       int64
	LoginFailures       int64
	AuthorizationCodes  int64
	BrowserSessions     int64
	SigningKeys         int64
}

// Sweeper keeps token and login state bounded: it deletes revoked-jti and
// issued-jti rows once no replica accepts their tokens, refresh-token rows
// once expired unspent, long revoked, or their family long ended, failed-login
// records once the lockout policy has forgotten them, authorization codes
// once expired (long expired if redeemed), browser sessions once expired,
// and signing keys long after they left the JWKS. One replica sweeps at a
// time.
type Sweeper struct {
	cfg    SweeperConfig
	holder string
}

// sweepLease names the lease of the sweeper job.
const sweepLease = "token-sweeper"

// NewSweeper checks cfg and returns a Sweeper.
func NewSweeper(cfg SweeperConfig) (*Sweeper, error) {
	if cfg.Store == nil || cfg.Interval <= 0 || cfg.BatchSize <= 0 || cfg.SettledRetention <= 0 || cfg.Leeway < 0 || cfg.ClockSkew < 0 {
		return nil, errors.New("server: sweeper needs a store, a positive interval, batch size and retention, and no negative leeway or skew")
	}
	// A zero window would forget a record the moment its lock ends, and
	// with it the doubling of the next lock.
	if cfg.Lockout.Window <= 0 {
		return nil, errors.New("server: sweeper needs the lockout policy's window")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("sweeper holder id: %w", err)
	}
	return &Sweeper{cfg: cfg, holder: hex.EncodeToString(b[:])}, nil
}

// Run sweeps every Interval until ctx ends. Failures are logged, never
// fatal: the next sweep tries again.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.WarnContext(ctx, "token sweep failed", "err", err)
			continue
		}
		if res.Ran && res.RevokedAccessTokens+res.IssuedAccessTokens+res.RefreshTokens+
			res.LoginFailures+res.AuthorizationCodes+res.BrowserSessions+res.SigningKeys > 0 {
			s.cfg.Logger.InfoContext(ctx, "token sweep",
				"revoked_access_tokens", res.RevokedAccessTokens, "issued_access_tokens", res.IssuedAccessTokens,
				"refresh_tokens", res.RefreshTokens, "login_failures", res.LoginFailures,
				"authorization_codes", res.AuthorizationCodes, "browser_sessions", res.BrowserSessions,
				"signing_keys", res.SigningKeys)
		}
	}
}

// Sweep runs one sweep if this replica gets the lease. Each table is swept
// in batches of BatchSize until a batch comes back short; the lease is
// renewed before every batch, and a sweep that lost it (it ran longer than
// the lease) stops.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := s.cfg.Now().UTC()
	// unacceptable: a token that expired before it verifies nowhere.
	unacceptable := now.Add(-s.cfg.Leeway - s.cfg.ClockSkew)
	expired := now.Add(-s.cfg.ClockSkew)
	settled := now.Add(-s.cfg.SettledRetention)
	forgotten := s.cfg.Lockout.ForgottenBefore(expired)
	settledCodes := expired.Add(-s.cfg.SettledRetention)
	jobs := []struct {
		count *int64
		batch func(limit int) (int64, error)
	}{
		{&res.RevokedAccessTokens, func(l int) (int64, error) { return s.cfg.Store.SweepRevokedAccessTokens(ctx, unacceptable, l) }},
		{&res.IssuedAccessTokens, func(l int) (int64, error) { return s.cfg.Store.SweepIssuedAccessTokens(ctx, unacceptable, l) }},
		{&res.RefreshTokens, func(l int) (int64, error) { return s.cfg.Store.SweepRefreshTokens(ctx, now, settled, l) }},
		{&res.LoginFailures, func(l int) (int64, error) { return s.cfg.Store.SweepLoginFailures(ctx, forgotten, l) }},
		{&res.AuthorizationCodes, func(l int) (int64, error) {
			return s.cfg.Store.SweepAuthorizationCodes(ctx, expired, settledCodes, l)
		}},
		{&res.BrowserSessions, func(l int) (int64, error) { return s.cfg.Store.SweepBrowserSessions(ctx, expired, l) }},
		{&res.SigningKeys, func(l int) (int64, error) { return s.cfg.Store.SweepSigningKeys(ctx, settled, l) }},
	}
	for _, job := range jobs {
		for {
			held, err := s.cfg.Store.AcquireLease(ctx, sweepLease, s.holder, s.cfg.Now().UTC(), 2*s.cfg.Interval)
			if err != nil {
				return res, err
			}
			if !held {
				return res, nil
			}
			res.Ran = true
			n, err := job.batch(s.cfg.BatchSize)
			if err != nil {
				return res, err
			}
			*job.count += n
			if n < int64(s.cfg.BatchSize) {
				break
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}
