package keys

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
	"github.com/shopauth/shopauth/internal/gate"
)

func TestVerifyRejects(t *testing.T) {
	kek := testKEK(t)
	clk := newClock()
	m := newManager(t, &fakeStore{}, kek, clk)
	stranger := newManager(t, &fakeStore{}, kek, clk) // same KEK, other store, other key
	kid := m.CurrentKID()

	valid, err := m.Sign([]byte(`{"sub":"21"}`), TypAccessToken)
	require.NoError(t, err)
	parts := strings.Split(valid, ".")
	enc := base64.RawURLEncoding.EncodeToString

	header := func(h map[string]any) string {
		b, err := json.Marshal(h)
		require.NoError(t, err)
		return enc(b)
	}

	// alg "none": an unsigned token naming our kid.
	algNone := header(map[string]any{"alg": "none", "kid": kid, "typ": "at+jwt"}) + "." + parts[1] + "."

	// HS256 keyed with our public key's PEM, the classic key-confusion attack.
	pubPEM, err := m.PublicKeyPEM()
	require.NoError(t, err)
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubPEM},
		(&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), kid).WithType("at+jwt"))
	require.NoError(t, err)
	hsTok := mustCompact(t, hs, []byte(`{"sub":"21"}`))

	// RS256 by our own key but without kid.
	noKidSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: m.snap.Load().current[RS256].priv}, nil)
	require.NoError(t, err)
	noKid := mustCompact(t, noKidSigner, []byte(`{}`))

	// A stranger's key embedding its own jwk and claiming our kid.
	strangerMat := stranger.snap.Load().current[RS256]
	embed, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: strangerMat.priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithHeader(jose.HeaderKey("kid"), kid))
	require.NoError(t, err)
	embedded := mustCompact(t, embed, []byte(`{"sub":"1"}`))

	unknown, err := stranger.Sign([]byte(`{"sub":"21"}`), TypAccessToken)
	require.NoError(t, err)

	// typ that is not a string.
	badTyp := forge(t, strangerMat, map[string]any{"alg": "RS256", "kid": stranger.CurrentKID(), "typ": 7}, `{}`)
	// RS256 with a PS256-looking alg: refused by the alg list.
	ps := header(map[string]any{"alg": "PS256", "kid": kid}) + "." + parts[1] + "." + parts[2]

	tampered := parts[0] + "." + enc([]byte(`{"sub":"22"}`)) + "." + parts[2]
	sig := []byte(parts[2])
	// Another base64url letter, so the token stays well-formed (flipping a
	// bit can turn '-' into ',').
	if sig[10] == 'A' {
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	badSig := parts[0] + "." + parts[1] + "." + string(sig)
	jsonSer := `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{name: "alg none", token: algNone, want: ErrMalformed},
		{name: "alg none without signature part", token: strings.TrimSuffix(algNone, "."), want: ErrMalformed},
		{name: "HS256 with public key as secret", token: hsTok, want: ErrMalformed},
		{name: "PS256 header", token: ps, want: ErrMalformed},
		{name: "no kid", token: noKid, want: ErrMalformed},
		{name: "typ not a string", token: badTyp, want: ErrMalformed},
		{name: "unknown kid", token: unknown, want: ErrUnknownKey},
		{name: "embedded jwk is not trusted", token: embedded, want: ErrInvalidSignature},
		{name: "tampered payload", token: tampered, want: ErrInvalidSignature},
		{name: "tampered signature", token: badSig, want: ErrInvalidSignature},
		{name: "signature dropped", token: parts[0] + "." + parts[1] + ".", want: ErrInvalidSignature},
		{name: "JSON serialization", token: jsonSer, want: ErrMalformed},
		{name: "garbage", token: "garbage", want: ErrMalformed},
		{name: "empty", token: "", want: ErrMalformed},
		{name: "dots", token: "..", want: ErrMalformed},
		{name: "four parts", token: valid + ".x", want: ErrMalformed},
		{name: "not base64", token: "a!.b!.c!", want: ErrMalformed},
		{name: "header not JSON", token: enc([]byte("nope")) + "." + parts[1] + "." + parts[2], want: ErrMalformed},
		{name: "whitespace around", token: " " + valid + "\n", want: ErrMalformed},
		{name: "too long", token: parts[0] + "." + strings.Repeat("A", maxTokenBytes) + "." + parts[2], want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := m.Verify(tt.token)
			require.ErrorIs(t, err, tt.want)
			require.Empty(t, v.Payload)
		})
	}

	v, err := m.Verify(valid)
	require.NoError(t, err, "the untouched token still verifies")
	require.Equal(t, Verified{Payload: []byte(`{"sub":"21"}`), KID: kid, Typ: "at+jwt"}, v)
}

// forge signs payload under an arbitrary protected header.
func forge(t testing.TB, mat *material, h map[string]any, payload string) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range h {
		if k != "alg" && k != "kid" {
			opts = opts.WithHeader(jose.HeaderKey(k), v)
		}
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: mat.priv, KeyID: h["kid"].(string)}}, opts)
	require.NoError(t, err)
	return mustCompact(t, s, []byte(payload))
}

func mustCompact(t testing.TB, s jose.Signer, payload []byte) string {
	t.Helper()
	obj, err := s.Sign(payload)
	require.NoError(t, err)
	tok, err := obj.CompactSerialize()
	require.NoError(t, err)
	return tok
}

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, every
// error must wrap one of the three Verify errors, and success is only
// possible for a payload the manager signed.
func FuzzVerify(f *testing.F) {
	m, err := New(f.Context(), rotationConfig(&fakeStore{}, testKEK(f), newClock(), time.Hour))
	require.NoError(f, err)
	for _, alg := range []string{ES256, EdDSA} {
		_, err := m.Rotate(f.Context(), alg, true)
		require.NoError(f, err)
	}
	var signed []string
	for _, alg := range Algorithms() {
		tok, err := m.SignWith(alg, []byte(`{"sub":"21"}`), TypAccessToken)
		require.NoError(f, err)
		signed = append(signed, tok)
	}
	valid := signed[0]
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		signed[1], signed[2],
		valid,
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		"eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
		`{"payload":"e30","signatures":[]}`,
		"", ".", "..", "...", "a.b.c", "\x00", "eyJ9.e30.e30",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		fuzzdeadline.Run(t, func() {
			v, err := m.Verify(token)
			if err != nil {
				require.True(t,
					errorIsAny(err, ErrMalformed, ErrUnknownKey, ErrInvalidSignature),
					"unexpected error kind: %v", err)
				return
			}
			require.Contains(t, m.view().currentKIDs(), v.KID)
			require.Equal(t, `{"sub":"21"}`, string(v.Payload))
		})
	})
}

// TestVerifyCache: a token that verified is served from the cache (the
// same payload bytes come back), a bad one never is, and the cache never
// outlives the key: manager_test's retirement test covers a cached token
// of a removed key.
func TestVerifyCache(t *testing.T) {
	kek := testKEK(t)
	clk := newClock()
	m := newManager(t, &fakeStore{}, kek, clk)
	tok, err := m.Sign([]byte(`{"sub":"21"}`), TypAccessToken)
	require.NoError(t, err)

	first, err := m.Verify(tok)
	require.NoError(t, err)
	again, err := m.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Same(t, &first.Payload[0], &again.Payload[0], "the second check is the cached result")

	parts := strings.Split(tok, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"22"}`)) + "." + parts[2]
	for range 2 {
		_, err = m.Verify(forged)
		require.ErrorIs(t, err, ErrInvalidSignature, "a failure is never remembered")
	}
	require.Equal(t, 1, m.verified.Len(), "only the good token is kept")
}

// TestSignAdmitsOnePerCPU: of many goroutines signing at once, exactly one
// per CPU is inside the signature; each one leaving admits exactly one more,
// and every token verifies.
//
// The signer of the current key is wrapped so that each signature waits at
// a gate. In a synctest bubble, synctest.Wait returns once every signer is
// blocked, either at the gate or waiting for a slot, so the count inside is
// exact, not a timing guess.
//
// Mutant (keys/manager.go, SignWith): delete `m.signSlots <- struct{}{}` and
// `<-m.signSlots`. All 32 signers are then inside at once and the first
// check fails ("32 inside at once, want 2" on two CPUs).
func TestSignAdmitsOnePerCPU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newManager(t, &fakeStore{}, testKEK(t), newClock())
		slots := runtime.GOMAXPROCS(0)
		const signers = 32
		require.Greater(t, signers, slots, "the test needs more signers than slots")

		cur := m.view().current[DefaultAlgorithm]
		inner, err := cur.signer(TypAccessToken)
		require.NoError(t, err)
		g := gate.New()
		defer g.Open() // a failed assertion must not leave signers blocked
		cur.signers.Store(TypAccessToken, jose.Signer(gatedSigner{inner, g}))

		errs := make(chan error, signers)
		for i := range signers {
			go func() {
				tok, err := m.Sign(fmt.Appendf(nil, `{"n":%d}`, i), TypAccessToken)
				if err == nil {
					_, err = m.Verify(tok)
				}
				errs <- err
			}()
		}
		g.RequireBound(t, slots, signers)
		for range signers {
			require.NoError(t, <-errs)
		}
		require.Zero(t, len(m.signSlots), "every slot released")
	})
}

// gatedSigner holds each signature at a gate.
type gatedSigner struct {
	jose.Signer
	gate *gate.Gate
}

func (s gatedSigner) Sign(payload []byte) (*jose.JSONWebSignature, error) {
	s.gate.Pass()
	return s.Signer.Sign(payload)
}
