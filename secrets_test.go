package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/ui"
)

// leaks returns every 12-character piece of a secret found in out.
func leaks(secrets []string, out string) []string {
	var found []string
	for _, s := range secrets {
		for i := 0; i+12 <= len(s); i++ {
			if strings.Contains(out, s[i:i+12]) {
				found = append(found, s[i:i+12])
				break
			}
		}
	}
	return found
}

// TestNoSecretInAnyOutput runs every demo scenario in every output mode —
// the TUI (teatest, with the c key's report), plain with -v, JSON with -v,
// accessible, --report redacted and not — and fails if any 12-character
// piece of a token, the refresh token or the API key appears anywhere.
func TestNoSecretInAnyOutput(t *testing.T) {
	eachDemo(t, func(t *testing.T, sc fetch.Scenario, demo *fetch.Demo) {
		secrets, err := demo.Secrets()
		if err != nil {
			t.Fatal(err)
		}
		if len(secrets) == 0 {
			t.Fatal("the demo login has no secrets to look for")
		}
		dir := t.TempDir()
		outputs := map[string]string{}
		for name, args := range map[string][]string{
			"plain -v":             {"--plain", "-v", "--report", filepath.Join(dir, "plain.md")},
			"json -v":              {"--json", "-v", "--report", filepath.Join(dir, "json.md"), "--no-redact"},
			"accessible":           {"--accessible"},
			"plain --no-redact -v": {"--plain", "--no-redact", "-v"},
		} {
			r := reqdoctor(t, nil, append(args, demoArgs(sc, demo)...)...)
			outputs[name] = r.stdout + r.stderr
		}
		for _, f := range []string{"plain.md", "json.md"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Errorf("report %s: %v", f, err)
			}
			outputs["report "+f] = string(b)
		}
		outputs["tui"], outputs["tui report"] = runTUI(t, demo, dir)
		// -v shows the request headers, the Authorization scheme kept.
		if sc.Expect.Attempts > 0 && !strings.Contains(outputs["plain -v"], "Authorization: Bearer <redacted>") {
			t.Errorf("-v shows no redacted Authorization header:\n%s", outputs["plain -v"])
		}
		for name, out := range outputs {
			if found := leaks(secrets, out); len(found) > 0 {
				t.Errorf("%s printed pieces of a secret: %q", name, found)
			}
		}
	})
}

// runTUI drives the real TUI model over the demo with teatest, presses c
// (copy and save the report) and q, and returns everything the program
// wrote and the saved report.
func runTUI(t *testing.T, demo *fetch.Demo, dir string) (screen, report string) {
	t.Helper()
	opts := doctor.DemoOptions(doctor.Options{Protocol: "auto"}, demo)
	run := func(ctx context.Context, emit func(doctor.Event)) *doctor.Report { return doctor.Run(ctx, opts, emit) }
	reportDir := filepath.Join(dir, "tui")
	os.Mkdir(reportDir, 0o700)
	m := ui.NewModel(run, ui.Options{Title: "secrets", ReportDir: reportDir})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 60),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	var all bytes.Buffer
	teatest.WaitFor(t, io.TeeReader(tm.Output(), &all), func(b []byte) bool {
		// The help line offers c only once the run has finished.
		return bytes.Contains(all.Bytes(), []byte("copy report"))
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	tm.Type("c")
	deadline := time.Now().Add(5 * time.Second)
	var saved []string
	for len(saved) == 0 && time.Now().Before(deadline) {
		saved, _ = filepath.Glob(filepath.Join(reportDir, "reqdoctor-report-*.md"))
		time.Sleep(20 * time.Millisecond)
	}
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	io.Copy(&all, tm.FinalOutput(t))
	// The c key's OSC 52 clipboard write carries the report in base64; it
	// is checked decoded (base64 of the plan name would match the base64
	// of the token's claims by coincidence).
	screen = osc52Seq.ReplaceAllStringFunc(all.String(), func(seq string) string {
		b, err := base64.StdEncoding.DecodeString(osc52Seq.FindStringSubmatch(seq)[1])
		if err != nil {
			t.Errorf("OSC 52 payload is not base64: %v", err)
		}
		return string(b)
	})
	if !strings.Contains(all.String(), "\x1b]52;") {
		t.Errorf("the c key wrote no OSC 52 clipboard sequence")
	}
	if len(saved) == 0 {
		t.Errorf("the c key saved no report in %s", reportDir)
		return screen, ""
	}
	b, _ := os.ReadFile(saved[0])
	return screen, string(b)
}

var osc52Seq = regexp.MustCompile("\x1b\\]52;[a-z]*;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\\\)")
