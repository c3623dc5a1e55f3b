package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// binary is reqdoctor built once for the CLI tests, run as a subprocess.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reqdoctor-cli-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "reqdoctor")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building reqdoctor:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cliResult struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// reqdoctor runs the built binary with a clean environment, stdout and
// stdin not terminals, so the plain-mode rules apply.
func reqdoctor(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "TERM=xterm-256color"}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	res := cliResult{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running reqdoctor: %v", err)
	}
	return res
}

// contractKeys are the top-level keys of design.md's JSON contract.
var contractKeys = []string{"error", "exitCode", "fetch", "outcome", "protocol", "requirements", "schemaVersion", "sources", "stages", "tool", "warnings"}

func TestJSONContractForEveryDemoScenario(t *testing.T) {
	for _, sc := range fetch.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			r := reqdoctor(t, nil, "--demo="+sc.Name, "--json")
			if r.code != sc.Expect.ExitCode {
				t.Errorf("exit code %d, want %d; stderr: %s", r.code, sc.Expect.ExitCode, r.stderr)
			}
			var doc map[string]json.RawMessage
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.stdout)
			}
			if dec.More() {
				t.Errorf("stdout holds more than one JSON document")
			}
			var keys []string
			for k := range doc {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range contractKeys {
				if _, ok := doc[k]; !ok {
					t.Errorf("JSON lacks contract key %q (has %v)", k, keys)
				}
			}
			var rep struct {
				SchemaVersion int    `json:"schemaVersion"`
				Outcome       string `json:"outcome"`
				ExitCode      int    `json:"exitCode"`
				Protocol      string `json:"protocol"`
				Tool          struct {
					Name string `json:"name"`
				} `json:"tool"`
				Stages []struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"stages"`
				Fetch *struct {
					URL      string `json:"url"`
					Attempts []struct {
						N int `json:"n"`
					} `json:"attempts"`
				} `json:"fetch"`
				Error *struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.SchemaVersion != 1 || rep.Tool.Name != "reqdoctor" {
				t.Errorf("schemaVersion %d, tool %q", rep.SchemaVersion, rep.Tool.Name)
			}
			if rep.Outcome != sc.Expect.Outcome {
				t.Errorf("outcome %q, want %q", rep.Outcome, sc.Expect.Outcome)
			}
			if rep.ExitCode != r.code {
				t.Errorf("exitCode in JSON %d, process exit %d", rep.ExitCode, r.code)
			}
			if rep.Protocol != string(sc.Protocol) {
				t.Errorf("protocol %q, want %q", rep.Protocol, sc.Protocol)
			}
			code := ""
			if rep.Error != nil {
				code = rep.Error.Code
			}
			if code != sc.Expect.ErrorCode {
				t.Errorf("error.code %q, want %q", code, sc.Expect.ErrorCode)
			}
			n := 0
			if rep.Fetch != nil {
				n = len(rep.Fetch.Attempts)
			}
			if n != sc.Expect.Attempts {
				t.Errorf("%d attempts, want %d", n, sc.Expect.Attempts)
			}
			if len(rep.Stages) != 6 {
				t.Errorf("%d stages, want 6", len(rep.Stages))
			}
			var details struct {
				Stages []struct {
					Details map[string]string `json:"details"`
				} `json:"stages"`
			}
			json.Unmarshal([]byte(r.stdout), &details)
			for _, st := range details.Stages {
				for k := range st.Details {
					if strings.ContainsAny(k, " \t") {
						t.Errorf("detail key %q is not a JSON-style key", k)
					}
				}
			}
			if r.stderr != "" {
				t.Errorf("--json wrote to stderr: %s", r.stderr)
			}
		})
	}
}

func TestPlainModeHasNoEscapeCodes(t *testing.T) {
	for _, args := range [][]string{
		{"--demo=success", "--plain"},
		{"--demo=server-error"}, // stdout is a pipe: plain mode by itself
		{"--demo=unknown-keys", "--plain"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := reqdoctor(t, nil, args...)
			if strings.ContainsAny(r.stdout+r.stderr, "\x1b\x9b") {
				t.Errorf("output contains escape codes:\n%q", r.stdout)
			}
			for _, stage := range []string{"environment", "auth", "plan", "cache", "fetch", "parse"} {
				if !strings.Contains(r.stdout, stage) {
					t.Errorf("plain output lacks stage %q:\n%s", stage, r.stdout)
				}
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"--protocol", "v3"},
		{"--timeout", "soon"},
		{"--timeout", "-1s"},
		{"--demo=no-such-scenario"},
		{"--json", "--plain"},
		{"--no-such-flag"},
		{"extra-argument"},
	} {
		r := reqdoctor(t, nil, args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
		if r.stderr == "" {
			t.Errorf("%v: no message on stderr", args)
		}
	}
}

func TestHelpListAndVersion(t *testing.T) {
	r := reqdoctor(t, nil, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--demo[=SCENARIO]") || !strings.Contains(r.stdout, "124") || r.stderr != "" {
		t.Errorf("--help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = reqdoctor(t, nil, "--demo=list")
	if r.code != 0 {
		t.Errorf("--demo=list exit %d", r.code)
	}
	for _, sc := range fetch.Scenarios() {
		if !strings.Contains(r.stdout, sc.Name) {
			t.Errorf("--demo=list lacks %q", sc.Name)
		}
	}
	r = reqdoctor(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "reqdoctor ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}

// TestTimeoutFlagEndsAHungFetch is the promise: --timeout 2s
// against a server that never answers ends with exit 124. The bound on the
// elapsed time only catches a hang; precision is measured by benchmarks.
func TestTimeoutFlagEndsAHungFetch(t *testing.T) {
	demo, err := fetch.StartDemo(fetch.Scenario{
		Name: "hang", Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: "chatgpt",
		Replies: func(int, *http.Request) fetch.Reply { return fetch.Reply{Hang: true} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	home := demo.CodexHome
	r := reqdoctor(t, []string{"CODEX_HOME=" + home}, "--timeout", "2s", "--json", "--protocol", "bundle")
	if r.code != 124 {
		t.Fatalf("exit %d, want 124\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, `"code": "Timeout"`) || !strings.Contains(r.stdout, "after 2s") {
		t.Errorf("JSON lacks the Timeout error:\n%s", r.stdout)
	}
	if r.elapsed > 10*time.Second {
		t.Errorf("took %s with --timeout 2s", r.elapsed)
	}
}

func TestMissingLoginExits4(t *testing.T) {
	home := t.TempDir()
	r := reqdoctor(t, []string{"CODEX_HOME=" + home}, "--json")
	if r.code != 4 {
		t.Fatalf("exit %d, want 4\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, `"outcome": "not_applicable"`) {
		t.Errorf("outcome not not_applicable:\n%s", r.stdout)
	}
}

func TestBadCodexHomeIsReported(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	r := reqdoctor(t, []string{"CODEX_HOME=" + missing}, "--plain")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stdout, "does not exist") {
		t.Errorf("no Codex-style message:\n%s", r.stdout)
	}
}

// TestREADMEInStepWithHelp keeps the README's flag list and scenario list
// the same as what the binary prints.
func TestREADMEInStepWithHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	help := reqdoctor(t, nil, "--help").stdout
	_, flags, _ := strings.Cut(help, "Flags:\n")
	flags, _, _ = strings.Cut(flags, "\n\n")
	if !strings.Contains(string(readme), flags) {
		t.Errorf("README's flag list differs from --help's:\n%s", flags)
	}
	list := reqdoctor(t, nil, "--demo=list").stdout
	_, scenarios, _ := strings.Cut(list, "\n")
	if !strings.Contains(string(readme), strings.TrimRight(scenarios, "\n")) {
		t.Errorf("README's scenario list differs from --demo=list:\n%s", scenarios)
	}
	for _, cmd := range []string{"go run . --demo", "go test ./..."} {
		if !strings.Contains(string(readme), cmd) {
			t.Errorf("README lacks %q", cmd)
		}
	}
}

func TestReportFlag(t *testing.T) {
	for _, mode := range []string{"--plain", "--json", "--accessible"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "report.md")
			r := reqdoctor(t, nil, "--demo=flaky", mode, "--report", file)
			if r.code != 0 {
				t.Fatalf("exit %d; stderr %s", r.code, r.stderr)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("report not written: %v", err)
			}
			md := string(b)
			for _, want := range []string{"# reqdoctor report", "> Redacted:", "| OS/arch |", "| terminal | TERM=xterm-256color",
				"environment: OK", "auth: OK", "plan: OK", "cache: OK", "fetch: OK", "parse: OK", "local files:", "your config:",
				"| 3 | ", "## Workspace policies", "| allowed_approval_policies |", "| exit code | 0 |", "d***@example.com"} {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			if strings.Contains(md, "dana@example.com") || strings.Contains(r.stdout, "# reqdoctor report") {
				t.Error("report not redacted, or printed on stdout")
			}
			if !strings.Contains(r.stderr, "report written to "+file) {
				t.Errorf("stderr does not say where the report went: %q", r.stderr)
			}
			if mode == "--json" {
				var doc map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
					t.Errorf("--json stdout is not JSON with --report: %v", err)
				}
			}
		})
	}
	t.Run("--no-redact", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "report.md")
		r := reqdoctor(t, nil, "--demo=success", "--plain", "--no-redact", "--report", file)
		b, _ := os.ReadFile(file)
		if r.code != 0 || !strings.Contains(string(b), "dana@example.com") || !strings.Contains(string(b), "> Not redacted") {
			t.Errorf("exit %d; --no-redact report:\n%s", r.code, b)
		}
	})
}

func TestReportRefusedInsideCodexHome(t *testing.T) {
	home := t.TempDir()
	outside := t.TempDir()
	link := filepath.Join(outside, "link")
	if err := os.Symlink(home, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		file string
	}{
		{"CODEX_HOME", []string{"CODEX_HOME=" + home}, nil, filepath.Join(home, "report.md")},
		{"--codex-home", nil, []string{"--codex-home", home}, filepath.Join(home, "sub", "..", "r.md")},
		{"through a symlink", []string{"CODEX_HOME=" + home}, nil, filepath.Join(link, "r.md")},
		{"CODEX_HOME itself", []string{"CODEX_HOME=" + home}, nil, home},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := reqdoctor(t, tc.env, append(tc.args, "--plain", "--report", tc.file)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "CODEX_HOME") {
				t.Errorf("stderr does not name CODEX_HOME: %q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("ran the diagnosis anyway:\n%s", r.stdout)
			}
		})
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 0 {
		t.Errorf("CODEX_HOME was written to: %v", entries)
	}
	// A missing directory is a usage error too; a file elsewhere is fine.
	if r := reqdoctor(t, []string{"CODEX_HOME=" + home}, "--plain", "--report", filepath.Join(outside, "no", "r.md")); r.code != 2 {
		t.Errorf("report in a missing directory: exit %d, want 2", r.code)
	}
}

// NO_COLOR (any non-empty value), --no-color, TERM=dumb and --accessible
// never produce an escape byte in static output.
func TestNoColorAndAccessibleHaveNoEscapes(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{[]string{"NO_COLOR=1"}, []string{"--plain", "--accessible"}},
		{[]string{"NO_COLOR=yes"}, []string{"--accessible"}},
		{[]string{"ACCESSIBLE=1"}, nil},
		{[]string{"TERM=dumb"}, []string{"--no-color"}},
		{nil, []string{"--accessible", "--demo=server-error"}},
	} {
		args := append([]string{"--demo=flaky"}, tc.args...)
		t.Run(strings.Join(append(tc.env, args...), " "), func(t *testing.T) {
			t.Parallel()
			r := reqdoctor(t, tc.env, args...)
			if i := strings.IndexByte(r.stdout+r.stderr, 0x1b); i >= 0 {
				t.Errorf("ESC at byte %d:\n%q", i, r.stdout)
			}
			accessible := slices.Contains(args, "--accessible") || slices.Contains(tc.env, "ACCESSIBLE=1")
			if accessible {
				for _, want := range []string{"Working: stage 1 of 8 (environment)...", "OK        environment"} {
					if !strings.Contains(r.stdout, want) {
						t.Errorf("accessible output lacks %q:\n%s", want, r.stdout)
					}
				}
				if strings.ContainsAny(r.stdout, "✓✗→") {
					t.Errorf("accessible output has symbols:\n%s", r.stdout)
				}
			}
		})
	}
	if r := reqdoctor(t, nil, "--accessible", "--tui"); r.code != 2 {
		t.Errorf("--accessible --tui: exit %d, want 2", r.code)
	}
}
