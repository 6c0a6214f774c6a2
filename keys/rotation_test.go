package keys

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/racer"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore/sqlstoretest"
)

// rotationConfig is a Config with scheduled rotation: short periods keep
// the walks cheap; only the ratios matter.
func rotationConfig(store Store, kek []byte, clk *clock, ttl time.Duration) Config {
	return Config{
		Store: store, KEK: kek, Now: clk.Now,
		RotationPeriod: 10 * time.Hour,
		PublishAhead:   time.Hour,
		SyncInterval:   10 * time.Minute,
		ClockSkew:      30 * time.Second,
		MaxTokenTTL:    func(context.Context) (time.Duration, error) { return ttl, nil },
	}
}

func newRotatingManager(t testing.TB, cfg Config) *Manager {
	t.Helper()
	m, err := New(t.Context(), cfg)
	require.NoError(t, err)
	return m
}

func TestPolicyDue(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return now.Add(time.Duration(n * float64(time.Hour))) }
	p := policy{period: 10 * time.Hour, publishAhead: time.Hour, retention: 3 * time.Hour}
	key := func(alg string, gen int64, nb time.Time, retire, remove *time.Time) storage.SigningKey {
		return storage.SigningKey{KID: alg + string(rune('0'+gen)), Algorithm: alg, Generation: gen, NotBefore: nb, RetireAfter: retire, RemoveAfter: remove}
	}
	tests := []struct {
		name string
		rows []storage.SigningKey
		want []plannedKey
	}{
		{name: "empty store: RS256 at once", want: []plannedKey{{RS256, now}}},
		{name: "young current key", rows: []storage.SigningKey{key(RS256, 1, h(-8.99), nil, nil)}},
		{name: "due exactly: next signs a period after the current began",
			rows: []storage.SigningKey{key(RS256, 1, h(-9), nil, nil)}, want: []plannedKey{{RS256, h(1)}}},
		{name: "overdue (rotator was down): still published ahead",
			rows: []storage.SigningKey{key(RS256, 1, h(-30), nil, nil)}, want: []plannedKey{{RS256, h(1)}}},
		{name: "next already published",
			rows: []storage.SigningKey{key(RS256, 1, h(-9.5), ptr(h(0.5)), ptr(h(3.5))), key(RS256, 2, h(0.5), nil, nil)}},
		{name: "next due once it has signed for a period",
			rows: []storage.SigningKey{key(RS256, 1, h(-19.5), ptr(h(-9.5)), ptr(h(-6.5))), key(RS256, 2, h(-9.5), nil, nil)},
			want: []plannedKey{{RS256, h(1)}}},
		{name: "every key retired in an emergency: one signs at once",
			rows: []storage.SigningKey{key(RS256, 1, h(-2), ptr(h(-1)), ptr(h(-1)))}, want: []plannedKey{{RS256, now}}},
		{name: "ES256 in use rotates too",
			rows: []storage.SigningKey{key(RS256, 1, h(-1), nil, nil), key(ES256, 2, h(-9), nil, nil)},
			want: []plannedKey{{ES256, h(1)}}},
		{name: "ES256 enabled ahead: nothing to do until it has signed",
			rows: []storage.SigningKey{key(RS256, 1, h(-1), nil, nil), key(ES256, 2, h(1), nil, nil)}},
		{name: "ES256 gone: no longer in use",
			rows: []storage.SigningKey{key(RS256, 1, h(-1), nil, nil), key(ES256, 2, h(-20), ptr(h(-5)), ptr(h(-1)))}},
		{name: "a next key pre-empted by rotate --now does not count",
			rows: []storage.SigningKey{
				key(RS256, 1, h(-9.5), ptr(h(-9)), ptr(h(-6))),
				key(RS256, 2, h(0.5), ptr(h(-9)), ptr(h(-6))),
				key(RS256, 3, h(-9), nil, nil),
			},
			want: []plannedKey{{RS256, h(1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, p.due(tt.rows, now))
		})
	}
}

func TestPolicyConverge(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return now.Add(time.Duration(n * float64(time.Hour))) }
	p := policy{period: 10 * time.Hour, publishAhead: time.Hour, retention: 3 * time.Hour}
	key := func(kid, alg string, gen int64, nb time.Time, retire, remove *time.Time) storage.SigningKey {
		return storage.SigningKey{KID: kid, Algorithm: alg, Generation: gen, NotBefore: nb, RetireAfter: retire, RemoveAfter: remove}
	}
	tests := []struct {
		name string
		rows []storage.SigningKey
		want []scheduleUpdate
	}{
		{name: "single key: nothing", rows: []storage.SigningKey{key("a", RS256, 1, h(-1), nil, nil)}},
		{name: "next key published: current retires when it starts, leaves retention later",
			rows: []storage.SigningKey{key("a", RS256, 1, h(-9), nil, nil), key("b", RS256, 2, h(1), nil, nil)},
			want: []scheduleUpdate{{kid: "a", retireAfter: ptr(h(1)), removeAfter: ptr(h(4))}}},
		{name: "already converged", rows: []storage.SigningKey{key("a", RS256, 1, h(-9), ptr(h(1)), ptr(h(4))), key("b", RS256, 2, h(1), nil, nil)}},
		{name: "removal never moves earlier",
			rows: []storage.SigningKey{key("a", RS256, 1, h(-9), ptr(h(1)), ptr(h(9))), key("b", RS256, 2, h(1), nil, nil)}},
		{name: "retention grew: removal moves later",
			rows: []storage.SigningKey{key("a", RS256, 1, h(-9), ptr(h(1)), ptr(h(2))), key("b", RS256, 2, h(1), nil, nil)},
			want: []scheduleUpdate{{kid: "a", retireAfter: ptr(h(1)), removeAfter: ptr(h(4))}}},
		{name: "other algorithms are not successors",
			rows: []storage.SigningKey{key("a", RS256, 1, h(-9), nil, nil), key("e", ES256, 2, h(1), nil, nil)}},
		{name: "rotate --now: the earliest newer key retires both older ones",
			rows: []storage.SigningKey{
				key("a", RS256, 1, h(-9), ptr(h(1)), ptr(h(4))),
				key("b", RS256, 2, h(1), nil, nil),
				key("c", RS256, 3, now, nil, nil),
			},
			want: []scheduleUpdate{
				{kid: "a", retireAfter: ptr(now), removeAfter: ptr(h(4))},
				{kid: "b", retireAfter: ptr(now), removeAfter: ptr(h(3))},
			}},
		{name: "successor retired in an emergency: predecessor signs again",
			rows: []storage.SigningKey{key("a", RS256, 1, h(-12), ptr(h(-2)), ptr(h(1))), key("b", RS256, 2, h(-2), ptr(now), ptr(now))},
			want: []scheduleUpdate{{kid: "a"}}},
		{name: "emergency and gone keys are left alone",
			rows: []storage.SigningKey{
				key("gone", RS256, 1, h(-30), ptr(h(-20)), ptr(h(-17))),
				key("leaked", RS256, 2, h(-20), ptr(h(-1)), ptr(h(-1))),
				key("c", RS256, 3, h(-1), nil, nil),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, p.converge(tt.rows, now))
		})
	}
}

// resourceServer is a well-behaved JWKS cache: it fetches the key set from
// one replica and keeps it exactly as long as Cache-Control allows, never
// refetching on an unknown kid.
type resourceServer struct {
	from  func() *Manager
	set   jose.JSONWebKeySet
	until time.Time
}

func (rs *resourceServer) refresh(t *testing.T, now time.Time) {
	if now.Before(rs.until) {
		return
	}
	m := rs.from()
	require.NoError(t, json.Unmarshal(m.JWKS(), &rs.set))
	// Cache-Control carries whole seconds.
	rs.until = now.Add(m.JWKSMaxAge().Truncate(time.Second))
}

func (rs *resourceServer) verify(raw string) error {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		return err
	}
	ks := rs.set.Key(jws.Signatures[0].Protected.KeyID)
	if len(ks) == 0 {
		return ErrUnknownKey
	}
	_, err = jws.Verify(ks[0].Key)
	return err
}

// TestRotationWalk walks three rotation periods in 10-minute steps with an
// injected clock: replica a runs the rotator, replica b only syncs every
// SyncInterval, both sign tokens, and resource servers cache each one's
// JWKS for the max-age it announces. At every step it checks the JWKS:
// every unexpired token verifies at every resource server, no key signs
// before it has been published PublishAhead, no JWKS answer changes within
// its max-age, and a retired key leaves once its tokens have expired
// (Must hold 1, 2 and 7).
func TestRotationWalk(t *testing.T) {
	const (
		ttl  = 2 * time.Hour
		step = 10 * time.Minute
	)
	store := &fakeStore{}
	clk := newClock()
	cfg := rotationConfig(store, testKEK(t), clk, ttl)
	a := newRotatingManager(t, cfg)
	b := newRotatingManager(t, cfg)
	retention := ttl + cfg.ClockSkew + cfg.SyncInterval

	type token struct {
		raw string
		exp time.Time
	}
	type answer struct {
		kids  []string
		until time.Time
	}
	var tokens []token
	firstPublished := map[string]time.Time{}
	lastSigned := map[string]time.Time{}
	answers := map[*Manager][]answer{}
	flip := false
	rss := []*resourceServer{
		{from: func() *Manager { return a }},
		{from: func() *Manager { return b }},
		{from: func() *Manager { flip = !flip; return map[bool]*Manager{true: a, false: b}[flip] }},
	}
	start := clk.Now()
	for i := 0; clk.Now().Before(start.Add(3*cfg.RotationPeriod + 2*ttl)); i++ {
		now := clk.Now()
		require.NoError(t, a.RotateIfDue(t.Context()))
		if now.Sub(start)%cfg.SyncInterval == 0 {
			require.NoError(t, b.Reload(t.Context()))
		}

		for _, m := range []*Manager{a, b} {
			kids := jwksKIDs(t, m.JWKS())
			require.LessOrEqual(t, len(kids), 3, "old keys leave: %v", kids)
			for _, kid := range kids {
				if _, ok := firstPublished[kid]; !ok {
					firstPublished[kid] = now
				}
			}
			// Cache-Control: no earlier answer of this replica that a
			// cache may still hold differs from the set now.
			open := answers[m][:0]
			for _, ans := range answers[m] {
				if now.Before(ans.until) {
					require.Equal(t, ans.kids, kids, "set changed within the max-age announced")
					open = append(open, ans)
				}
			}
			answers[m] = append(open, answer{kids: kids, until: now.Add(m.JWKSMaxAge().Truncate(time.Second))})
			// A retired key leaves once every token it signed has expired.
			for _, kid := range kids {
				if last, ok := lastSigned[kid]; ok && kid != a.CurrentKID() && kid != b.CurrentKID() {
					require.LessOrEqual(t, now.Sub(last), retention+step, "key %s outstays its tokens", kid)
				}
			}
		}
		for _, rs := range rss {
			rs.refresh(t, now)
		}

		signer := map[bool]*Manager{true: a, false: b}[i%2 == 0]
		raw, err := signer.Sign([]byte(`{"i":1}`), TypAccessToken)
		require.NoError(t, err)
		v, err := a.Verify(raw)
		require.NoError(t, err)
		if first := firstPublished[v.KID]; lastSigned[v.KID].IsZero() && len(lastSigned) > 0 {
			require.GreaterOrEqual(t, now.Sub(first), cfg.PublishAhead, "key %s signs before it was published ahead", v.KID)
		}
		lastSigned[v.KID] = now
		tokens = append(tokens, token{raw: raw, exp: now.Add(ttl)})

		live := tokens[:0]
		for _, tok := range tokens {
			if now.After(tok.exp.Add(cfg.ClockSkew)) {
				continue
			}
			live = append(live, tok)
			for j, rs := range rss {
				require.NoError(t, rs.verify(tok.raw), "resource server %d at step %d", j, i)
			}
			_, err := b.Verify(tok.raw)
			require.NoError(t, err)
		}
		tokens = live
		clk.Add(step)
	}
	rows := store.snapshot()
	require.Len(t, rows, 4, "the first key and one per period")
	require.Len(t, lastSigned, 4, "every key signed")
	for i, r := range rows[1:] {
		require.Equal(t, rows[i].NotBefore.Add(cfg.RotationPeriod), r.NotBefore, "a new key every period")
		require.GreaterOrEqual(t, r.NotBefore.Sub(r.CreatedAt), cfg.PublishAhead)
	}
}

// TestConcurrentRotators runs several replicas' rotators at once on one
// database: exactly one creates each key, and all end with the same JWKS.
func TestConcurrentRotators(t *testing.T) {
	for _, backend := range sqlstoretest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			store := backend.Open(t)
			clk := newClock()
			cfg := rotationConfig(store, testKEK(t), clk, time.Hour)
			replicas := make([]*Manager, racer.N)
			for i := range replicas {
				replicas[i] = newRotatingManager(t, cfg)
			}
			_, err := replicas[0].Rotate(t.Context(), ES256, true)
			require.NoError(t, err)

			race := func() {
				t.Helper()
				errs := racer.Run(len(replicas), func(i int) error { return replicas[i].RotateIfDue(t.Context()) })
				for _, err := range errs {
					require.NoError(t, err)
				}
			}
			for round := 1; round <= 2; round++ {
				clk.Add(cfg.RotationPeriod - cfg.PublishAhead)
				race()
				rows, err := store.ListSigningKeys(t.Context())
				require.NoError(t, err)
				require.Len(t, rows, 2+2*round, "one new key per algorithm per round")
				for i, r := range rows {
					require.EqualValues(t, i+1, r.Generation)
				}
				for _, alg := range []string{RS256, ES256} {
					next := nextKey(rows, alg, clk.Now())
					require.GreaterOrEqual(t, next, 0, alg)
				}
				clk.Add(cfg.PublishAhead)
				for _, m := range replicas {
					require.NoError(t, m.Reload(t.Context()))
				}
				for _, m := range replicas[1:] {
					require.Equal(t, string(replicas[0].JWKS()), string(m.JWKS()))
					require.Equal(t, replicas[0].CurrentKID(), m.CurrentKID())
				}
				require.Equal(t, rows[len(rows)-2].KID, replicas[0].CurrentKID(), "the new RS256 key signs")
			}
		})
	}
}

func TestRotateAndRetire(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	cfg := rotationConfig(store, testKEK(t), clk, time.Hour)
	m := newRotatingManager(t, cfg)
	first := m.CurrentKID()
	ctx := t.Context()

	_, err := m.Rotate(ctx, "HS256", false)
	require.ErrorContains(t, err, "unsupported algorithm")

	next, err := m.Rotate(ctx, RS256, false)
	require.NoError(t, err)
	require.Equal(t, StateNext, next.State)
	require.Equal(t, clk.Now().Add(cfg.PublishAhead), next.NotBefore)
	require.Equal(t, first, m.CurrentKID(), "published ahead, does not sign yet")
	require.Equal(t, []string{next.KID, first}, jwksKIDs(t, m.JWKS()))

	again, err := m.Rotate(ctx, RS256, false)
	require.ErrorIs(t, err, ErrNextKeyExists)
	require.Equal(t, next.KID, again.KID)

	now, err := m.Rotate(ctx, RS256, true)
	require.NoError(t, err)
	require.Equal(t, StateCurrent, now.State)
	require.Equal(t, now.KID, m.CurrentKID(), "--now signs at once")
	infos := m.List()
	require.Equal(t, []KeyState{StateRetired, StateRetired, StateCurrent}, states(infos))
	require.True(t, infos[0].Published && infos[1].Published, "older keys stay published")

	// Retiring the current key hands signing back to the previous one,
	// which every cache has; retiring that one too makes a new key.
	kid, err := m.Retire(ctx, now.KID)
	require.NoError(t, err)
	require.Equal(t, first, kid, "the first key is still published: it signs again")
	require.Equal(t, first, m.CurrentKID())
	require.NotContains(t, jwksKIDs(t, m.JWKS()), now.KID, "gone at once")
	require.Equal(t, []KeyState{StateCurrent, StateNext, StateRetired}, states(m.List()), "the next key is still ahead")

	kid, err = m.Retire(ctx, first)
	require.NoError(t, err)
	require.NotContains(t, []string{first, next.KID, now.KID}, kid, "a fresh key")
	require.Equal(t, kid, m.CurrentKID())
	require.Equal(t, []string{kid, next.KID}, jwksKIDs(t, m.JWKS()))
	tok, err := m.Sign([]byte("x"), TypAccessToken)
	require.NoError(t, err)
	_, err = m.Verify(tok)
	require.NoError(t, err)

	_, err = m.Retire(ctx, "no-such-kid")
	require.ErrorIs(t, err, storage.ErrNotFound)

	// The rotator leaves emergency retirements alone.
	clk.Add(time.Minute)
	sets := store.sets
	require.NoError(t, m.RotateIfDue(ctx))
	require.Equal(t, sets, store.sets)
	require.Equal(t, []string{kid, next.KID}, jwksKIDs(t, m.JWKS()))
}

func TestRotationNeedsPolicy(t *testing.T) {
	m := newManager(t, &fakeStore{}, testKEK(t), newClock())
	require.ErrorContains(t, m.RotateIfDue(t.Context()), "RotationPeriod")
	_, err := m.Rotate(t.Context(), RS256, false)
	require.ErrorContains(t, err, "MaxTokenTTL is required")
	_, err = New(t.Context(), Config{Store: &fakeStore{}, KEK: testKEK(t), RotationPeriod: time.Hour, PublishAhead: time.Hour})
	require.ErrorContains(t, err, "must be longer than PublishAhead")
}

func TestAlgorithmsSideBySide(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	cfg := rotationConfig(store, testKEK(t), clk, time.Hour)
	m := newRotatingManager(t, cfg)
	require.Equal(t, []string{RS256}, m.SigningAlgorithms())
	_, err := m.SignWith(ES256, []byte("x"), TypIDToken)
	require.ErrorIs(t, err, ErrNoSigningKey, "ES256 not enabled yet")

	es, err := m.Rotate(t.Context(), ES256, false)
	require.NoError(t, err)
	require.Equal(t, StateNext, es.State, "a new algorithm is published ahead too")
	ed, err := m.Rotate(t.Context(), EdDSA, true)
	require.NoError(t, err)
	require.Equal(t, []string{RS256, EdDSA}, m.SigningAlgorithms())
	clk.Add(cfg.PublishAhead)
	require.Equal(t, []string{RS256, ES256, EdDSA}, m.SigningAlgorithms())

	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(m.JWKS(), &set))
	kty := map[string]string{}
	for _, k := range set.Keys {
		require.True(t, k.IsPublic(), "public parts only")
		b, err := json.Marshal(k)
		require.NoError(t, err)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(b, &raw))
		kty[k.Algorithm] = raw["kty"].(string)
		require.NotContains(t, raw, "d")
	}
	require.Equal(t, map[string]string{RS256: "RSA", ES256: "EC", EdDSA: "OKP"}, kty)

	other := newRotatingManager(t, cfg) // a replica that decrypts them all
	for _, alg := range Algorithms() {
		tok, err := m.SignWith(alg, []byte(`{"alg":"`+alg+`"}`), TypAccessToken)
		require.NoError(t, err)
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		require.NoError(t, err, alg)
		h := jws.Signatures[0].Protected
		require.Equal(t, alg, h.Algorithm)
		v, err := other.Verify(tok)
		require.NoError(t, err, alg)
		require.Equal(t, h.KeyID, v.KID)
		pemBytes, err := other.PublicKeyPEMOf(v.KID)
		require.NoError(t, err)
		require.Contains(t, string(pemBytes), "PUBLIC KEY")
	}
	require.Equal(t, ed.KID, other.view().currentKID(EdDSA))

	// alg must be the key's own: an ES256 signature under the RS256 kid.
	esMat := m.view().current[ES256]
	forged := forgeWith(t, esMat, jose.ES256, m.CurrentKID())
	_, err = m.Verify(forged)
	require.ErrorIs(t, err, ErrInvalidSignature)
}

// forgeWith signs with mat's private key under alg but names kid.
func forgeWith(t *testing.T, mat *material, alg jose.SignatureAlgorithm, kid string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: mat.priv, KeyID: kid}}, nil)
	require.NoError(t, err)
	return mustCompact(t, s, []byte(`{}`))
}

// TestVerifyReloadsUnknownKey: a token signed by a key another replica
// created a moment ago verifies without waiting for the next sync, and a
// repeated garbage kid costs at most one store read per interval.
func TestVerifyReloadsUnknownKey(t *testing.T) {
	store := &fakeStore{}
	kek := testKEK(t)
	clk := newClock()
	cfg := rotationConfig(store, kek, clk, time.Hour)
	a := newRotatingManager(t, cfg)
	b := newRotatingManager(t, cfg)

	_, err := a.Rotate(t.Context(), RS256, true)
	require.NoError(t, err)
	tok, err := a.Sign([]byte("x"), TypAccessToken)
	require.NoError(t, err)
	lists := store.lists
	v, err := b.Verify(tok)
	require.NoError(t, err, "b reloads and finds a's new key")
	require.Equal(t, a.CurrentKID(), v.KID)
	require.Equal(t, lists+1, store.lists)

	stranger := newManager(t, &fakeStore{}, kek, clk)
	garbage, err := stranger.Sign([]byte("x"), TypAccessToken)
	require.NoError(t, err)
	lists = store.lists
	for range 20 {
		_, err = b.Verify(garbage)
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	require.Equal(t, lists+1, store.lists, "the first sight reloads; the reload found no such kid, so the repeats do not")
	lists = store.lists
	clk.Add(5 * time.Second)
	_, err = b.Verify(garbage)
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Equal(t, lists+1, store.lists, "one reload per interval")
}

// TestJWKSMaxAge: the max-age never reaches past the next change of the
// key set, nor past PublishAhead minus SyncInterval.
func TestJWKSMaxAge(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	cfg := rotationConfig(store, testKEK(t), clk, time.Hour)
	cfg.JWKSMaxAge = 2 * time.Hour
	m := newRotatingManager(t, cfg)
	require.Equal(t, cfg.PublishAhead-cfg.SyncInterval, m.JWKSMaxAge(), "capped by publish-ahead")

	clk.Add(cfg.RotationPeriod - cfg.PublishAhead - 7*time.Minute)
	require.Equal(t, 7*time.Minute, m.JWKSMaxAge(), "the rotator adds a key in 7 minutes")

	clk.Add(7 * time.Minute)
	require.Zero(t, m.JWKSMaxAge(), "due now")
	require.NoError(t, m.RotateIfDue(t.Context()))
	// The old key leaves retention after the new one starts; the next
	// creation is a period later still.
	require.Equal(t, cfg.PublishAhead-cfg.SyncInterval, m.JWKSMaxAge())

	retire := *m.List()[0].RemoveAfter
	clk.Set(retire.Add(-3 * time.Minute))
	require.Equal(t, 3*time.Minute, m.JWKSMaxAge(), "the old key leaves in 3 minutes")

	plain := newManager(t, &fakeStore{}, testKEK(t), clk)
	require.Equal(t, time.Hour, plain.JWKSMaxAge(), "without rotation: the configured max-age")
}

func TestRekey(t *testing.T) {
	for _, backend := range sqlstoretest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			store := backend.Open(t)
			clk := newClock()
			oldKEK, newKEK := testKEK(t), testKEK(t)
			cfg := rotationConfig(store, oldKEK, clk, time.Hour)
			m := newRotatingManager(t, cfg)
			_, err := m.Rotate(t.Context(), ES256, false)
			require.NoError(t, err)
			tok, err := m.Sign([]byte("x"), TypAccessToken)
			require.NoError(t, err)

			_, _, err = Rekey(t.Context(), store, testKEK(t), newKEK)
			require.ErrorIs(t, err, ErrWrongKEK, "a wrong old key changes nothing")

			n, same, err := Rekey(t.Context(), store, oldKEK, newKEK)
			require.NoError(t, err)
			require.Equal(t, 2, n)
			require.Zero(t, same)

			_, err = New(t.Context(), Config{Store: store, KEK: oldKEK, Now: clk.Now})
			require.ErrorIs(t, err, ErrWrongKEK, "the old key no longer opens them")
			cfg.KEK = newKEK
			after := newRotatingManager(t, cfg)
			_, err = after.Verify(tok)
			require.NoError(t, err, "same keys under a new KEK")

			// A replica still on the old KEK made a key meanwhile: a
			// second run rekeys only that one.
			cfg.KEK = oldKEK
			cfg.PreviousKEK = newKEK
			straggler := newRotatingManager(t, cfg)
			_, err = straggler.Rotate(t.Context(), RS256, false)
			require.NoError(t, err)
			n, same, err = Rekey(t.Context(), store, oldKEK, newKEK)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			require.Equal(t, 2, same)
			require.NoError(t, after.Reload(t.Context()))
		})
	}
}

func TestPreviousKEK(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	oldKEK, newKEK := testKEK(t), testKEK(t)
	m := newManager(t, store, oldKEK, clk)
	_, err := New(t.Context(), Config{Store: store, KEK: newKEK, Now: clk.Now})
	require.ErrorIs(t, err, ErrWrongKEK)
	both, err := New(t.Context(), Config{Store: store, KEK: newKEK, PreviousKEK: oldKEK, Now: clk.Now})
	require.NoError(t, err)
	require.Equal(t, m.CurrentKID(), both.CurrentKID())
	_, err = New(t.Context(), Config{Store: store, KEK: newKEK, PreviousKEK: oldKEK[:5]})
	require.ErrorContains(t, err, "previous key encryption key has 5 bytes")
	require.True(t, slices.Equal(jwksKIDs(t, m.JWKS()), jwksKIDs(t, both.JWKS())))
}

func TestRunRotator(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	m := newRotatingManager(t, rotationConfig(store, testKEK(t), clk, time.Hour))
	require.ErrorContains(t, m.RunRotator(t.Context(), 0), "must be positive")

	clk.Add(10 * time.Hour) // the first key has signed for a whole period
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- m.RunRotator(ctx, 5*time.Millisecond) }()
	require.Eventually(t, func() bool { return len(store.snapshot()) == 2 }, 5*time.Second, 5*time.Millisecond, "runs at once")
	require.Eventually(t, func() bool { return store.snapshot()[0].RemoveAfter != nil }, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.Equal(t, StateNext, m.List()[1].State)
}
