package doctor

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// startDemo runs a hand-made scenario's backend and CODEX_HOME.
func startDemo(t *testing.T, sc fetch.Scenario) *fetch.Demo {
	t.Helper()
	if sc.AuthMode == "" {
		sc.AuthMode = fetch.DemoAuthChatGPT
	}
	if sc.Protocol == "" {
		sc.Protocol = model.ProtocolBundle
	}
	demo, err := fetch.StartDemo(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	return demo
}

func stage(t *testing.T, rep *Report, id StageID) StageResult {
	t.Helper()
	for _, s := range rep.Stages {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no stage %s", id)
	return StageResult{}
}

func noCodex(context.Context) CodexInfo { return CodexInfo{} }

func TestMissingLoginIsNotApplicableExit4(t *testing.T) {
	home := t.TempDir()
	rep := Run(context.Background(), Options{CodexHome: home, Codex: noCodex}, nil)
	if rep.Outcome != OutcomeNotApplicable || rep.ExitCode != ExitCredentials || rep.Err != nil {
		t.Fatalf("outcome %s exit %d err %+v", rep.Outcome, rep.ExitCode, rep.Err)
	}
	a := stage(t, rep, StageAuth)
	if a.Status != StatusFail || !strings.Contains(a.Summary, "not logged in") || !strings.Contains(a.Hint, "codex login") {
		t.Errorf("auth stage %+v", a)
	}
	for _, id := range []StageID{StagePlan, StageCache, StageFetch, StageParse} {
		if s := stage(t, rep, id); s.Status != StatusSkipped || s.Summary == "" {
			t.Errorf("%s: %+v, want skipped with a reason", id, s)
		}
	}
}

func TestBrokenAuthJSONExit4(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "auth.json"), []byte(`{"tokens": `), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := Run(context.Background(), Options{CodexHome: home, Codex: noCodex}, nil)
	a := stage(t, rep, StageAuth)
	if rep.ExitCode != ExitCredentials || a.Status != StatusFail || !strings.Contains(a.Summary, "auth.json") {
		t.Fatalf("exit %d auth %+v", rep.ExitCode, a)
	}
}

func TestCodexHomeMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	getenv := func(k string) string {
		if k == "CODEX_HOME" {
			return missing
		}
		return ""
	}
	rep := Run(context.Background(), Options{Getenv: getenv, Codex: noCodex}, nil)
	env := stage(t, rep, StageEnvironment)
	if env.Status != StatusFail || !strings.Contains(env.Summary, "does not exist") {
		t.Errorf("environment %+v", env)
	}
	if rep.Outcome != OutcomeError || rep.ExitCode != ExitRefuse || rep.Err == nil || rep.Err.Code != fetch.CodeInternal {
		t.Errorf("outcome %s exit %d err %+v", rep.Outcome, rep.ExitCode, rep.Err)
	}
}

func TestInvalidConfigIsReportedNotFatal(t *testing.T) {
	demo := startDemo(t, fetch.Scenario{Name: "cfg", Plan: "enterprise", AuthMode: fetch.DemoAuthAPIKey})
	cfg := filepath.Join(demo.CodexHome, "config.toml")
	if err := os.WriteFile(cfg, []byte("model = \"x\"\nchatgpt_base_url = [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	env := stage(t, rep, StageEnvironment)
	if env.Status != StatusFail || !strings.Contains(env.Hint, "config.toml") {
		t.Errorf("environment %+v", env)
	}
	if !strings.Contains(env.Hint, ":2:") && !strings.Contains(env.Hint, "line 2") {
		t.Errorf("hint does not locate the error: %q", env.Hint)
	}
	// The later stages still ran.
	if a := stage(t, rep, StageAuth); a.Status == StatusSkipped {
		t.Errorf("auth skipped after a config error: %+v", a)
	}
}

func TestProtocolChoice(t *testing.T) {
	for _, tc := range []struct {
		flag    string
		codex   CodexInfo
		want    model.Protocol
		because string
	}{
		{"auto", CodexInfo{}, model.ProtocolBundle, "no codex on PATH"},
		{"auto", CodexInfo{Path: "/bin/codex", Version: "0.136.0"}, model.ProtocolRequirements, "0.136.0 is ≤ 0.136"},
		{"auto", CodexInfo{Path: "/bin/codex", Version: "0.135.2"}, model.ProtocolRequirements, "≤ 0.136"},
		{"auto", CodexInfo{Path: "/bin/codex", Version: "0.137.0"}, model.ProtocolBundle, "≥ 0.137"},
		{"auto", CodexInfo{Path: "/bin/codex", Version: "1.2.0"}, model.ProtocolBundle, "≥ 0.137"},
		{"auto", CodexInfo{Path: "/bin/codex"}, model.ProtocolBundle, "version unknown"},
		{"requirements", CodexInfo{Path: "/bin/codex", Version: "0.171.0"}, model.ProtocolRequirements, "--protocol"},
		{"bundle", CodexInfo{}, model.ProtocolBundle, "--protocol"},
	} {
		codex := tc.codex
		opts := Options{CodexHome: t.TempDir(), Protocol: tc.flag, Codex: func(context.Context) CodexInfo { return codex }}
		rep := Run(context.Background(), opts, nil)
		env := stage(t, rep, StageEnvironment)
		var proto string
		for _, d := range env.Details {
			if d.ID == "protocol" {
				proto = d.Value
			}
		}
		if rep.Protocol != tc.want || !strings.Contains(proto, tc.because) {
			t.Errorf("%s %+v: protocol %s (%q), want %s because %q", tc.flag, tc.codex, rep.Protocol, proto, tc.want, tc.because)
		}
	}
}

func TestParseCodexVersion(t *testing.T) {
	for out, want := range map[string]string{
		"codex-cli 0.171.0\n": "0.171.0",
		"codex-cli 0.136.0":   "0.136.0",
		"codex 1.0.0-alpha.3": "1.0.0",
		"no version here":     "",
		"":                    "",
	} {
		if got := ParseCodexVersion(out); got != want {
			t.Errorf("ParseCodexVersion(%q) = %q, want %q", out, got, want)
		}
	}
	for v, want := range map[string]bool{"0.136.0": true, "0.136.9": true, "0.137.0": false, "0.1.0": true, "1.0.0": false, "x": false} {
		if got := VersionAtMost(v, 0, 136); got != want {
			t.Errorf("VersionAtMost(%q) = %v", v, got)
		}
	}
}

func TestUpperCasePlanGetsNoRequest(t *testing.T) {
	demo := startDemo(t, fetch.Scenario{Name: "upper", Plan: "ENTERPRISE",
		Replies: func(int, *http.Request) fetch.Reply { return fetch.Reply{Status: 500} }})
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	if rep.Outcome != OutcomeNotApplicable || rep.ExitCode != ExitOK || len(demo.Backend.Requests()) != 0 {
		t.Fatalf("outcome %s exit %d requests %d", rep.Outcome, rep.ExitCode, len(demo.Backend.Requests()))
	}
	if p := stage(t, rep, StagePlan); !strings.Contains(p.Summary, "ENTERPRISE") {
		t.Errorf("plan stage does not name the plan: %+v", p)
	}
}

// TestEduPlanDiffersByProtocol: edu gets requirements only from the bundle
// generation on.
func TestEduPlanDiffersByProtocol(t *testing.T) {
	for proto, want := range map[model.Protocol]Outcome{model.ProtocolBundle: OutcomeNone, model.ProtocolRequirements: OutcomeNotApplicable} {
		demo := startDemo(t, fetch.Scenario{Name: "edu", Plan: "edu", Protocol: proto})
		rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
		if rep.Outcome != want {
			t.Errorf("%s: outcome %s, want %s", proto, rep.Outcome, want)
		}
	}
}

func TestStagePanicBecomesCrashedStage(t *testing.T) {
	boom := func(context.Context) CodexInfo { panic("boom") }
	rep := Run(context.Background(), Options{CodexHome: t.TempDir(), Codex: boom}, nil)
	env := stage(t, rep, StageEnvironment)
	if env.Status != StatusFail || !strings.Contains(env.Summary, "crashed") || !strings.Contains(env.Hint, "bug") {
		t.Errorf("environment %+v", env)
	}
	// The trace went to a file named in the hint, not to the terminal.
	_, path, ok := strings.Cut(env.Hint, "saved in ")
	if !ok {
		t.Fatalf("hint names no trace file: %q", env.Hint)
	}
	trace, err := os.ReadFile(path)
	os.Remove(path)
	if err != nil || !strings.Contains(string(trace), "boom") || !strings.Contains(string(trace), "goroutine") {
		t.Errorf("trace file %s: %v\n%s", path, err, trace)
	}
	if rep.Err == nil || rep.Err.Code != fetch.CodeInternal || rep.ExitCode != ExitRefuse {
		t.Errorf("err %+v exit %d", rep.Err, rep.ExitCode)
	}
	if s := stage(t, rep, StageAuth); s.Status != StatusSkipped {
		t.Errorf("auth ran after a crash: %+v", s)
	}
}

func TestReloadedLoginIsUsedAfter401(t *testing.T) {
	var demo *fetch.Demo
	demo = startDemo(t, fetch.Scenario{Name: "reload", Plan: "enterprise",
		Replies: func(n int, r *http.Request) fetch.Reply {
			if n == 1 {
				// The user logs in again while Codex waits: auth.json changes.
				raw, _ := os.ReadFile(filepath.Join(demo.CodexHome, "auth.json"))
				os.WriteFile(filepath.Join(demo.CodexHome, "auth.json"), []byte(strings.Replace(string(raw), `"acct-demo-0001"`, `"acct-demo-0002"`, 1)), 0o600)
				return fetch.Reply{Status: 401}
			}
			return fetch.Reply{Body: `{}`}
		}})
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	reqs := demo.Backend.Requests()
	if rep.Outcome != OutcomeNone || len(reqs) != 2 {
		t.Fatalf("outcome %s, %d requests, err %+v", rep.Outcome, len(reqs), rep.Err)
	}
	if got := reqs[1].Header.Get("ChatGPT-Account-Id"); got != "acct-demo-0002" {
		t.Errorf("second request used account %q, want the reloaded one", got)
	}
}

func TestParseNamesOverriddenFields(t *testing.T) {
	sc, _ := fetch.FindScenario("multi-fragment")
	demo := startDemo(t, sc)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	p := stage(t, rep, StageParse)
	found := false
	for _, d := range p.Details {
		if d.ID == "overridden.allowed_sandbox_modes" && strings.Contains(d.Value, "fragment 1 wins") && strings.Contains(d.Value, "fragment 2") {
			found = true
		}
	}
	if !found {
		t.Errorf("parse details do not name the overridden field: %+v", p.Details)
	}
}
