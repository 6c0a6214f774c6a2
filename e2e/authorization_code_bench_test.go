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
	harness.AddCodeFlowClients(b, ts)
	br := harness.NewBrowser(b, ts)
	harness.CodeFor(b, ts, br, nil)
	redeem := url.Values{"redirect_uri": {harness.WebRedirect}, "code_verifier": {harness.TestVerifier}}
	b.ResetTimer()
	for b.Loop() {
		code := harness.CodeFor(b, ts, br, nil)
		resp, tok := harness.ExchangeCode(b, ts, code, redeem, harness.WebClientID, harness.WebSecret)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("exchange: %s", tok.Error)
		}
	}
}
