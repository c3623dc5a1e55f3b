package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// TestEffectiveMergeOverAllLayers: the cloud first, then requirements.toml,
// then the legacy managed_config.toml, each field from the first layer
// that sets it.
func TestEffectiveMergeOverAllLayers(t *testing.T) {
	sc, _ := fetch.FindScenario("local-sources")
	demo := startDemo(t, sc)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	cloud := "enterprise-managed requirements Workspace approvals (policy-cloud-001)"
	reqFile := filepath.Join(demo.SystemConfigDir, "requirements.toml")
	want := map[string]string{
		"allowed_approval_policies": cloud,
		"enforce_residency":         cloud,
		"allowed_sandbox_modes":     reqFile,
		"mcp_servers":               reqFile,
	}
	if rep.Requirements == nil {
		t.Fatal("no effective requirements")
	}
	for field, src := range want {
		if got := rep.Requirements.Sources[field]; got != src {
			t.Errorf("%s set by %q, want %q", field, got, src)
		}
	}
	if len(rep.Requirements.Sources) != len(want) {
		t.Errorf("sources %v, want exactly %v", rep.Requirements.Sources, want)
	}
	// The cloud's own result is kept apart: the outcome is the cloud's.
	if rep.CloudRequirements == nil || len(rep.CloudRequirements.Order) != 2 || rep.Outcome != OutcomeRequirements {
		t.Errorf("cloud requirements %+v outcome %s", rep.CloudRequirements, rep.Outcome)
	}
	local := stage(t, rep, StageLocal)
	if local.Status != StatusOK || !strings.Contains(local.Summary, "2 sources") {
		t.Errorf("local stage %+v", local)
	}
}

// TestUserConfigFallbacks: a user value the requirements forbid gives
// Codex's fallback warning; a misspelt key is flagged.
func TestUserConfigFallbacks(t *testing.T) {
	sc, _ := fetch.FindScenario("local-sources")
	demo := startDemo(t, sc)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	byKey := map[string]model.PolicyCheck{}
	for _, c := range rep.PolicyChecks {
		byKey[c.ConfigKey] = c
	}
	ap := byKey["approval_policy"]
	if ap.Accepted || ap.UserValue != "never" || ap.CodexUses != "on-request" ||
		!strings.Contains(ap.Message, "Configured value for `approval_policy` is disallowed by requirements; falling back to required value") {
		t.Errorf("approval_policy check %+v", ap)
	}
	sb := byKey["sandbox_mode"]
	if sb.Accepted || sb.UserValue != "workspace-write" || sb.CodexUses != "read-only" {
		t.Errorf("sandbox_mode check %+v", sb)
	}
	if _, ok := byKey["codex exec"]; !ok {
		t.Errorf("no codex exec note although `never` is not allowed: %+v", rep.PolicyChecks)
	}
	cfg := stage(t, rep, StageUserConfig)
	if cfg.Status != StatusWarn || !strings.Contains(cfg.Summary, "2 settings") {
		t.Errorf("config stage %+v", cfg)
	}
	found := false
	for _, d := range cfg.Details {
		if d.Key == "ask_for_approval" && strings.Contains(d.Value, "did you mean `approval_policy`") {
			found = true
		}
	}
	if !found {
		t.Errorf("misspelt key not flagged: %+v", cfg.Details)
	}
}

// TestLocalSourcesApplyWithoutCloud: a plan that gets no cloud
// requirements still gets the machine's.
func TestLocalSourcesApplyWithoutCloud(t *testing.T) {
	demo := startDemo(t, fetch.Scenario{Name: "pro", Plan: "pro"})
	os.WriteFile(filepath.Join(demo.SystemConfigDir, "requirements.toml"), []byte("allowed_sandbox_modes = [\"read-only\"]\n"), 0o600)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	if rep.Outcome != OutcomeNotApplicable || rep.Requirements == nil || rep.Requirements.Sources["allowed_sandbox_modes"] == "" {
		t.Fatalf("outcome %s requirements %+v", rep.Outcome, rep.Requirements)
	}
}

func TestInvalidLocalSourceIsReported(t *testing.T) {
	sc, _ := fetch.FindScenario("success")
	demo := startDemo(t, sc)
	os.WriteFile(filepath.Join(demo.SystemConfigDir, "requirements.toml"), []byte("allowed_sandbox_modes = [\n"), 0o600)
	os.WriteFile(filepath.Join(demo.SystemConfigDir, "managed_config.toml"), []byte("sandbox_mode = \"workspace-write\"\n"), 0o600)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	local := stage(t, rep, StageLocal)
	if local.Status != StatusFail || !strings.Contains(local.Summary, "requirements.toml") {
		t.Errorf("local stage %+v", local)
	}
	var line string
	for _, d := range local.Details {
		if strings.HasSuffix(d.Key, "requirements.toml") {
			line = d.Value
		}
	}
	if !strings.Contains(line, "invalid") || !strings.Contains(line, "line 1") {
		t.Errorf("requirements.toml line %q lacks the position", line)
	}
	// The cloud load decides the exit code; the managed_config.toml layer
	// still merges.
	if rep.ExitCode != ExitOK || rep.Requirements.Sources["allowed_sandbox_modes"] == "" {
		t.Errorf("exit %d sources %v", rep.ExitCode, rep.Requirements.Sources)
	}
}
