package carts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

const token = "sadsdfuh3r4bibcjsdh8sdssd9hs78dh"

// fakeStore records calls and answers from fixed results.
type fakeStore struct {
	claim    storage.Cart
	claimErr error
	current  storage.Cart
	curErr   error
	claims   int
}

func (f *fakeStore) GetCustomerCart(context.Context, string, uint64) (storage.Cart, error) {
	return f.current, f.curErr
}

func (f *fakeStore) ClaimAnonymousCart(_ context.Context, _, _ string, _ uint64) (storage.Cart, error) {
	f.claims++
	return f.claim, f.claimErr
}

func TestDatabaseHandOver(t *testing.T) {
	fault := errors.New("database on fire")
	tests := []struct {
		name       string
		store      fakeStore
		token      string
		wantID     uint64 // 0: no cart
		wantErr    bool
		wantClaims int
	}{
		{name: "token claims the anonymous cart", store: fakeStore{claim: storage.Cart{ID: 5}, current: storage.Cart{ID: 1}}, token: token, wantID: 5, wantClaims: 1},
		{name: "unknown token falls back to the current cart", store: fakeStore{claimErr: storage.ErrNotFound, current: storage.Cart{ID: 1}}, token: token, wantID: 1, wantClaims: 1},
		{name: "no token: current cart, no claim", store: fakeStore{current: storage.Cart{ID: 1}}, wantID: 1},
		{name: "no token, no cart", store: fakeStore{curErr: storage.ErrNotFound}},
		{name: "claim fault", store: fakeStore{claimErr: fault}, token: token, wantErr: true, wantClaims: 1},
		{name: "lookup fault", store: fakeStore{curErr: fault}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDatabase(&tt.store)
			require.NoError(t, err)
			got, err := d.HandOver(context.Background(), Request{ShopKey: "acme12aa", CustomerID: 21, Token: tt.token})
			require.Equal(t, tt.wantClaims, tt.store.claims)
			if tt.wantErr {
				require.ErrorIs(t, err, fault)
				return
			}
			require.NoError(t, err)
			if tt.wantID == 0 {
				require.Nil(t, got)
				return
			}
			require.Equal(t, tt.wantID, got.Stored.ID)
		})
	}
}

func TestServiceLogsAndSwallowsFailures(t *testing.T) {
	var logs bytes.Buffer
	fault := errors.New("database on fire")
	s, err := New(mustDatabase(t, &fakeStore{claimErr: fault}), slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err)
	require.Nil(t, s.AfterLogin(context.Background(), Request{ShopKey: "acme12aa", CustomerID: 21, Token: token}))
	require.Contains(t, logs.String(), `"level":"WARN"`)
	require.Contains(t, logs.String(), "database on fire")
	require.NotContains(t, logs.String(), token, "the cart token is a secret")

	ok, err := New(mustDatabase(t, &fakeStore{claim: storage.Cart{ID: 9}}), nil)
	require.NoError(t, err)
	require.Equal(t, uint64(9), ok.AfterLogin(context.Background(), Request{Token: token}).Stored.ID)
}

func mustDatabase(t *testing.T, s Store) *Database {
	d, err := NewDatabase(s)
	require.NoError(t, err)
	return d
}

func TestWebhook(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		status   int
		answer   string
		delay    time.Duration
		wantBody string
		wantDoc  string // "" with wantErr false: no cart
		wantErr  string
	}{
		{
			name: "cart object is passed on compacted", token: token, status: 200,
			answer:   "{\"id\": 7, \"lines\": [ {\"sku\":\"A\"} ], \"info\": null}\n",
			wantBody: `{"shop":"acme12aa","customer_id":21,"cart_token":"` + token + `"}`,
			wantDoc:  `{"id":7,"lines":[{"sku":"A"}],"info":null}`,
		},
		{
			name: "no token is sent as null; null answer is no cart", status: 200, answer: "null",
			wantBody: `{"shop":"acme12aa","customer_id":21,"cart_token":null}`,
		},
		{name: "server error", token: token, status: 500, answer: `{"id":1}`, wantErr: "status 500"},
		{name: "redirect is not followed", token: token, status: 302, answer: "", wantErr: "status 302"},
		{name: "not JSON", token: token, status: 200, answer: "<html>", wantErr: "not JSON"},
		{name: "array is not a cart", token: token, status: 200, answer: "[]", wantErr: "neither"},
		{name: "string is not a cart", token: token, status: 200, answer: `"cart"`, wantErr: "neither"},
		{name: "too slow", token: token, status: 200, answer: `{"id":1}`, delay: 300 * time.Millisecond, wantErr: "cart webhook"},
		{name: "too large", token: token, status: 200, answer: `{"x":"` + strings.Repeat("a", maxWebhookAnswer) + `"}`, wantErr: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotBody, gotType, gotMethod string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				gotBody, gotType, gotMethod = string(b), r.Header.Get("Content-Type"), r.Method
				if tt.delay > 0 {
					select {
					case <-time.After(tt.delay):
					case <-r.Context().Done():
					}
				}
				if tt.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			// Generous unless the case is about the timeout: the machine
			// may be loaded.
			timeout := 10 * time.Second
			if tt.delay > 0 {
				timeout = 100 * time.Millisecond
			}
			w, err := NewWebhook(srv.URL+"/hook", timeout)
			require.NoError(t, err)
			got, err := w.HandOver(context.Background(), Request{ShopKey: "acme12aa", CustomerID: 21, Token: tt.token})
			srv.Close() // waits for the handler: its captures are safe to read
			require.Equal(t, http.MethodPost, gotMethod)
			require.Equal(t, "application/json", gotType)
			if tt.wantBody != "" {
				require.JSONEq(t, tt.wantBody, gotBody)
			}
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			if tt.wantDoc == "" {
				require.Nil(t, got)
				return
			}
			require.Nil(t, got.Stored)
			require.Equal(t, tt.wantDoc, string(got.Document))
			require.True(t, json.Valid(got.Document))
		})
	}
}

func TestWebhookDefaults(t *testing.T) {
	w, err := NewWebhook("https://carts.example.com/hook", 0)
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, w.timeout)
	for _, bad := range []string{"", "/hook", "ftp://carts.example.com/hook", "https://"} {
		_, err := NewWebhook(bad, 0)
		require.Error(t, err, bad)
	}
}

func TestWebhookUnreachableLogsNoURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook"
	srv.Close()
	w, err := NewWebhook(url, 0)
	require.NoError(t, err)
	_, err = w.HandOver(context.Background(), Request{ShopKey: "acme12aa", CustomerID: 21})
	require.ErrorContains(t, err, "cart webhook")
	require.NotContains(t, err.Error(), url)
}
