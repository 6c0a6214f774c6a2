package bench_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/bench"
	"github.com/shopauth/shopauth/config"
)

// fakeOIDC is the least of an OIDC server peer mode needs, strict where a
// real one is: client_secret_basic, the password grant for the bench users
// only, refresh tokens that are spent on use (rotation), the asked scope.
type fakeOIDC struct {
	mu      sync.Mutex
	live    map[string]bool // refresh tokens not yet spent
	n       int
	refused int
}

func (f *fakeOIDC) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base = "http://" + r.Host
		_ = json.NewEncoder(w).Encode(map[string]string{"token_endpoint": base + "/dex/token", "jwks_uri": base + "/dex/keys"})
	})
	mux.HandleFunc("GET /dex/keys", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) })
	mux.HandleFunc("POST /dex/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		f.mu.Lock()
		defer f.mu.Unlock()
		refuse := func(status int) { f.refused++; w.WriteHeader(status) }
		if !ok || id != "peer-client" || secret != "s3cret" {
			refuse(http.StatusUnauthorized)
			return
		}
		switch r.PostFormValue("grant_type") {
		case "password":
			if !strings.HasPrefix(r.PostFormValue("username"), "user") || r.PostFormValue("password") != "pw" ||
				r.PostFormValue("scope") != "openid offline_access" {
				refuse(http.StatusBadRequest)
				return
			}
		case "refresh_token":
			rt := r.PostFormValue("refresh_token")
			if !f.live[rt] {
				refuse(http.StatusBadRequest)
				return
			}
			delete(f.live, rt)
		default:
			refuse(http.StatusBadRequest)
			return
		}
		f.n++
		next := fmt.Sprintf("rt-%d", f.n)
		f.live[next] = true
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "at", "refresh_token": next, "id_token": "x"})
	})
	return mux
}

// TestPeerModeDrivesAnotherServer: peer mode finds the endpoints by
// discovery, signs in with client_secret_basic and follows each worker's
// rotation chain without one refused request.
func TestPeerModeDrivesAnotherServer(t *testing.T) {
	f := &fakeOIDC{live: map[string]bool{}}
	srv := httptest.NewServer(f.handler(t))
	t.Cleanup(srv.Close)
	out := filepath.Join(t.TempDir(), "peer.json")
	var stdout, stderr bytes.Buffer
	err := bench.Measure(t.Context(), config.Config{}, bench.Settings{
		Target: srv.URL, Duration: 300 * time.Millisecond, Concurrency: 4, JSONFile: out,
		ClientID: "peer-client", ClientSecret: "s3cret", Users: "user%d@example.com", Password: "pw",
		Scope: "openid offline_access",
	}, &stdout, &stderr)
	require.NoError(t, err, "stderr: %s", stderr.String())
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	var report bench.Report
	require.NoError(t, json.Unmarshal(raw, &report))
	var names []string
	for _, r := range report.Results {
		names = append(names, r.Name)
		require.Positive(t, r.Requests, r.Name)
		require.Empty(t, r.Errors, r.Name)
	}
	require.Equal(t, bench.PeerScenarios(), names)
	require.Zero(t, f.refused, "every request was one the server accepts")
}

func TestPeerModeChecksItsFlags(t *testing.T) {
	tests := []struct {
		name string
		o    bench.Settings
		want string
	}{
		{"no target", bench.Settings{ClientID: "c", ClientSecret: "s", Password: "p", Users: "u%d"}, "needs --target"},
		{"no password", bench.Settings{Target: "http://x", ClientID: "c", ClientSecret: "s", Users: "u%d"}, "--password"},
		{"users without number", bench.Settings{Target: "http://x", ClientID: "c", ClientSecret: "s", Password: "p", Users: "u"}, "--users"},
		{"shopauth-only scenario", bench.Settings{Target: "http://x", ClientID: "c", ClientSecret: "s", Password: "p", Users: "u%d",
			Scenarios: []string{bench.ScenarioIntrospect}}, "needs shopauth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Duration, tt.o.Concurrency = time.Second, 1
			require.ErrorContains(t, tt.o.Check(), tt.want)
		})
	}
}
