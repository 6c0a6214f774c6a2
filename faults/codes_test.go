package faults_test

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/app"
	"github.com/shopauth/shopauth/server/tokens"
)

// The code flow of the kill-mid-load test (item 4): the demo's first-party
// public app (no consent, PKCE required) signs the demo customer in on the
// hosted login page of one replica, and redeems the code on another.
const (
	codeClient   = app.DemoAppClientID
	codeRedirect = "https://auth.shop.test/demo/callback" // the issuer's /demo/callback
)

// issuedCode is a code a replica answered to the client (a 303 to the
// redirect URI carrying it), with the PKCE pair it was bound to.
type issuedCode struct {
	code, verifier, challenge string
	by                        int // index of the replica that issued it
}

// pkcePair is a fresh S256 verifier and its challenge (RFC 7636 §4.2).
func pkcePair() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

var loginHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// obtainCode runs the hosted code flow on base without a browser: GET
// /oauth2/authorize (the login page, its CSRF cookie), POST /login with
// the page's hidden fields and the demo password, and reads the code off
// the 303 to the client. ok is false when the replica did not answer or
// answered 503 (the test moves on); every answer goes to count; anything
// else is an error.
func obtainCode(base string, by int, count *tally) (c issuedCode, ok bool, err error) {
	verifier, challenge := pkcePair()
	q := url.Values{"response_type": {"code"}, "client_id": {codeClient}, "redirect_uri": {codeRedirect},
		"scope": {"openid email"}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	req, _ := http.NewRequest(http.MethodGet, base+"/oauth2/authorize?"+q.Encode(), nil)
	page := do(req, "login page")
	if page.err != nil || page.status == http.StatusServiceUnavailable {
		if page.err == nil {
			count.add(page)
		}
		return c, false, nil
	}
	count.add(page)
	if page.status != http.StatusOK {
		return c, false, fmt.Errorf("login page: %s", page)
	}
	form := url.Values{}
	for _, m := range loginHidden.FindAllStringSubmatch(page.body, -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("csrf_token") == "" {
		return c, false, fmt.Errorf("login page without a form: %s", page)
	}
	form.Set("email", app.DemoCustomerEmail)
	form.Set("password", app.DemoPassword)
	req, _ = http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The cookies are Secure (the issuer is https), so they are carried by
	// hand: a cookie jar would not send them over http to the replica.
	for _, ck := range (&http.Response{Header: page.header}).Cookies() {
		req.AddCookie(ck)
	}
	a := doNoRedirect(req, "login")
	if a.err != nil || a.status == http.StatusServiceUnavailable {
		if a.err == nil {
			count.add(a)
		}
		return c, false, nil
	}
	count.add(a)
	if a.status != http.StatusSeeOther {
		return c, false, fmt.Errorf("login: %s", a)
	}
	to, err := url.Parse(a.header.Get("Location"))
	if err != nil || to.Scheme+"://"+to.Host+to.Path != codeRedirect || to.Query().Get("code") == "" {
		return c, false, fmt.Errorf("login redirected to %q, not the client with a code", a.header.Get("Location"))
	}
	return issuedCode{code: to.Query().Get("code"), verifier: verifier, challenge: challenge, by: by}, true, nil
}

// noRedirect is client that stops at the first redirect, to read it.
var noRedirect = &http.Client{Timeout: client.Timeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func doNoRedirect(req *http.Request, what string) answer {
	start := time.Now()
	resp, err := noRedirect.Do(req)
	a := answer{what: what, took: time.Since(start), err: err}
	if err != nil {
		return a
	}
	defer resp.Body.Close()
	a.took = time.Since(start)
	a.status, a.header = resp.StatusCode, resp.Header
	return a
}

// redeemCode is the public app's code redemption on base.
func redeemCode(base string, c issuedCode) answer {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {c.code}, "client_id": {codeClient},
		"redirect_uri": {codeRedirect}, "code_verifier": {c.verifier}}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(req, "redeem code")
}

// isInvalidGrant is a clean refusal of a code: 400 invalid_grant in OAuth
// JSON.
func isInvalidGrant(a answer) bool {
	return a.err == nil && a.status == http.StatusBadRequest && strings.Contains(a.body, `"error":"invalid_grant"`)
}

// codeLoad is the code traffic of TestReplicaKilledMidLoad.
type codeLoad struct {
	mu       sync.Mutex
	answered []issuedCode // every code a replica answered
	pending  []issuedCode // answered, left to redeem after the kill
	redeemed map[string]bool
	refused  int // redemptions whose answer was lost, refused cleanly on retry
}

// run obtains codes on live replicas until stop, alternately redeeming
// one at once on another live replica and keeping one for after the kill.
// A redemption whose answer was lost is retried on another replica: it
// must redeem, or be refused with invalid_grant (the lost attempt spent
// it); a first attempt refused is a lost code.
func (l *codeLoad) run(t *testing.T, g int, stop <-chan struct{}, liveIdx func(int) int, at func(int) *replica, count *tally) {
	for i := g; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		by := liveIdx(i)
		c, ok, err := obtainCode(at(by).url, by, count)
		if err != nil {
			t.Errorf("code flow on replica %d: %v", by+1, err)
			return
		}
		if !ok {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		l.mu.Lock()
		l.answered = append(l.answered, c)
		if i%2 == 0 {
			l.pending = append(l.pending, c)
			l.mu.Unlock()
			continue
		}
		l.mu.Unlock()
		failed := false
		for try := 1; try <= 3; try++ {
			r := liveIdx(by + try)
			a := redeemCode(at(r).url, c)
			if a.err == nil {
				count.add(a)
			}
			switch {
			case a.status == http.StatusOK:
				l.mu.Lock()
				l.redeemed[c.code] = true
				l.mu.Unlock()
			case a.err != nil || a.status == http.StatusServiceUnavailable:
				failed = true
				continue
			case failed && isInvalidGrant(a):
				l.mu.Lock()
				l.refused++
				l.mu.Unlock()
			default:
				count.lose(1)
				t.Errorf("code of replica %d refused on replica %d: %s", by+1, r+1, a)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// check runs after the kill on the survivors (indexes 0 and 1): every
// code kept for later redeems exactly once, every code answered is spent
// (a second redemption is invalid_grant, never a 5xx), and every code row
// in the database is whole. Mutants that fail it: CreateAuthorizationCode
// storing no code_challenge (or no redirect_uri) in
// storage/sqlstore/authcodes.go fails the row check and the redemptions;
// RedeemAuthorizationCode without "AND redeemed_at IS NULL" redeems a
// spent code twice.
func (l *codeLoad) check(t *testing.T, db *sql.DB, at func(int) *replica, count *tally) {
	t.Helper()
	require.NotEmpty(t, l.answered, "no code was answered during the load")
	require.NotEmpty(t, l.pending, "no code was kept for after the kill")
	for i, c := range l.pending {
		a := redeemCode(at(i%2).url, c)
		count.add(a)
		if a.status != http.StatusOK {
			count.lose(1)
			t.Errorf("code of replica %d, kept across the kill, not redeemed: %s", c.by+1, a)
			continue
		}
		l.redeemed[c.code] = true
	}
	for i, c := range l.answered {
		a := redeemCode(at(i%2).url, c)
		count.add(a)
		if !isInvalidGrant(a) {
			t.Errorf("code of replica %d redeemed twice, or not refused cleanly: %s", c.by+1, a)
		}
	}
	// Every answered code is in the database as issued, and spent.
	for _, c := range l.answered {
		var client, redirect, challenge, shop, family string
		var customer uint64
		var issued, expires, redeemedAt sql.NullTime
		err := db.QueryRow(`SELECT client_id, redirect_uri, code_challenge, shop_key, family_id, customer_id,
			issued_at, expires_at, redeemed_at FROM authorization_codes WHERE code_hash = ?`, tokens.HashToken(c.code)).
			Scan(&client, &redirect, &challenge, &shop, &family, &customer, &issued, &expires, &redeemedAt)
		require.NoError(t, err, "code of replica %d not stored", c.by+1)
		require.Equal(t, []string{codeClient, codeRedirect, c.challenge, app.DemoShop},
			[]string{client, redirect, challenge, shop}, "code row of replica %d", c.by+1)
		require.NotEmpty(t, family, "code without a family")
		require.NotZero(t, customer, "code without its customer")
		require.True(t, issued.Valid && expires.Valid && expires.Time.After(issued.Time), "code without its expiry: %v %v", issued, expires)
		require.True(t, redeemedAt.Valid, "answered code not spent after its redemption")
	}
	// No code row anywhere lacks a field (a code of a request that died
	// with the replica is there whole or not at all).
	var partial int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM authorization_codes WHERE client_id = '' OR customer_id = 0
		OR shop_key = '' OR redirect_uri = '' OR code_challenge = '' OR family_id = ''
		OR issued_at IS NULL OR expires_at IS NULL OR auth_time IS NULL OR session_hash = ''`).Scan(&partial))
	require.Zero(t, partial, "code rows without their client, customer, redirect URI, challenge, expiry or browser session")
	t.Logf("codes: %d answered, %d redeemed, %d refused cleanly after a lost answer", len(l.answered), len(l.redeemed), l.refused)
}
