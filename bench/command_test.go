package bench_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/bench"
	"github.com/shopauth/shopauth/config"
	"github.com/shopauth/shopauth/e2e/harness"
)

// TestBenchSmoke runs the in-process bench briefly and checks that every
// scenario and ceiling produced results without errors, each held against
// its ceiling in the JSON and the printed table. It asserts no speed:
// timing belongs to the bench itself. A loaded machine (CI, a shared
// 2-core box) can take longer than the Duration for one login, so each
// workload runs until it has completed minRequests (MinRequests).
func TestBenchSmoke(t *testing.T) {
	const minRequests = 4
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	cfg, err := config.Load("", []string{"SHOPAUTH_LOG_LEVEL=warn"})
	require.NoError(t, err)
	err = bench.Measure(t.Context(), cfg, bench.Settings{
		Duration: 600 * time.Millisecond, Warmup: 100 * time.Millisecond, Concurrency: 2, JSONFile: out,
		HashParams: harness.TestHashParams, Progress: true, MinRequests: minRequests,
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
		require.GreaterOrEqual(t, r.Requests, int64(minRequests), "%s: requests", r.Name)
		require.Positive(t, r.PerSecond, r.Name)
		require.Positive(t, r.Seconds, r.Name)
		require.Empty(t, r.Errors, "%s had errors", r.Name)
		require.Positive(t, r.Latency.Max, r.Name)
		if r.Kind == bench.KindScenario {
			require.Positive(t, r.ServerRSSMiB, "%s: resident memory read from /metrics", r.Name)
		}
		if r.Ceiling != "" {
			require.Positive(t, r.OfCeiling, "%s is not held against its ceiling", r.Name)
			require.Positive(t, r.CeilingPerSecond, r.Name)
			require.InDelta(t, r.PerSecond/r.CeilingPerSecond, r.OfCeiling, 0.0005+1e-9, "%s: share of its ceiling (to 0.1 %%)", r.Name)
			// The printed row shows the share of that ceiling.
			line := lineOf(stdout.String(), r.Name)
			require.Regexp(t, `\d+ % of `+regexp.QuoteMeta(r.Ceiling), line, "%s: printed share of ceiling", r.Name)
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

// lineOf is the first line of the text report that starts with name.
func lineOf(report, name string) string {
	for l := range strings.Lines(report) {
		if strings.HasPrefix(strings.TrimSpace(l), name+" ") {
			return l
		}
	}
	return ""
}
