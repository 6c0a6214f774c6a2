package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/server/oautherr"
)

func TestParseBearer(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, method, header, contentType, body string
		want                                    string
		wantErr                                 *oautherr.Error
	}{
		{name: "header", method: http.MethodGet, header: "Bearer abc.def-_~+/==", want: "abc.def-_~+/=="},
		{name: "scheme is case-insensitive", method: http.MethodGet, header: "BEARER abc", want: "abc"},
		{name: "form body on POST", method: http.MethodPost, contentType: form, body: "access_token=abc", want: "abc"},
		{name: "JSON body is not ours", method: http.MethodPost, header: "Bearer abc", contentType: "application/json", body: `{"access_token":"x"}`, want: "abc"},
		{name: "form body ignored on GET", method: http.MethodGet, contentType: form, body: "access_token=abc", wantErr: errNoBearer},
		{name: "nothing", method: http.MethodGet, wantErr: errNoBearer},
		{name: "other scheme", method: http.MethodGet, header: "Basic Zm9vOmJhcg==", wantErr: errNoBearer},
		{name: "two methods", method: http.MethodPost, header: "Bearer abc", contentType: form, body: "access_token=abc", wantErr: oautherr.ErrInvalidRequest},
		{name: "empty token", method: http.MethodGet, header: "Bearer ", wantErr: oautherr.ErrInvalidRequest},
		{name: "not a b64token", method: http.MethodGet, header: `Bearer a"b`, wantErr: oautherr.ErrInvalidRequest},
		{name: "padding only", method: http.MethodGet, header: "Bearer ==", wantErr: oautherr.ErrInvalidRequest},
		{name: "repeated body parameter", method: http.MethodPost, contentType: form, body: "access_token=a&access_token=b", wantErr: oautherr.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/userinfo", strings.NewReader(tc.body))
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			got, err := ParseBearer(r)
			if tc.wantErr != nil {
				require.Error(t, err)
				require.Equal(t, tc.wantErr.Status, oautherr.From(err).Status)
				require.Equal(t, tc.wantErr.Code, oautherr.From(err).Code)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
