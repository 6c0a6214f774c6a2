package tlsreload

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type pair struct{ cert, key []byte }

func newPair(t *testing.T, cn string) pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
	}
}

// fixture is a reloader over two files in a temporary directory, with a
// clock the test moves.
type fixture struct {
	certFile, keyFile string
	now               time.Time
	r                 *Reloader
	logs              bytes.Buffer
}

func newFixture(t *testing.T, first pair) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"),
		now: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)}
	f.write(t, first.cert, first.key)
	var err error
	f.r, err = New(Config{CertFile: f.certFile, KeyFile: f.keyFile, Interval: time.Minute,
		Now: func() time.Time { return f.now }, Logger: slog.New(slog.NewTextHandler(&f.logs, nil))})
	require.NoError(t, err)
	return f
}

func (f *fixture) write(t *testing.T, cert, key []byte) {
	t.Helper()
	if cert != nil {
		require.NoError(t, os.WriteFile(f.certFile, cert, 0o600))
	}
	if key != nil {
		require.NoError(t, os.WriteFile(f.keyFile, key, 0o600))
	}
}

// served is the common name of the certificate GetCertificate serves.
func (f *fixture) served(t *testing.T) string {
	t.Helper()
	c, err := f.r.GetCertificate(nil)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	require.NoError(t, err)
	return leaf.Subject.CommonName
}

// settle runs a check, moves the clock an interval on, and checks again:
// what content that stayed unchanged that long is loaded by then.
func (f *fixture) settle() bool {
	first := f.r.Check()
	f.now = f.now.Add(time.Minute)
	return f.r.Check() || first
}

// TestReloadsAnyChangeOfContent: new content is served after it stayed
// the same for an interval, whatever the files' times say. With the
// mtime-driven reloader, a pair restored with cp -p or rsync -t (an older
// mtime) was never loaded until a restart.
func TestReloadsAnyChangeOfContent(t *testing.T) {
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		mtime func(t *testing.T, f *fixture)
	}{
		{"renewed (newer mtime)", func(*testing.T, *fixture) {}},
		{"restored with an older mtime (cp -p, rsync -t)", func(t *testing.T, f *fixture) {
			require.NoError(t, os.Chtimes(f.certFile, old, old))
			require.NoError(t, os.Chtimes(f.keyFile, old, old))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, newPair(t, "a"))
			require.NoError(t, os.Chtimes(f.certFile, old, old))
			require.False(t, f.settle(), "nothing changed")
			b := newPair(t, "b")
			f.write(t, b.cert, b.key)
			tc.mtime(t, f)
			require.False(t, f.r.Check(), "first seen: it may still be being written")
			require.Equal(t, "a", f.served(t))
			f.now = f.now.Add(30 * time.Second)
			require.False(t, f.r.Check(), "unchanged for less than an interval")
			f.now = f.now.Add(30 * time.Second)
			require.True(t, f.r.Check())
			require.Equal(t, "b", f.served(t))
			require.Contains(t, f.logs.String(), "TLS certificate reloaded")
			require.False(t, f.settle(), "loaded once")
		})
	}
}

// TestNeverLoadsAHalfWrittenPair: while the files are mid-change the
// previous certificate is served — a certificate with the old key, a
// truncated file, content still changing at every check, a file missing
// between a delete and a rename — and the finished pair then loads.
func TestNeverLoadsAHalfWrittenPair(t *testing.T) {
	b := newPair(t, "b")
	for _, tc := range []struct {
		name     string
		midway   func(t *testing.T, f *fixture)
		reported string
	}{
		{"new certificate, old key", func(t *testing.T, f *fixture) { f.write(t, b.cert, nil) }, "do not load"},
		{"truncated certificate", func(t *testing.T, f *fixture) { f.write(t, b.cert[:len(b.cert)/2], b.key) }, "do not load"},
		{"certificate file missing", func(t *testing.T, f *fixture) { require.NoError(t, os.Remove(f.certFile)) }, "unreadable"},
		{"still being written at every check", func(t *testing.T, f *fixture) {
			for i := 1; i < 4; i++ {
				f.write(t, b.cert[:len(b.cert)*i/4], b.key)
				require.False(t, f.r.Check())
				f.now = f.now.Add(time.Minute)
			}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, newPair(t, "a"))
			tc.midway(t, f)
			for range 3 {
				require.False(t, f.settle())
				require.Equal(t, "a", f.served(t), "the previous certificate is served")
			}
			if tc.reported != "" {
				require.Contains(t, f.logs.String(), tc.reported)
			}
			f.write(t, b.cert, b.key)
			require.True(t, f.settle(), "the finished pair loads")
			require.Equal(t, "b", f.served(t))
		})
	}
}

func TestNewRefusesABadPair(t *testing.T) {
	a, b := newPair(t, "a"), newPair(t, "b")
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	_, err := New(Config{CertFile: cf, KeyFile: kf})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(cf, a.cert, 0o600))
	require.NoError(t, os.WriteFile(kf, b.key, 0o600))
	_, err = New(Config{CertFile: cf, KeyFile: kf})
	require.ErrorContains(t, err, "private key does not match public key")
	_, err = New(Config{CertFile: cf})
	require.Error(t, err)
}

// TestRunServesNewContentWhileHandshakesRead: Run picks a change up within
// two intervals, while GetCertificate is called concurrently (-race).
func TestRunServesNewContentWhileHandshakesRead(t *testing.T) {
	a, b := newPair(t, "a"), newPair(t, "b")
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(cf, a.cert, 0o600))
	require.NoError(t, os.WriteFile(kf, a.key, 0o600))
	r, err := New(Config{CertFile: cf, KeyFile: kf, Interval: 10 * time.Millisecond})
	require.NoError(t, err)
	first, err := r.GetCertificate(nil)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				c, err := r.GetCertificate(&tls.ClientHelloInfo{})
				if err != nil || c == nil {
					panic("no certificate served")
				}
			}
		})
	}
	require.NoError(t, os.WriteFile(cf, b.cert, 0o600))
	require.NoError(t, os.WriteFile(kf, b.key, 0o600))
	require.Eventually(t, func() bool {
		c, _ := r.GetCertificate(nil)
		return c != first
	}, 10*time.Second, 5*time.Millisecond)
	cancel()
	wg.Wait()
	c, _ := r.GetCertificate(nil)
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	require.NoError(t, err)
	require.Equal(t, "b", leaf.Subject.CommonName)
}
