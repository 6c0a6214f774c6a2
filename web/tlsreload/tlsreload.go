package tlsreload

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often the files are read when Config.Interval is
// zero.
const DefaultInterval = 5 * time.Second

// Config names the files and how the Reloader watches them.
type Config struct {
	CertFile, KeyFile string
	// Interval is how often Run reads the files, and how long new content
	// must stay unchanged before it is loaded; DefaultInterval when zero.
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

// Reloader holds the certificate to serve. GetCertificate is safe for
// concurrent use and takes no lock.
type Reloader struct {
	cfg     Config
	current atomic.Pointer[tls.Certificate]

	mu sync.Mutex // one Check at a time; guards the fields below
	// loaded is the digest of the pair being served.
	loaded [sha256.Size]byte
	// pending is the digest of content seen but not loaded yet, since when
	// it has been seen, and whether it was found unloadable (reported
	// once).
	pending      [sha256.Size]byte
	pendingSince time.Time
	refused      bool
}

// New loads the pair, which must be readable and match; an error
// otherwise.
func New(cfg Config) (*Reloader, error) {
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, errors.New("tlsreload: a certificate file and a key file are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{cfg: cfg}
	certPEM, keyPEM, sum, err := r.read()
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	r.current.Store(&cert)
	r.loaded = sum
	return r, nil
}

// GetCertificate serves the current certificate (tls.Config.GetCertificate).
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.current.Load(), nil
}

// Run checks the files every Interval until ctx ends.
func (r *Reloader) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Check()
		}
	}
}

// Check reads both files and loads their content if it differs from what
// is served, has stayed the same since a check at least Interval ago, and
// is a matching certificate and key. It reports whether it loaded a new
// certificate. Content that is unreadable, still changing or no valid pair
// leaves the served certificate as it is.
func (r *Reloader) Check() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	certPEM, keyPEM, sum, err := r.read()
	switch {
	case err != nil:
		// Mid-rename, or gone: keep serving; report each new failure once.
		if !r.refused {
			r.cfg.Logger.Warn("TLS certificate files unreadable; serving the previous certificate", "err", err)
			r.refused = true
		}
		r.pending = [sha256.Size]byte{}
		return false
	case sum == r.loaded:
		r.pending, r.refused = [sha256.Size]byte{}, false
		return false
	case sum != r.pending:
		// New content, first seen: it may be half-written. Wait until it
		// has stayed the same for an interval.
		r.pending, r.pendingSince, r.refused = sum, now, false
		return false
	case now.Sub(r.pendingSince) < r.cfg.Interval || r.refused:
		return false
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		r.cfg.Logger.Warn("new TLS certificate files do not load; serving the previous certificate",
			"cert_file", r.cfg.CertFile, "key_file", r.cfg.KeyFile, "err", err)
		r.refused = true
		return false
	}
	r.current.Store(&cert)
	r.loaded, r.pending = sum, [sha256.Size]byte{}
	r.cfg.Logger.Info("TLS certificate reloaded", "cert_file", r.cfg.CertFile)
	return true
}

// read returns both files and one digest of the pair.
func (r *Reloader) read() (certPEM, keyPEM []byte, sum [sha256.Size]byte, err error) {
	if certPEM, err = os.ReadFile(r.cfg.CertFile); err != nil {
		return nil, nil, sum, err
	}
	if keyPEM, err = os.ReadFile(r.cfg.KeyFile); err != nil {
		return nil, nil, sum, err
	}
	h := sha256.New()
	// Length-prefixed, so moving bytes from one file to the other changes
	// the digest.
	_ = binary.Write(h, binary.BigEndian, uint64(len(certPEM)))
	h.Write(certPEM)
	h.Write(keyPEM)
	copy(sum[:], h.Sum(nil))
	return certPEM, keyPEM, sum, nil
}
