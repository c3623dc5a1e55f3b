package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/reqdoctor/reqdoctor/doctor"
)

func TestRunPlain(t *testing.T) {
	evs, rep := retryScenario()
	// Emit from another goroutine, as the real pipeline does.
	run := func(ctx context.Context, emit func(doctor.Event)) *doctor.Report {
		done := make(chan *doctor.Report)
		go func() { done <- fakeRun(evs, rep, 0)(ctx, emit) }()
		return <-done
	}
	var out bytes.Buffer
	got := RunPlain(context.Background(), &out, run)
	if got != rep {
		t.Fatalf("RunPlain returned %p, want the run's report %p", got, rep)
	}
	s := out.String()
	if i := strings.IndexByte(s, 0x1b); i >= 0 {
		t.Fatalf("plain output contains ESC at byte %d:\n%s", i, s)
	}
	// Attempts as they finish, then the fetch stage, then table and verdict.
	order := []string{
		"✓ ok      environment",
		"! warn    cache",
		"… running fetch        GET " + bundleURL,
		"(Codex gives up after 20 s)",
		"#1  503  412 ms  server error · text/html",
		"waiting 0.41 s before attempt 2",
		"#2  200  95 ms  ok",
		"! warn    fetch",
		"✓ ok      parse",
		"workspace policies",
		"| allowed_sandbox_modes",
		"✓ Codex would start with workspace policies (exit 0)",
		"1 warning(s):",
	}
	pos := 0
	for _, want := range order {
		i := strings.Index(s[pos:], want)
		if i < 0 {
			t.Fatalf("plain output lacks %q after byte %d:\n%s", want, pos, s)
		}
		pos += i + len(want)
	}
	if n := strings.Count(s, "! warn    fetch"); n != 1 {
		t.Errorf("fetch stage printed %d times, want once", n)
	}
	for i, l := range strings.Split(s, "\n") {
		if w := len([]rune(l)); w > PlainWidth {
			t.Errorf("line %d is %d columns, more than %d: %q", i+1, w, PlainWidth, l)
		}
	}
	golden.RequireEqual(t, out.Bytes())
}

// A pipeline that emits nothing still gets its stages and verdict printed.
func TestRunPlainWithoutEvents(t *testing.T) {
	_, rep := retryScenario()
	rep.Requirements = nil
	var out bytes.Buffer
	RunPlain(context.Background(), &out, func(context.Context, func(doctor.Event)) *doctor.Report { return rep })
	s := out.String()
	for _, id := range doctor.StageOrder {
		n := 0
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, " ") && strings.Contains(l, " "+padRight(string(id), titleWidth)+"  ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("stage %s printed %d times, want once:\n%s", id, n, s)
		}
	}
	if strings.Contains(s, "workspace policies\n") {
		t.Errorf("no requirements, yet a policies table:\n%s", s)
	}
	if !strings.HasSuffix(s, "is ignored by Codex\n") {
		t.Errorf("output should end with the warnings:\n%s", s)
	}
}

// A run cancelled before it finishes yields a nil report and says so.
func TestRunPlainNoReport(t *testing.T) {
	var out bytes.Buffer
	rep := RunPlain(context.Background(), &out, func(context.Context, func(doctor.Event)) *doctor.Report { return nil })
	if rep != nil {
		t.Fatalf("report = %v, want nil", rep)
	}
	if !strings.Contains(out.String(), "✗ no result: the diagnosis did not finish") {
		t.Errorf("output:\n%s", out.String())
	}
}

// Accessible output: a static progress line per stage, words for
// verdicts, ASCII only for reqdoctor's own symbols, no escape codes.
func TestRunAccessible(t *testing.T) {
	evs, rep := retryScenario()
	var out bytes.Buffer
	if got := RunAccessible(context.Background(), &out, fakeRun(evs, rep, 0)); got != rep {
		t.Fatalf("RunAccessible returned %p, want %p", got, rep)
	}
	s := out.String()
	if strings.ContainsAny(s, "\x1b\x9b") {
		t.Fatalf("accessible output contains an escape code:\n%q", s)
	}
	order := []string{
		"Working: stage 1 of 8 (environment)...",
		"OK        environment",
		"Working: stage 4 of 8 (cache)...",
		"WARN      cache",
		"    hint: nothing to do",
		"Working: GET " + bundleURL,
		"#1  503  412 ms  server error; text/html; body:",
		"WARN      fetch",
		"Working: stage 8 of 8 (your config)...",
		"approval_policy: NOT OK `never`",
		"+---",
		"| never NOT OK |",
		"OK: Codex would start with workspace policies (exit 0)",
		"WARN: unknown key",
	}
	pos := 0
	for _, want := range order {
		i := strings.Index(s[pos:], want)
		if i < 0 {
			t.Fatalf("accessible output lacks %q after byte %d:\n%s", want, pos, s)
		}
		pos += i + len(want)
	}
	for _, sym := range []string{"✓", "✗", "→", "…", "·", "│", "─", "╭"} {
		if strings.Contains(s, sym) {
			t.Errorf("accessible output contains %q", sym)
		}
	}
	for i, l := range strings.Split(s, "\n") {
		if w := len([]rune(l)); w > PlainWidth {
			t.Errorf("line %d is %d columns: %q", i+1, w, l)
		}
	}
	golden.RequireEqual(t, out.Bytes())
}
