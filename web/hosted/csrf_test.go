package hosted

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCSRF(t *testing.T) {
	x := &csrf{key: bytes.Repeat([]byte{7}, 32), cookie: "c"}
	other := &csrf{key: bytes.Repeat([]byte{8}, 32), cookie: "c"}

	// A first visit sets the cookie; its token verifies with that cookie.
	w := httptest.NewRecorder()
	token := x.token(w, httptest.NewRequest(http.MethodGet, "/login", nil))
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

	tests := []struct {
		name   string
		r      *http.Request
		posted string
		valid  bool
	}{
		{"matching pair", withCookie(cookie), token, true},
		{"no cookie", httptest.NewRequest(http.MethodPost, "/login", nil), token, false},
		{"no token", withCookie(cookie), "", false},
		{"the cookie itself as token (plain double submit)", withCookie(cookie), cookie, false},
		{"token of another key", withCookie(cookie), other.mac(cookie), false},
		{"planted cookie with a token of another cookie", withCookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), token, false},
		{"malformed cookie", withCookie("short"), x.mac("short"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.valid, x.valid(tt.r, tt.posted))
		})
	}

	t.Run("a returning browser keeps its cookie", func(t *testing.T) {
		w := httptest.NewRecorder()
		require.Equal(t, token, x.token(w, withCookie(cookie)))
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
