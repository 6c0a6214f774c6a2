package hosted

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
)

// CSRF protection is a signed double-submit cookie (OWASP's "signed double
// submit"), bound to the flow: the browser holds a random value in a
// cookie, and every form carries HMAC(key, form, cookie value, browser
// session, request). A synchronizer token would need server-side state
// for every anonymous visitor of the login page, i.e. a database write per
// page view that anyone can cause; the double-submit needs none.
//
// Signing alone is not enough: anyone can get a valid (cookie, token)
// pair for their own browser, and an attacker who can plant cookies in the
// victim's browser (a sibling subdomain can, unless the cookie is
// __Host-) could then post any form there. So the MAC also covers:
//   - which form it is for (login, consent, logout), so a pair from the
//     anonymous login page cannot post a consent;
//   - the browser session cookie's value (HttpOnly, never shown to anyone,
//     new at every login), so a pair made in the attacker's browser
//     completes nothing of a victim's session: no consent to the
//     attacker's app, no logout, no login over the victim's session;
//   - the request the form continues (the authorization request, or the
//     logout request), so a pair for the attacker's authorization request
//     cannot complete the victim's.
//
// What remains: a victim without a session, in whose browser an attacker
// can plant a cookie, can be signed in to the attacker's account through
// the attacker's own authorization request (login CSRF). With an https
// issuer the cookie is __Host-, which a sibling subdomain cannot plant,
// and SameSite=Lax keeps cross-site posts from carrying it at all.
type csrf struct {
	key    []byte
	cookie string
	secure bool
}

// csrfContext separates these MACs from any other use of the key.
const csrfContext = "shopauth hosted csrf v2"

// Forms a token is good for.
const (
	formLogin   = "login"
	formConsent = "consent"
	formLogout  = "logout"
)

// flow is what a token is bound to besides the browser's CSRF cookie.
type flow struct {
	form    string     // formLogin, formConsent or formLogout
	session string     // the browser session cookie's value, "" without one
	request url.Values // the request the form continues, canonical
}

// token returns the form token for the browser and flow, setting a fresh
// cookie when the browser has none.
func (x *csrf) token(w http.ResponseWriter, r *http.Request, f flow) string {
	value := ""
	if c, err := r.Cookie(x.cookie); err == nil && validCookieValue(c.Value) {
		value = c.Value
	} else {
		var b [32]byte
		_, _ = rand.Read(b[:])
		value = base64.RawURLEncoding.EncodeToString(b[:])
		http.SetCookie(w, &http.Cookie{
			Name: x.cookie, Value: value, Path: "/", HttpOnly: true, Secure: x.secure, SameSite: http.SameSiteLaxMode,
		})
	}
	return x.mac(value, f)
}

// valid reports whether the posted token matches the browser's cookie and
// the flow.
func (x *csrf) valid(r *http.Request, posted string, f flow) bool {
	c, err := r.Cookie(x.cookie)
	if err != nil || !validCookieValue(c.Value) || posted == "" {
		return false
	}
	return hmac.Equal([]byte(x.mac(c.Value, f)), []byte(posted))
}

func (x *csrf) mac(value string, f flow) string {
	m := hmac.New(sha256.New, x.key)
	// Every field length-prefixed: no two flows encode alike.
	for _, s := range []string{csrfContext, f.form, value, f.session, f.request.Encode()} {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		m.Write([]byte(s))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCookieValue accepts what token sets: 32 bytes, base64url.
func validCookieValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}
