package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/shopauth/shopauth/e2e/harness"
)

// BenchmarkCodeFlowWithSession measures what a signed-in customer's
// browser and a client cost the server per authorization: the authorize
// request answered from the session with a code, and the code's redemption
// (PKCE, atomic spend, access token, token record) at the token endpoint.
// Real HTTP on loopback over SQLite.
func BenchmarkCodeFlowWithSession(b *testing.B) {
	ts := harness.NewTestServer(b)
	addCodeFlowClients(b, ts)
	br := newBrowser(b, ts)
	codeFor(b, ts, br, nil)
	redeem := url.Values{"redirect_uri": {webRedirect}, "code_verifier": {testVerifier}}
	b.ResetTimer()
	for b.Loop() {
		code := codeFor(b, ts, br, nil)
		resp, tok := exchangeCode(b, ts, code, redeem, webClientID, webSecret)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("exchange: %s", tok.Error)
		}
	}
}
