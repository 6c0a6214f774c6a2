package keys

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/storage"
)

func TestNewConfig(t *testing.T) {
	kek := testKEK(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "no store", cfg: Config{KEK: kek}, wantErr: "Store is required"},
		{name: "no KEK", cfg: Config{Store: &fakeStore{}}, wantErr: "0 bytes, want 32"},
		{name: "short KEK", cfg: Config{Store: &fakeStore{}, KEK: kek[:16]}, wantErr: "16 bytes, want 32"},
		{name: "negative max age", cfg: Config{Store: &fakeStore{}, KEK: kek, JWKSMaxAge: -time.Second}, wantErr: "negative JWKSMaxAge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), tt.cfg)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestNewDefaults(t *testing.T) {
	store := &fakeStore{}
	before := time.Now()
	m, err := New(t.Context(), Config{Store: store, KEK: testKEK(t)})
	require.NoError(t, err)
	require.Equal(t, time.Hour, m.JWKSMaxAge())
	require.True(t, m.Ready())

	keys := store.snapshot()
	require.Len(t, keys, 1)
	k := keys[0]
	require.Equal(t, int64(1), k.Generation)
	require.Equal(t, "RS256", k.Algorithm)
	require.Equal(t, k.KID, m.CurrentKID())
	require.False(t, k.NotBefore.Before(before), "the first key signs at once")
	require.Nil(t, k.RetireAfter)
	require.Nil(t, k.RemoveAfter)
	require.NotContains(t, string(k.PublicJWK), `"d"`)

	// kid is the RFC 7638 thumbprint of the public key.
	var jwk jose.JSONWebKey
	require.NoError(t, json.Unmarshal(k.PublicJWK, &jwk))
	require.Equal(t, k.KID, jwk.KeyID)
	tp, err := jwk.Thumbprint(crypto.SHA256)
	require.NoError(t, err)
	require.Equal(t, k.KID, b64url(tp))

	m2, err := New(t.Context(), Config{Store: store, KEK: testKEK(t), JWKSMaxAge: 5 * time.Minute})
	require.ErrorIs(t, err, ErrWrongKEK, "a different KEK")
	require.Nil(t, m2)
}

func TestNewWrongKEK(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	m := newManager(t, store, testKEK(t), clk)

	_, err := New(t.Context(), Config{Store: store, KEK: testKEK(t), Now: clk.Now})
	require.ErrorIs(t, err, ErrWrongKEK)
	require.ErrorContains(t, err, "cannot decrypt signing key "+m.CurrentKID()+": wrong SHOPAUTH_KEY_ENCRYPTION_KEY?")
	require.Len(t, store.snapshot(), 1, "a wrong KEK must not create a second key")
}

func TestNewAADBinding(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	kek := testKEK(t)
	aead, err := newAEAD(kek)
	require.NoError(t, err)
	for gen := int64(1); gen <= 2; gen++ {
		row, _, err := generateKey(aead, RS256, gen, clk.Now(), clk.Now())
		require.NoError(t, err)
		require.NoError(t, store.CreateSigningKey(t.Context(), row))
	}
	_ = newManager(t, store, kek, clk) // both decrypt as stored

	// Swap the ciphertexts (and public JWKs, so only the AAD can object).
	store.mu.Lock()
	a, b := &store.keys[0], &store.keys[1]
	a.EncryptedPrivateKey, b.EncryptedPrivateKey = b.EncryptedPrivateKey, a.EncryptedPrivateKey
	a.PublicJWK, b.PublicJWK = nil, nil
	store.mu.Unlock()

	_, err = New(t.Context(), Config{Store: store, KEK: kek, Now: clk.Now})
	require.ErrorIs(t, err, ErrWrongKEK)
}

func TestNewRejectsInconsistentRows(t *testing.T) {
	kek := testKEK(t)
	aead, err := newAEAD(kek)
	require.NoError(t, err)
	clk := newClock()
	rowA, _, err := generateKey(aead, RS256, 1, clk.Now(), clk.Now())
	require.NoError(t, err)
	rowB, _, err := generateKey(aead, RS256, 2, clk.Now(), clk.Now())
	require.NoError(t, err)

	tests := []struct {
		name    string
		mutate  func(*storage.SigningKey)
		wantErr string
	}{
		{name: "public JWK of another key", mutate: func(k *storage.SigningKey) { k.PublicJWK = rowB.PublicJWK }, wantErr: "does not match"},
		{name: "unsupported algorithm", mutate: func(k *storage.SigningKey) { k.Algorithm = "HS256" }, wantErr: "unsupported algorithm"},
		{name: "bad public JWK", mutate: func(k *storage.SigningKey) { k.PublicJWK = []byte("{") }, wantErr: "stored public JWK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := rowA
			tt.mutate(&row)
			store := &fakeStore{keys: []storage.SigningKey{row}}
			_, err := New(t.Context(), Config{Store: store, KEK: kek, Now: clk.Now})
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestRestartUsesSameKey(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	m1 := newManager(t, store, kek, clk)
	tok, err := m1.Sign([]byte(`{"sub":"21"}`), TypAccessToken)
	require.NoError(t, err)

	clk.Add(time.Minute)
	m2 := newManager(t, store, kek, clk)
	require.Equal(t, m1.CurrentKID(), m2.CurrentKID())
	require.Len(t, store.snapshot(), 1)
	require.Equal(t, m1.JWKS(), m2.JWKS())

	v, err := m2.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, `{"sub":"21"}`, string(v.Payload))
	require.Equal(t, m1.CurrentKID(), v.KID)
	require.Equal(t, TypAccessToken, v.Typ)
}

func TestConcurrentNewOnEmptyStore(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	const n = racer.N
	var ms [n]*Manager
	errs := racer.Run(n, func(i int) (err error) {
		ms[i], err = New(t.Context(), Config{Store: store, KEK: kek, Now: clk.Now})
		return err
	})
	require.Len(t, store.snapshot(), 1, "exactly one key")
	kid := store.snapshot()[0].KID
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, kid, ms[i].CurrentKID())
	}
}

func TestNewWhenAllKeysRetired(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	m1 := newManager(t, store, kek, clk)
	old := m1.CurrentKID()
	store.update(old, func(k *storage.SigningKey) { k.RetireAfter = ptr(clk.Now()) })

	clk.Add(time.Second)
	m2 := newManager(t, store, kek, clk)
	require.NotEqual(t, old, m2.CurrentKID())
	keys := store.snapshot()
	require.Len(t, keys, 2)
	require.Equal(t, int64(2), keys[1].Generation)

	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(m2.JWKS(), &set))
	require.Len(t, set.Keys, 2, "the retired key stays published")
}

func TestJWKS(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	m := newManager(t, store, testKEK(t), clk)
	raw := m.JWKS()

	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.Keys, 1)
	members := make([]string, 0)
	for k := range doc.Keys[0] {
		members = append(members, k)
	}
	require.ElementsMatch(t, []string{"kty", "use", "alg", "kid", "n", "e"}, members)
	require.Equal(t, "RSA", doc.Keys[0]["kty"])
	require.Equal(t, "sig", doc.Keys[0]["use"])
	require.Equal(t, "RS256", doc.Keys[0]["alg"])
	require.Equal(t, m.CurrentKID(), doc.Keys[0]["kid"])
	require.Equal(t, "AQAB", doc.Keys[0]["e"])
	require.NotContains(t, doc.Keys[0]["n"], "=")
	for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`} {
		require.NotContains(t, string(raw), private)
	}

	// A client with only the JWKS verifies our tokens.
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(raw, &set))
	keys := set.Key(m.CurrentKID())
	require.Len(t, keys, 1)
	require.True(t, keys[0].IsPublic())
	tok, err := m.Sign([]byte("hello"), TypIDToken)
	require.NoError(t, err)
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	payload, err := jws.Verify(keys[0])
	require.NoError(t, err)
	require.Equal(t, "hello", string(payload))
}

func TestSignHeaders(t *testing.T) {
	m := newManager(t, &fakeStore{}, testKEK(t), newClock())
	tests := []struct {
		typ     string
		wantTyp any
	}{
		{typ: TypAccessToken, wantTyp: "at+jwt"},
		{typ: TypIDToken, wantTyp: "JWT"},
		{typ: "logout+jwt", wantTyp: "logout+jwt"},
		{typ: "", wantTyp: nil},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			tok, err := m.Sign([]byte(`{"a":1}`), tt.typ)
			require.NoError(t, err)
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
			require.NoError(t, err)
			h := jws.Signatures[0].Protected
			require.Equal(t, "RS256", h.Algorithm)
			require.Equal(t, m.CurrentKID(), h.KeyID)
			require.Equal(t, tt.wantTyp, h.ExtraHeaders[jose.HeaderType])
			require.Nil(t, h.JSONWebKey, "no embedded jwk (OIDC Core §2)")

			v, err := m.Verify(tok)
			require.NoError(t, err)
			require.Equal(t, `{"a":1}`, string(v.Payload))
			require.Equal(t, tt.typ, v.Typ)
		})
	}
}

func TestPublicKeyPEM(t *testing.T) {
	m := newManager(t, &fakeStore{}, testKEK(t), newClock())
	b, err := m.PublicKeyPEM()
	require.NoError(t, err)
	block, rest := pem.Decode(b)
	require.NotNil(t, block)
	require.Empty(t, rest)
	require.Equal(t, "PUBLIC KEY", block.Type)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)

	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(m.JWKS(), &set))
	require.True(t, pub.(*rsa.PublicKey).Equal(set.Keys[0].Key))
}

// TestScheduleOverTime walks a pre-published key through next → current
// and the old key through retired → removed, with one Reload per store
// change and none for the mere passing of time.
func TestScheduleOverTime(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	m := newManager(t, store, kek, clk)
	oldKID := m.CurrentKID()
	oldTok, err := m.Sign([]byte("old"), TypAccessToken)
	require.NoError(t, err)

	// Another replica publishes a key one hour ahead.
	other := newManager(t, store, kek, clk)
	require.NoError(t, other.createTestKey(t, clk.Now().Add(time.Hour)))
	newKID := other.List()[1].KID

	require.NoError(t, m.Reload(t.Context()))
	require.Equal(t, oldKID, m.CurrentKID(), "a key published ahead does not sign")
	require.Equal(t, []KeyState{StateCurrent, StateNext}, states(m.List()))
	require.Equal(t, []string{newKID, oldKID}, jwksKIDs(t, m.JWKS()), "newest first")

	lists := store.lists
	clk.Add(time.Hour)
	require.Equal(t, newKID, m.CurrentKID(), "takes over on time, without a Reload")
	require.Equal(t, lists, store.lists)
	require.Equal(t, []KeyState{StateRetired, StateCurrent}, states(m.List()))
	tok, err := m.Sign([]byte("new"), TypAccessToken)
	require.NoError(t, err)
	v, err := m.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, newKID, v.KID)
	_, err = m.Verify(oldTok)
	require.NoError(t, err, "the old key still verifies while published")

	// The old key is retired with a removal date.
	store.update(oldKID, func(k *storage.SigningKey) {
		k.RetireAfter = ptr(clk.Now())
		k.RemoveAfter = ptr(clk.Now().Add(time.Hour))
	})
	require.NoError(t, m.Reload(t.Context()))
	require.Equal(t, []string{newKID, oldKID}, jwksKIDs(t, m.JWKS()))

	clk.Add(time.Hour)
	require.Equal(t, []string{newKID}, jwksKIDs(t, m.JWKS()), "removed on time")
	_, err = m.Verify(oldTok)
	require.ErrorIs(t, err, ErrUnknownKey)
	infos := m.List()
	require.Equal(t, []KeyState{StateRetired, StateCurrent}, states(infos))
	require.False(t, infos[0].Published)
	require.True(t, infos[1].Published)
}

func TestReloadReusesWhenUnchanged(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	m := newManager(t, store, testKEK(t), clk)
	before := m.JWKS()
	mat := m.snap.Load().current[RS256]

	require.NoError(t, m.Reload(t.Context()))
	require.Same(t, unsafe.SliceData(before), unsafe.SliceData(m.JWKS()), "JWKS bytes not rebuilt")
	require.Same(t, mat, m.snap.Load().current[RS256], "key not decrypted again")

	// A schedule-only change (retire date in the future) keeps key material
	// and, with the same published set, the JWKS bytes.
	store.update(m.CurrentKID(), func(k *storage.SigningKey) { k.RetireAfter = ptr(clk.Now().Add(time.Hour)) })
	require.NoError(t, m.Reload(t.Context()))
	require.Same(t, mat, m.snap.Load().current[RS256])
	require.Same(t, unsafe.SliceData(before), unsafe.SliceData(m.JWKS()))
	require.Equal(t, clk.Now().Add(time.Hour), *m.List()[0].RetireAfter)
}

func TestReloadErrorKeepsKeys(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	m := newManager(t, store, kek, clk)
	kid := m.CurrentKID()

	store.setListErr(errors.New("database is gone"))
	require.ErrorContains(t, m.Reload(t.Context()), "database is gone")
	store.setListErr(nil)

	// A key this replica cannot decrypt: the whole reload is refused.
	aead, err := newAEAD(testKEK(t))
	require.NoError(t, err)
	row, _, err := generateKey(aead, RS256, 2, clk.Now(), clk.Now())
	require.NoError(t, err)
	require.NoError(t, store.CreateSigningKey(t.Context(), row))
	require.ErrorIs(t, m.Reload(t.Context()), ErrWrongKEK)

	require.Equal(t, kid, m.CurrentKID())
	_, err = m.Sign([]byte("x"), TypAccessToken)
	require.NoError(t, err)
}

func TestNoSigningKey(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	m := newManager(t, store, testKEK(t), clk)
	store.update(m.CurrentKID(), func(k *storage.SigningKey) { k.RetireAfter = ptr(clk.Now().Add(time.Minute)) })
	require.NoError(t, m.Reload(t.Context()))
	require.True(t, m.Ready())

	clk.Add(time.Minute)
	require.False(t, m.Ready())
	require.Empty(t, m.CurrentKID())
	_, err := m.Sign([]byte("x"), TypAccessToken)
	require.ErrorIs(t, err, ErrNoSigningKey)
	_, err = m.PublicKeyPEM()
	require.ErrorIs(t, err, ErrNoSigningKey)
	require.Len(t, jwksKIDs(t, m.JWKS()), 1, "still published")
}

func TestSync(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	m := newManager(t, store, kek, clk)
	require.ErrorContains(t, m.Sync(t.Context(), 0), "must be positive")

	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- m.Sync(ctx, 5*time.Millisecond) }()

	other := newManager(t, store, kek, clk)
	require.NoError(t, other.createTestKey(t, clk.Now()))
	require.Eventually(t, func() bool { return len(jwksKIDs(t, m.JWKS())) == 2 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, other.CurrentKID(), m.CurrentKID())

	cancel()
	require.ErrorIs(t, <-done, ctx.Err())
}

// TestConcurrentUse runs signing, verifying, JWKS reads, reloads and clock
// changes at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	m := newManager(t, store, kek, clk)
	other := newManager(t, store, kek, clk)
	require.NoError(t, other.createTestKey(t, clk.Now().Add(time.Second)))

	errs := racer.Run(racer.N, func(int) error {
		for i := range 25 {
			tok, err := m.Sign([]byte(`{"i":1}`), TypAccessToken)
			if err != nil {
				return err
			}
			if _, err = m.Verify(tok); err != nil {
				return err
			}
			if len(m.JWKS()) == 0 {
				return errors.New("empty JWKS")
			}
			if i%5 == 0 {
				if err := m.Reload(t.Context()); err != nil {
					return err
				}
				clk.Add(100 * time.Millisecond)
			}
			_ = m.List()
		}
		return nil
	})
	for i, err := range errs {
		require.NoError(t, err, "racer %d", i)
	}
	require.Equal(t, other.CurrentKID(), m.CurrentKID())
}

func states(infos []KeyInfo) []KeyState {
	out := make([]KeyState, len(infos))
	for i, k := range infos {
		out[i] = k.State
	}
	return out
}

func jwksKIDs(t testing.TB, raw []byte) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(raw, &set))
	var kids []string
	for _, k := range set.Keys {
		require.True(t, k.IsPublic())
		kids = append(kids, k.KeyID)
	}
	return kids
}

// hangingStore answers ListSigningKeys only when its context ends, like a
// frozen database.
type hangingStore struct {
	*fakeStore
	hang  atomic.Bool
	calls atomic.Int32
}

func (s *hangingStore) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	if s.hang.Load() {
		s.calls.Add(1)
		<-ctx.Done()
		return nil, fmt.Errorf("list signing keys: %w", storage.ErrUnavailable)
	}
	return s.fakeStore.ListSigningKeys(ctx)
}

// TestSyncSurvivesAFrozenDatabase: each reload gets at most one interval,
// so a database that stops answering holds no sync for ever (the loop
// keeps trying, one call at a time), the keys in memory keep signing and
// the JWKS keeps its keys, and the loop picks up changes when the database
// answers again. Without the per-tick deadline the first reload would hang
// and calls would stay at 1.
func TestSyncSurvivesAFrozenDatabase(t *testing.T) {
	store := &hangingStore{fakeStore: &fakeStore{}}
	kek := testKEK(t)
	clk := newClock()
	m := newManager(t, store, kek, clk)
	require.NoError(t, m.createTestKey(t, clk.Now()))
	jwks := m.JWKS()

	store.hang.Store(true)
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- m.Sync(ctx, 10*time.Millisecond) }()
	require.Eventually(t, func() bool { return store.calls.Load() >= 3 }, 5*time.Second, 5*time.Millisecond)
	require.True(t, m.Ready())
	_, err := m.Sign([]byte(`{}`), TypAccessToken)
	require.NoError(t, err)
	require.JSONEq(t, string(jwks), string(m.JWKS()))

	other := newManager(t, store.fakeStore, kek, clk)
	require.NoError(t, other.createTestKey(t, clk.Now()))
	store.hang.Store(false)
	require.Eventually(t, func() bool { return len(jwksKIDs(t, m.JWKS())) == 2 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
