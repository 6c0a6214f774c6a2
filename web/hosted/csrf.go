package hosted

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// CSRF protection is a signed double-submit cookie (OWASP's "signed double
// submit"): the browser holds a random value in a cookie, and every form
// carries HMAC(key, value). A synchronizer token would need server-side
// state for every anonymous visitor of the login page, i.e. a database
// write per page view that anyone can cause; the double-submit needs none.
// Signing it stops an attacker who can plant a cookie (from a sibling
// subdomain) from pairing it with a form value of their choosing, since
// they cannot compute the MAC without the server's key. SameSite=Lax on
// the cookies is a second, independent defence.
type csrf struct {
	key    []byte
	cookie string
	secure bool
}

const csrfContext = "shopauth hosted csrf v1|"

// token returns the form token for the browser, setting a fresh cookie
// when it has none.
func (x *csrf) token(w http.ResponseWriter, r *http.Request) string {
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
	return x.mac(value)
}

// valid reports whether the posted token matches the browser's cookie.
func (x *csrf) valid(r *http.Request, posted string) bool {
	c, err := r.Cookie(x.cookie)
	if err != nil || !validCookieValue(c.Value) || posted == "" {
		return false
	}
	return hmac.Equal([]byte(x.mac(c.Value)), []byte(posted))
}

func (x *csrf) mac(value string) string {
	m := hmac.New(sha256.New, x.key)
	m.Write([]byte(csrfContext + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCookieValue accepts what token sets: 32 bytes, base64url.
func validCookieValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}
