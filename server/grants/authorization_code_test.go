package grants

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

const (
	redirectURI = "https://printer.example/cb"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// issueCode stores a code for sonia at client as the authorization
// endpoint does and returns it.
func (f *fixture) issueCode(t *testing.T, client *clients.Info, scope, challenge string) string {
	t.Helper()
	code := "code-" + challenge + scope
	now := f.clock.Now()
	f.store.codes[tokens.HashToken(code)] = storage.AuthorizationCode{
		CodeHash: tokens.HashToken(code), ClientID: client.ID, CustomerID: 21, ShopKey: shopKey,
		RedirectURI: redirectURI, Scope: scope, Nonce: "n-0S6", CodeChallenge: challenge,
		AuthTime: now.Add(-time.Minute), FamilyID: "fam-code", IssuedAt: now, ExpiresAt: now.Add(server.CodeTTL),
		SessionHash: "session-hash",
	}
	return code
}

func codeReq(code, redirect, verifier string) server.TokenRequest {
	return server.TokenRequest{GrantType: server.GrantAuthorizationCode, Code: code, RedirectURI: redirect, CodeVerifier: verifier}
}

func newCodeGrant(t *testing.T, f *fixture) *AuthorizationCode {
	t.Helper()
	g, err := NewAuthorizationCode(AuthorizationCodeConfig{Issuance: f.issuance, Codes: f.store, Customers: f.store})
	require.NoError(t, err)
	return g
}

// TestAuthorizationCode: the code's tokens carry the authorization
// request's nonce and the login's auth_time, and start the code's family;
// every mismatch is invalid_grant and spends the code.
func TestAuthorizationCode(t *testing.T) {
	printer := &clients.Info{Client: storage.Client{ID: "printer", Public: true, ShopKey: shopKey,
		GrantTypes: []string{server.GrantAuthorizationCode, server.GrantRefreshToken}, Scopes: []string{"openid", "offline_access"}}}
	other := &clients.Info{Client: storage.Client{ID: "other", Public: true, GrantTypes: []string{server.GrantAuthorizationCode}}}
	tests := []struct {
		name      string
		client    *clients.Info
		challenge string
		req       func(code string) server.TokenRequest
		wait      time.Duration
		kind      refusal.Kind // Fault: success
	}{
		{"PKCE", printer, challengeOf(verifier), func(c string) server.TokenRequest { return codeReq(c, redirectURI, verifier) }, 0, refusal.Fault},
		{"no PKCE for a code without challenge", printer, "", func(c string) server.TokenRequest { return codeReq(c, redirectURI, "") }, 0, refusal.Fault},
		{"no code", printer, "", func(string) server.TokenRequest { return codeReq("", redirectURI, "") }, 0, refusal.InvalidRequest},
		{"unknown code", printer, "", func(string) server.TokenRequest { return codeReq("nope", redirectURI, "") }, 0, refusal.InvalidGrant},
		{"another client", other, "", func(c string) server.TokenRequest { return codeReq(c, redirectURI, "") }, 0, refusal.InvalidGrant},
		{"expired", printer, "", func(c string) server.TokenRequest { return codeReq(c, redirectURI, "") }, server.CodeTTL, refusal.InvalidGrant},
		{"redirect URI differs by a slash", printer, "", func(c string) server.TokenRequest { return codeReq(c, redirectURI+"/", "") }, 0, refusal.InvalidGrant},
		{"redirect URI missing", printer, "", func(c string) server.TokenRequest { return codeReq(c, "", "") }, 0, refusal.InvalidGrant},
		{"redirect URI by host suffix", printer, "", func(c string) server.TokenRequest {
			return codeReq(c, strings.Replace(redirectURI, "printer.example", "evilprinter.example", 1), "")
		}, 0, refusal.InvalidGrant},
		{"wrong verifier", printer, challengeOf(verifier), func(c string) server.TokenRequest {
			return codeReq(c, redirectURI, strings.Repeat("a", 43))
		}, 0, refusal.InvalidGrant},
		{"no verifier for a challenge", printer, challengeOf(verifier), func(c string) server.TokenRequest { return codeReq(c, redirectURI, "") }, 0, refusal.InvalidGrant},
		{"the challenge as verifier (plain)", printer, challengeOf(verifier), func(c string) server.TokenRequest {
			return codeReq(c, redirectURI, challengeOf(verifier))
		}, 0, refusal.InvalidGrant},
		{"a verifier for a code without challenge (downgrade)", printer, "", func(c string) server.TokenRequest {
			return codeReq(c, redirectURI, verifier)
		}, 0, refusal.InvalidGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, RefreshPolicy{})
			code := f.issueCode(t, printer, "openid offline_access", tt.challenge)
			f.clock.Advance(tt.wait)
			resp, err := newCodeGrant(t, f).Run(context.Background(), tt.client, tt.req(code))
			if tt.kind != refusal.Fault {
				requireRefusal(t, err, tt.kind)
				require.Empty(t, f.store.refresh, "nothing issued")
				return
			}
			require.NoError(t, err)
			claims := accessClaims(t, resp.AccessToken)
			require.Equal(t, f.clock.Now().Add(-time.Minute).Unix(), claims.AuthTime)
			require.NotEmpty(t, resp.IDToken)
			row := f.store.row(t, resp.RefreshToken)
			require.Equal(t, "fam-code", row.FamilyID)
			require.Equal(t, "session-hash", row.SessionHash, "the family remembers the code's browser session")
			require.Equal(t, "fam-code", f.store.issued[claims.JTI].FamilyID)
		})
	}
}

// TestCodeReplayRevokes: a code presented twice fails the second time and
// revokes what the first redemption issued (RFC 6749 §4.1.2).
func TestCodeReplayRevokes(t *testing.T) {
	f := newFixture(t, RefreshPolicy{})
	printer := &clients.Info{Client: storage.Client{ID: "printer", Public: true,
		GrantTypes: []string{server.GrantAuthorizationCode, server.GrantRefreshToken}}}
	code := f.issueCode(t, printer, "openid offline_access", challengeOf(verifier))
	g := newCodeGrant(t, f)
	first, err := g.Run(context.Background(), printer, codeReq(code, redirectURI, verifier))
	require.NoError(t, err)

	_, err = g.Run(context.Background(), printer, codeReq(code, redirectURI, verifier))
	requireRefusal(t, err, refusal.InvalidGrant)
	require.NotNil(t, f.store.row(t, first.RefreshToken).RevokedAt, "the replay revokes the refresh token")
	require.True(t, f.store.isRevoked(accessClaims(t, first.AccessToken).JTI), "and the access token")
}

// TestCodeRevokedBeforeTokensAreRecorded: a replay that revokes the code
// between the first redemption and the recording of its tokens leaves the
// first redemption with invalid_grant and nothing issued.
func TestCodeRevokedBeforeTokensAreRecorded(t *testing.T) {
	f := newFixture(t, RefreshPolicy{})
	printer := &clients.Info{Client: storage.Client{ID: "printer", Public: true,
		GrantTypes: []string{server.GrantAuthorizationCode, server.GrantRefreshToken}}}
	code := f.issueCode(t, printer, "offline_access", "")
	racing := &replayingCodes{fakeStore: f.store}
	g, err := NewAuthorizationCode(AuthorizationCodeConfig{Issuance: f.issuance, Codes: racing, Customers: f.store})
	require.NoError(t, err)
	_, err = g.Run(context.Background(), printer, codeReq(code, redirectURI, ""))
	requireRefusal(t, err, refusal.InvalidGrant)
	require.Empty(t, f.store.refresh)
}

// replayingCodes revokes the code just before the tokens are recorded.
type replayingCodes struct{ *fakeStore }

func (r *replayingCodes) IssueCodeTokens(ctx context.Context, hash string, now time.Time, refresh *storage.RefreshToken, access storage.IssuedAccessToken) error {
	if _, err := r.RevokeAuthorizationCode(ctx, hash, now); err != nil {
		return err
	}
	return r.fakeStore.IssueCodeTokens(ctx, hash, now, refresh, access)
}
