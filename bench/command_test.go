package bench_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/bench"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestBenchSmoke runs the in-process bench briefly and checks that every
// scenario and ceiling produced results without errors. It asserts no
// speed: timing belongs to the bench itself.
func TestBenchSmoke(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	cfg, err := config.Load("", []string{"SHOPAUTH_LOG_LEVEL=warn"})
	require.NoError(t, err)
	err = bench.Measure(t.Context(), cfg, bench.Settings{
		Duration: 600 * time.Millisecond, Warmup: 100 * time.Millisecond, Concurrency: 2, JSONFile: out,
		HashParams: harness.TestHashParams, Progress: true,
	}, &stdout, &stderr)
	require.NoError(t, err, "stderr: %s", stderr.String())

	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	var report bench.Report
	require.NoError(t, json.Unmarshal(raw, &report))
	require.Equal(t, 0.1, report.Warmup)
	want := append([]string{bench.CeilingHash, bench.CeilingSign, bench.CeilingHTTP}, bench.ScenarioNames()...)
	var got []string
	for _, r := range report.Results {
		got = append(got, r.Name)
		require.Positive(t, r.Requests, "%s completed nothing", r.Name)
		require.Empty(t, r.Errors, "%s had errors", r.Name)
		require.Positive(t, r.Latency.Max, r.Name)
		if r.Kind == bench.KindScenario {
			require.Positive(t, r.ServerRSSMiB, "%s: resident memory read from /metrics", r.Name)
		}
		if r.Ceiling != "" {
			require.Positive(t, r.OfCeiling, "%s is not held against its ceiling", r.Name)
		}
	}
	require.ElementsMatch(t, want, got)
	for _, r := range report.Results {
		if r.Name != bench.ScenarioMixed && r.Name != bench.ScenarioIntrospect && r.Kind == bench.KindScenario {
			require.NotEmpty(t, r.Ceiling, "%s has a ceiling", r.Name)
		}
	}
	for _, name := range want {
		require.Contains(t, stdout.String(), name, "the text report lists every workload")
	}
	require.Contains(t, stderr.String(), "done", "the live progress line was written")
}

func TestBenchRejectsUnknownScenario(t *testing.T) {
	err := bench.Measure(t.Context(), config.Defaults(), bench.Settings{Duration: time.Second, Concurrency: 1, Scenarios: []string{"nope"}},
		&bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, `unknown scenario "nope"`)
}
