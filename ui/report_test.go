package ui

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// fixedInfo is a ReportInfo that does not depend on this machine.
func fixedInfo() ReportInfo {
	return ReportInfo{ToolVersion: "v1.2.3", OS: "linux", Arch: "amd64", Term: "xterm-256color", ColorTerm: "truecolor",
		Title: "reqdoctor — demo: 5xx then success", Now: func() time.Time { return t0.Add(90 * time.Second) }}
}

// reportFixture is the retry scenario with a user id, an account id and a
// live check, so every part of the report has something to show.
func reportFixture() *doctor.Report {
	_, rep := retryScenario()
	rep.Stages[1].Details = append(rep.Stages[1].Details,
		doctor.Detail{Key: "user id", Value: "user-Ab3dEf9hIj0kLm"},
		doctor.Detail{Key: "account id", Value: "3f0c1a52-9b7e-4d2a-8c11-0a1b2c3d4e5f"})
	rep.Stages[0].Details = append(rep.Stages[0].Details, doctor.Detail{Key: "codex", ID: "codex", Value: "codex 0.137.0 at /home/dev/.local/bin/codex"})
	rep.Live = &doctor.LiveCheck{Fetch: fetch.Result{URL: bundleURL, Timeout: 20 * time.Second, Elapsed: 80 * time.Millisecond,
		Attempts: []fetch.Attempt{{N: 1, Duration: 80 * time.Millisecond, Status: 200, Class: "ok", ContentType: "application/json"}}},
		Same: false, Diff: []string{"allowed_sandbox_modes: read-only → read-only, workspace-write"}}
	rep.UserConfig = &model.UserConfig{Path: "/home/dev/.codex/config.toml", Found: true,
		IgnoredKeys: []model.IgnoredKey{{Key: "ask_for_approval", Suggestion: "approval_policy"}}}
	return rep
}

func TestMarkdownReportGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		redact bool
		want   []string // present
		absent []string
	}{
		{"redacted", true,
			[]string{"> Redacted:", "d***@example.com", "user id: …0kLm", "account id: …4e5f", "~/.codex/config.toml", "codex 0.137.0 at ~/.local/bin/codex"},
			[]string{"dev@example.com", "/home/dev", "user-Ab3dEf9hIj0kLm", "3f0c1a52"}},
		{"not redacted", false,
			[]string{"> Not redacted", "dev@example.com", "user-Ab3dEf9hIj0kLm", "/home/dev/.codex/config.toml"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := reportFixture()
			md := MarkdownReport(rep, fixedInfo(), model.NewRedactor("/home/dev", tc.redact))
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(md, a) {
					t.Errorf("report contains %q", a)
				}
			}
			checkReportComplete(t, md, rep)
			golden.RequireEqual(t, []byte(md))
		})
	}
}

// checkReportComplete checks that md has every stage with its status,
// every policy, the attempts, the verdict and the exit code.
func checkReportComplete(t *testing.T, md string, rep *doctor.Report) {
	t.Helper()
	for _, s := range rep.Stages {
		head := StageTitle(s.ID) + ": " + strings.ToUpper(string(s.Status))
		if !strings.Contains(md, head) {
			t.Errorf("report lacks stage %q", head)
		}
	}
	if rep.Requirements != nil {
		for _, r := range rep.Requirements.Rows() {
			if !strings.Contains(md, "| "+r.Field+" |") {
				t.Errorf("report lacks the policy row %q", r.Field)
			}
		}
	}
	if rep.Fetch != nil {
		for _, a := range rep.Fetch.Attempts {
			if !strings.Contains(md, "| "+itoa(a.N)+" | ") {
				t.Errorf("report lacks attempt %d", a.N)
			}
		}
	}
	text, _ := Verdict(rep)
	for _, w := range []string{"| exit code | " + itoa(rep.ExitCode) + " |", "## Verdict", text, "| generated |", "| OS/arch |", "| terminal |"} {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

// Secrets are masked even if one slipped into a stage by mistake, and with
// redaction off.
func TestMarkdownReportMasksSecrets(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlX3RhaWw"
	rep := reportFixture()
	rep.Stages[1].Details = append(rep.Stages[1].Details,
		doctor.Detail{Key: "leak", Value: "Authorization: Bearer " + jwt},
		doctor.Detail{Key: "key", Value: "sk-proj-AbCdEfGhIjKlMnOpQr12"})
	for _, on := range []bool{true, false} {
		md := MarkdownReport(rep, fixedInfo(), model.NewRedactor("/home/dev", on))
		for _, s := range []string{jwt, "c2lnbmF0dXJlX3RhaWw", "AbCdEfGhIjKlMnOpQr12"} {
			if strings.Contains(md, s) {
				t.Errorf("redact=%v: report contains %q", on, s)
			}
		}
	}
}

// The demo login's tokens never reach a report, whatever the outcome.
func TestMarkdownReportOfDemoHasNoTokens(t *testing.T) {
	for _, name := range []string{"success", "unauthorized", "server-error", "api-key", "valid-cache"} {
		t.Run(name, func(t *testing.T) {
			sc, ok := fetch.FindScenario(name)
			if !ok {
				t.Fatalf("no demo scenario %q", name)
			}
			demo, err := fetch.StartDemo(sc)
			if err != nil {
				t.Fatal(err)
			}
			defer demo.Close()
			secrets, err := demo.Secrets()
			if err != nil {
				t.Fatal(err)
			}
			if len(secrets) == 0 {
				t.Fatal("the demo login has no secrets to look for")
			}
			opts := doctor.DemoOptions(doctor.Options{Protocol: "auto"}, demo)
			rep := doctor.Run(context.Background(), opts, nil)
			for _, on := range []bool{true, false} {
				md := MarkdownReport(rep, fixedInfo(), model.NewRedactor("", on))
				checkReportComplete(t, md, rep)
				for _, s := range secrets {
					if len(s) >= 12 && strings.Contains(md, s[len(s)-12:]) {
						t.Errorf("redact=%v: report holds a secret's tail %q", on, s[len(s)-12:])
					}
				}
			}
		})
	}
}

func TestSaveReport(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 5, 9, 10, 0, 0, 0, time.UTC)
	p1, err := SaveReport(dir, at, "one")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := SaveReport(dir, at, "two")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p1) != "reqdoctor-report-20260509-100000.md" || p1 == p2 {
		t.Errorf("paths %q, %q", p1, p2)
	}
	for p, want := range map[string]string{p1: "one", p2: "two"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
		}
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Errorf("%s holds %q, want %q", p, b, want)
		}
	}
	if _, err := SaveReport(filepath.Join(dir, "missing"), at, "x"); err == nil {
		t.Error("saving into a missing directory did not fail")
	}
}

// reportModel is a finished model that saves reports into dir.
func reportModel(t *testing.T, dir, file string) Model {
	t.Helper()
	evs, rep := retryScenario()
	now := t0.Add(time.Second)
	st := PlainStyles()
	m := NewModel(fakeRun(evs, rep, 0), Options{Now: fixedClock(&now), Title: "reqdoctor — demo: 5xx then success", Styles: &st,
		ReportInfo: fixedInfo(), Redactor: model.NewRedactor("/home/dev", true), ReportDir: dir, ReportFile: file})
	t.Cleanup(m.cancel)
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 60})
	return m
}

// runCmd runs cmd and the Cmds of any batch it returns, collecting the
// messages.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, runCmd(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func TestCopyKey(t *testing.T) {
	dir := t.TempDir()
	keyC := tea.KeyPressMsg{Code: 'c', Text: "c"}
	m := reportModel(t, dir, "")
	if _, cmd := update(t, m, keyC); cmd != nil {
		t.Fatal("c before any run finished returned a Cmd")
	}
	if strings.Contains(content(m), "c copy report") {
		t.Error("help offers c before there is a report")
	}
	evs, _ := retryScenario()
	m = feed(t, m, evs...)
	mustContain(t, content(m), "c copy report")

	m, cmd := update(t, m, keyC)
	if cmd == nil {
		t.Fatal("c returned no Cmd")
	}
	var saved *reportSavedMsg
	clip := false
	for _, msg := range runCmd(cmd) {
		switch msg := msg.(type) {
		case reportSavedMsg:
			saved = &msg
		default:
			// tea.SetClipboard's message type is unexported.
			clip = clip || strings.Contains(strings.ToLower(typeName(msg)), "clipboard")
		}
	}
	if !clip {
		t.Error("c did not set the clipboard (OSC 52)")
	}
	if saved == nil || saved.err != nil {
		t.Fatalf("c did not save the report: %+v", saved)
	}
	if filepath.Dir(saved.path) != dir || !strings.HasPrefix(filepath.Base(saved.path), "reqdoctor-report-") {
		t.Errorf("saved to %q, want reqdoctor-report-… in %s", saved.path, dir)
	}
	b, err := os.ReadFile(saved.path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "# reqdoctor report") || strings.Contains(string(b), "dev@example.com") {
		t.Errorf("saved report is not the redacted report:\n%s", b)
	}
	m, _ = update(t, m, *saved)
	mustContain(t, ansi.Strip(strings.ReplaceAll(content(m), "\n", " ")), "report copied (OSC 52) and saved to", "supports OSC 52")
	for _, l := range strings.Split(content(m), "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("line wider than 80: %q", l)
		}
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// The TUI writes --report FILE when a run finishes and says so.
func TestReportFileInTUI(t *testing.T) {
	file := filepath.Join(t.TempDir(), "report.md")
	m := reportModel(t, "", file)
	_, rep := retryScenario()
	cmd := m.finish(rep)
	msgs := runCmd(cmd)
	if len(msgs) != 1 {
		t.Fatalf("finish returned %d messages, want the report's", len(msgs))
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("report not written: %v", err)
	}
	m, _ = update(t, m, msgs[0])
	mustContain(t, content(m), "report written to "+file)
}

func TestViewWidths(t *testing.T) {
	for _, w := range []int{40, 200} {
		t.Run(itoa(w), func(t *testing.T) {
			m, _ := finishedModel(t)
			m, _ = update(t, m, tea.WindowSizeMsg{Width: w, Height: 80})
			c := content(m)
			for i, l := range strings.Split(c, "\n") {
				if lw := ansi.StringWidth(l); lw > w {
					t.Errorf("line %d is %d columns, more than %d: %q", i+1, lw, w, l)
				}
			}
			mustContain(t, c, "reqdoctor", "Codex would start", "field", "allowed_approval_policies")
			golden.RequireEqual(t, []byte(c))
		})
	}
}

func TestBackgroundColour(t *testing.T) {
	dark, light := NewStyles(true), NewStyles(false)
	for _, pick := range []func(Styles) string{
		func(s Styles) string { return s.Warn.Render("warn") },
		func(s Styles) string { return s.OK.Render("ok") },
		func(s Styles) string { return s.Dim.Render("dim") },
	} {
		d, l := pick(dark), pick(light)
		if d == l {
			t.Errorf("dark and light render the same: %q", d)
		}
		if ansi.Strip(d) != ansi.Strip(l) || !strings.Contains(d, "\x1b[") || !strings.Contains(l, "\x1b[") {
			t.Errorf("styles do not both render their text in colour: %q, %q", d, l)
		}
	}

	m := NewModel(nil, Options{})
	t.Cleanup(m.cancel)
	if !m.Styles().Dark {
		t.Error("the model should start with the dark styles")
	}
	m, _ = update(t, m, tea.BackgroundColorMsg{Color: color.White})
	if m.Styles().Dark {
		t.Error("a white background kept the dark styles")
	}
	if got, want := m.Styles().Warn.Render("x"), light.Warn.Render("x"); got != want {
		t.Errorf("after a white background Warn renders %q, want %q", got, want)
	}
	m, _ = update(t, m, tea.BackgroundColorMsg{Color: color.Black})
	if !m.Styles().Dark {
		t.Error("a black background kept the light styles")
	}
	// Styles given by the caller stay.
	st := PlainStyles()
	fixed := NewModel(nil, Options{Styles: &st})
	t.Cleanup(fixed.cancel)
	fixed, _ = update(t, fixed, tea.BackgroundColorMsg{Color: color.White})
	if fixed.Styles().Warn.Render("x") != "x" {
		t.Error("a background colour message replaced the caller's styles")
	}
}
