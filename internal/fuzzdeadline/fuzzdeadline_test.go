package fuzzdeadline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hangEnv turns on FuzzHangs in the child processes of the tests below:
// "seed" adds a hanging seed, any other value fuzzes from a fine one.
const hangEnv = "SHOPAUTH_FUZZDEADLINE_HANG"

// hangLimit is the deadline of FuzzHangs: short, so the tests are quick.
const hangLimit = 200 * time.Millisecond

// FuzzHangs is a target with deliberately hanging inputs: every input but
// "fine" spins forever, as a decoder that never advances would. It only
// runs as a child of the tests below.
func FuzzHangs(f *testing.F) {
	mode := os.Getenv(hangEnv)
	if mode == "" {
		f.Skip("child process of TestHangingInputFails*")
	}
	f.Add("fine")
	if mode == "seed" {
		f.Add("hang")
	}
	f.Fuzz(func(t *testing.T, in string) {
		within(t, hangLimit, func() {
			for in != "fine" {
			}
		})
	})
}

func TestRunReturnsWhenFnReturns(t *testing.T) {
	ran := false
	Run(t, func() { ran = true })
	if !ran {
		t.Fatal("fn did not run")
	}
}

// TestRunPassesOnFailuresAndPanics: what fn does to t reaches the test,
// and a panic in fn is raised on the test goroutine with fn's stack.
func TestRunPassesOnFailuresAndPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T)
		want string // in the child's output
	}{
		{"Fatal", func(t *testing.T) { t.Fatal("decoded wrongly") }, "decoded wrongly"},
		{"Error", func(t *testing.T) { t.Error("decoded wrongly") }, "decoded wrongly"},
		{"panic", func(*testing.T) { panic("index out of range") }, "index out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if os.Getenv(hangEnv) != "" {
				var after bool
				Run(t, func() { tc.fn(t) })
				after = true
				if after && tc.name == "Fatal" {
					t.Error("the test goroutine ran on after t.Fatal in fn")
				}
				return
			}
			out, err := runChild(t, t.TempDir(), "child", "-test.run=^TestRunPassesOnFailuresAndPanics$/^"+tc.name+"$", "-test.count=1")
			if err == nil {
				t.Fatalf("the child passed:\n%s", out)
			}
			if !strings.Contains(out, tc.want) || strings.Contains(out, "ran on after") {
				t.Fatalf("want %q in the child's output:\n%s", tc.want, out)
			}
			if tc.name == "panic" && !strings.Contains(out, "fuzzdeadline_test.go") {
				t.Fatalf("the panic lacks fn's stack:\n%s", out)
			}
		})
	}
}

// childLimit bounds a child: without the deadline under test, a hanging
// input would keep it running for ever.
const childLimit = 2 * time.Minute

// runChild runs this test binary with args and FuzzHangs enabled, in dir.
func runChild(t *testing.T, dir, mode string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), childLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), hangEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHangingInputFailsSeedRun: `go test` running the seed corpus fails on
// the hanging seed and names it.
func TestHangingInputFailsSeedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	out, err := runChild(t, t.TempDir(), "seed", "-test.run=^FuzzHangs$", "-test.count=1")
	if err == nil {
		t.Fatalf("the seed run passed with a hanging seed:\n%s", out)
	}
	if !strings.Contains(out, "--- FAIL: FuzzHangs/seed#1") || !strings.Contains(out, "input still running after 200ms") {
		t.Fatalf("the failure does not name the hanging seed:\n%s", out)
	}
}

// TestHangingInputFailsFuzzing: `go test -fuzz` fails on the first hanging
// input it generates and writes it to testdata/fuzz, as for any crasher.
// Without the deadline the run would stall at 0 execs/s until -fuzztime
// and end without a failure.
func TestHangingInputFailsFuzzing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a fuzzing run")
	}
	dir := t.TempDir()
	out, err := runChild(t, dir, "fuzz", "-test.run=^$", "-test.fuzz=^FuzzHangs$", "-test.fuzztime=1000x",
		"-test.fuzzminimizetime=0s", "-test.fuzzcachedir="+filepath.Join(dir, "cache"))
	if err == nil {
		t.Fatalf("fuzzing passed with a hanging input:\n%s", out)
	}
	for _, want := range []string{"input still running after 200ms", "Failing input written to"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	crashers, _ := filepath.Glob(filepath.Join(dir, "testdata", "fuzz", "FuzzHangs", "*"))
	if len(crashers) != 1 {
		t.Fatalf("%d inputs written to testdata/fuzz/FuzzHangs, want the hanging one", len(crashers))
	}
	if in, err := os.ReadFile(crashers[0]); err != nil || strings.Contains(string(in), `"fine"`) {
		t.Fatalf("written input %q (%v), want a hanging one", in, err)
	}
}
