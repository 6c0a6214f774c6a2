package hosted

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCSRF(t *testing.T) {
	x := &csrf{key: bytes.Repeat([]byte{7}, 32), cookie: "c"}
	other := &csrf{key: bytes.Repeat([]byte{8}, 32), cookie: "c"}
	request := url.Values{"client_id": {"app"}, "state": {"s1"}}
	login := flow{form: formLogin, session: "sess-1", request: request}

	// A first visit sets the cookie; its token verifies with that cookie.
	w := httptest.NewRecorder()
	token := x.token(w, httptest.NewRequest(http.MethodGet, "/login", nil), login)
	cookies := w.Result().Cookies()
	require.Len(t, cookies, 1)
	require.True(t, cookies[0].HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookies[0].SameSite)
	withCookie := func(value string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.AddCookie(&http.Cookie{Name: "c", Value: value})
		return r
	}
	cookie := cookies[0].Value
	with := func(f func(*flow)) flow {
		c := login
		f(&c)
		return c
	}

	tests := []struct {
		name   string
		r      *http.Request
		posted string
		flow   flow
		valid  bool
	}{
		{"matching pair", withCookie(cookie), token, login, true},
		{"no cookie", httptest.NewRequest(http.MethodPost, "/login", nil), token, login, false},
		{"no token", withCookie(cookie), "", login, false},
		{"the cookie itself as token (plain double submit)", withCookie(cookie), cookie, login, false},
		{"token of another key", withCookie(cookie), other.mac(cookie, login), login, false},
		{"planted cookie with a token of another cookie", withCookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), token, login, false},
		{"malformed cookie", withCookie("short"), x.mac("short", login), login, false},
		// Bound to the flow (issue 13 item 8): a pair is good for one form
		// of one request in one browser session.
		{"another form", withCookie(cookie), token, with(func(f *flow) { f.form = formConsent }), false},
		{"another session", withCookie(cookie), token, with(func(f *flow) { f.session = "sess-2" }), false},
		{"no session where there was one", withCookie(cookie), token, with(func(f *flow) { f.session = "" }), false},
		{"another request", withCookie(cookie), token, with(func(f *flow) { f.request = url.Values{"client_id": {"app"}, "state": {"s2"}} }), false},
		{"bytes moved from the request to the session", withCookie(cookie), token,
			with(func(f *flow) { f.session, f.request = "sess-1"+request.Encode(), nil }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.valid, x.valid(tt.r, tt.posted, tt.flow))
		})
	}

	t.Run("a returning browser keeps its cookie", func(t *testing.T) {
		w := httptest.NewRecorder()
		require.Equal(t, token, x.token(w, withCookie(cookie), login))
		require.Empty(t, w.Result().Cookies())
	})
}

func TestLanguage(t *testing.T) {
	for locale, want := range map[string]string{"es": "es", "es_ES": "es", "ES-mx": "es", "en": "en", "de": "en", "": "en", "esperanto": "en"} {
		require.Equal(t, want, language(locale), locale)
	}
	// Every language has every message.
	for lang, m := range messages {
		require.Len(t, m, len(messages["en"]), lang)
		for k := range messages["en"] {
			require.NotEmpty(t, m[k], "%s: %s", lang, k)
		}
	}
}
