package keys

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/storage"
)

// garbageKIDs makes tokens naming the kids given, which no store has,
// with a signature of random bytes: what an attacker can send at will.
// Verify must reach the key lookup, so the rest is well formed.
func garbageKIDs(t testing.TB, kids ...string) []string {
	t.Helper()
	out := make([]string, len(kids))
	for i, kid := range kids {
		header, err := json.Marshal(map[string]string{"alg": "RS256", "kid": kid, "typ": TypAccessToken})
		require.NoError(t, err)
		out[i] = b64url(header) + "." + b64url([]byte(`{"sub":"21"}`)) + "." + b64url([]byte(rand.Text()+rand.Text()))
	}
	return out
}

// TestGarbageKIDDoesNotStarveNewKey: a garbage kid seen a moment ago does
// not keep a replica from reloading for a genuine new key (issue 13 item
// 7). Before the fix the first unknown kid spent the once-per-5-s reload,
// and a token of a key another replica made with `keys rotate --now` was
// refused until the next sync.
func TestGarbageKIDDoesNotStarveNewKey(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	cfg := rotationConfig(store, testKEK(t), clk, time.Hour)
	a := newRotatingManager(t, cfg)
	b := newRotatingManager(t, cfg)

	_, err := b.Verify(garbageKIDs(t, "garbage")[0])
	require.ErrorIs(t, err, ErrUnknownKey)

	_, err = a.Rotate(t.Context(), RS256, true)
	require.NoError(t, err)
	genuine, err := a.Sign([]byte("x"), TypAccessToken)
	require.NoError(t, err)
	v, err := b.Verify(genuine)
	require.NoError(t, err, "no clock moved: the garbage kid must not have spent the reload")
	require.Equal(t, a.CurrentKID(), v.KID)
}

// gatedStore holds every ListSigningKeys until the test lets it pass (even
// past the reload's own timeout), and
// records how many run at once.
type gatedStore struct {
	*fakeStore
	gate              chan struct{}
	inFlight, maxSeen atomic.Int32
	calls             atomic.Int32
}

func (g *gatedStore) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for {
		m := g.maxSeen.Load()
		if n <= m || g.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	g.calls.Add(1)
	<-g.gate // deaf to ctx: the test decides when a reload ends
	return g.fakeStore.ListSigningKeys(ctx)
}

// TestGarbageKIDFloodCoalesces: while one reload is in flight, a flood of
// distinct garbage kids and one genuine new kid all wait for the one
// reload that starts after it: the store sees one reload at a time and
// two in all, not one per token, and the genuine token verifies after at
// most the reload in flight plus its own, with no clock moving.
func TestGarbageKIDFloodCoalesces(t *testing.T) {
	base := &fakeStore{}
	clk := newClock()
	cfg := rotationConfig(base, testKEK(t), clk, time.Hour)
	a := newRotatingManager(t, cfg)
	gated := &gatedStore{fakeStore: base, gate: make(chan struct{})}
	bcfg := cfg
	bcfg.Store = gated
	close(gated.gate) // New reloads freely
	b := newRotatingManager(t, bcfg)
	gated.gate = make(chan struct{})
	gated.calls.Store(0)

	const racers = 32
	kids := make([]string, racers+1)
	for i := range kids {
		kids[i] = fmt.Sprintf("garbage-%d", i)
	}
	tokens := garbageKIDs(t, kids...)

	// Round one: a garbage kid, held in the store.
	first := make(chan error, 1)
	go func() { _, err := b.Verify(tokens[racers]); first <- err }()
	require.Eventually(t, func() bool { return gated.inFlight.Load() == 1 }, 10*time.Second, time.Millisecond)

	// Another replica makes a key that signs at once; its token reaches b
	// amid the flood, after round one read the store.
	_, err := a.Rotate(t.Context(), RS256, true)
	require.NoError(t, err)
	genuine, err := a.Sign([]byte("x"), TypAccessToken)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() { _, errs[i] = b.Verify(tokens[i]) })
	}
	var genuineErr error
	var verified Verified
	wg.Go(func() { verified, genuineErr = b.Verify(genuine) })
	require.Eventually(t, func() bool { return b.unknownKIDRounds.queued() == racers+1 }, 10*time.Second, time.Millisecond,
		"every caller joins the round after the one in flight")

	close(gated.gate)
	require.ErrorIs(t, <-first, ErrUnknownKey)
	wg.Wait()
	require.NoError(t, genuineErr)
	require.Equal(t, a.CurrentKID(), verified.KID)
	for _, err := range errs {
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	require.EqualValues(t, 2, gated.calls.Load(), "the round in flight and the one after it, not one per token")
	require.EqualValues(t, 1, gated.maxSeen.Load(), "one reload at a time")

	// A garbage kid a reload did not find is refused without another one
	// for UnknownKeyReloadInterval, so repeating it costs nothing.
	calls := gated.calls.Load()
	for range 20 {
		_, err = b.Verify(tokens[0])
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	require.Equal(t, calls, gated.calls.Load())
	clk.Add(5 * time.Second)
	_, err = b.Verify(tokens[0])
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Equal(t, calls+1, gated.calls.Load(), "remembered for the interval only")
}

// TestUnknownKIDReloadFailure: a store that cannot answer leaves the
// token refused (ErrUnknownKey), and the kid is not remembered as absent,
// so the next token tries again.
func TestUnknownKIDReloadFailure(t *testing.T) {
	store := &fakeStore{}
	clk := newClock()
	cfg := rotationConfig(store, testKEK(t), clk, time.Hour)
	a := newRotatingManager(t, cfg)
	b := newRotatingManager(t, cfg)
	_, err := a.Rotate(t.Context(), RS256, true)
	require.NoError(t, err)
	genuine, err := a.Sign([]byte("x"), TypAccessToken)
	require.NoError(t, err)

	store.setListErr(errors.New("database gone"))
	_, err = b.Verify(genuine)
	require.ErrorIs(t, err, ErrUnknownKey)
	store.setListErr(nil)
	_, err = b.Verify(genuine)
	require.NoError(t, err, "a failed reload proves nothing absent")
}
