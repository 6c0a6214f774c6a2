package e2e

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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/cli"
	"github.com/shopauth/shopauth/e2e/harness"
)

// writeCertPair writes a self-signed certificate for 127.0.0.1 named cn
// and its key.
func writeCertPair(t *testing.T, certFile, keyFile, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
}

// servedCN is the common name of the certificate the server at addr
// presents, "" when it cannot be reached.
func servedCN(addr string) string {
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the certificate only
	if err != nil {
		return ""
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestServeTLSReloadsCertificate: `serve` with SHOPAUTH_TLS_CERT_FILE and
// _KEY_FILE presents the files' certificate and, without a restart, a pair
// restored over them with an older modification time (cp -p, rsync -t),
// which the mtime-driven reloader never loaded (issue 20 item 8).
func TestServeTLSReloadsCertificate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCertPair(t, certFile, keyFile, "first")

	e := harness.NewCLI(t)
	e.Environ = append(e.Environ, "SHOPAUTH_HTTP_ADDR="+addr, "SHOPAUTH_ISSUER=https://"+addr,
		"SHOPAUTH_TLS_CERT_FILE="+certFile, "SHOPAUTH_TLS_KEY_FILE="+keyFile)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errb, e.Environ) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	require.Eventually(t, func() bool { return servedCN(addr) == "first" }, 30*time.Second, 50*time.Millisecond, errb.String())

	old := time.Now().Add(-24 * time.Hour)
	writeCertPair(t, certFile, keyFile, "restored")
	require.NoError(t, os.Chtimes(certFile, old, old))
	require.NoError(t, os.Chtimes(keyFile, old, old))
	require.Eventually(t, func() bool { return servedCN(addr) == "restored" }, 60*time.Second, 200*time.Millisecond,
		"the restored pair is served without a restart")
}
