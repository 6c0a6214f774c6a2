package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what `shopauth bench --json` writes.
type Report struct {
	Target      string    `json:"target"`
	StartedAt   time.Time `json:"started_at"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	Concurrency int       `json:"concurrency"`
	Duration    float64   `json:"duration_seconds"`
	Warmup      float64   `json:"warmup_seconds"`
	// Settings records what the figures depend on (hash parameters, key).
	Settings map[string]string `json:"settings,omitempty"`
	Results  []Result          `json:"results"`
}

// WriteJSON writes r, indented.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as a table: ceilings first, then each scenario with
// its throughput as a fraction of its ceiling.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tkind\tworkers\tper sec\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\tof ceiling\tRSS MiB\t")
	for _, res := range r.Results {
		share := ""
		if res.CeilingPerSecond > 0 {
			share = fmt.Sprintf("%.0f %% of %s", res.OfCeiling*100, res.Ceiling)
		}
		rss := ""
		if res.ServerRSSMiB > 0 {
			rss = fmt.Sprintf("%.0f", res.ServerRSSMiB)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t\n",
			res.Name, res.Kind, res.Concurrency, res.PerSecond,
			res.Latency.P50, res.Latency.P90, res.Latency.P99, res.Latency.Max, errorText(res.Errors), share, rss)
	}
	return tw.Flush()
}

func errorText(errs map[string]int64) string {
	if len(errs) == 0 {
		return "0"
	}
	parts := make([]string, 0, len(errs))
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, errs[k]))
	}
	return strings.Join(parts, " ")
}

// ProgressLine formats p for a terminal's live line.
func ProgressLine(p Progress) string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Requests-p.Errors) / s
	}
	return fmt.Sprintf("%-18s %4.0fs/%.0fs  %9d done  %9.1f/s  %d errors",
		p.Name, p.Elapsed.Seconds(), p.Duration.Seconds(), p.Requests, rate, p.Errors)
}
