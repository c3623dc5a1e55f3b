package ui

import (
	"context"
	"time"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// t0 is the fixed start of every fake run.
var t0 = time.Date(2026, 5, 9, 10, 0, 0, 0, time.UTC)

const bundleURL = "https://chatgpt.com/backend-api/wham/config/bundle"

func beforeFetchStages() []doctor.StageResult {
	return []doctor.StageResult{
		{ID: doctor.StageEnvironment, Status: doctor.StatusOK, Summary: "CODEX_HOME /home/dev/.codex · bundle protocol (Codex ≥ 0.137)",
			Details: []doctor.Detail{{Key: "config.toml", Value: "/home/dev/.codex/config.toml"}, {Key: "base URL", Value: "https://chatgpt.com/backend-api/ (default)"}}},
		{ID: doctor.StageAuth, Status: doctor.StatusOK, Summary: "ChatGPT login from auth.json",
			Details: []doctor.Detail{{Key: "email", Value: "dev@example.com"}, {Key: "access token", Value: "eyJ…k3Qx, expires in 9 days"}}},
		{ID: doctor.StagePlan, Status: doctor.StatusOK, Summary: "plan enterprise is eligible"},
		{ID: doctor.StageCache, Status: doctor.StatusWarn, Summary: "cache expired 12 min ago; Codex will fetch",
			Hint:    "nothing to do: Codex refreshes the cache on its next start",
			Details: []doctor.Detail{{Key: "file", Value: "/home/dev/.codex/cloud-config-bundle-cache.json"}}},
	}
}

func sampleRequirements() *model.Requirements {
	src := "enterprise-managed requirements Default policy (frag_01)"
	return &model.Requirements{
		Fields: map[string]any{
			"allowed_approval_policies": []any{"on-request", "untrusted"},
			"allowed_sandbox_modes":     []any{"read-only", "workspace-write"},
			"mcp_servers": map[string]any{
				"docs":   map[string]any{"identity": map[string]any{"url": "https://mcp.internal.example.com/docs/v1/streamable-http/endpoint"}},
				"github": map[string]any{"identity": map[string]any{"command": "github-mcp-server --read-only --toolsets repos,issues,pull_requests"}},
			},
			"enforce_residency": "us",
		},
		Sources: map[string]string{
			"allowed_approval_policies": src,
			"allowed_sandbox_modes":     src,
			"mcp_servers":               "enterprise-managed requirements MCP allow-list (frag_02)",
			"enforce_residency":         src,
		},
		Order: []string{"allowed_approval_policies", "allowed_sandbox_modes", "mcp_servers", "enforce_residency"},
	}
}

// sampleChecks compare a config.toml with sampleRequirements: a
// disallowed approval policy, an unset sandbox mode, MCP servers on and
// off the allow-list, and the `codex exec` note, which gets no cell.
func sampleChecks() []model.PolicyCheck {
	return []model.PolicyCheck{
		{Policy: model.FieldApprovalPolicies, ConfigKey: model.ConfigKeyApprovalPolicy, UserValue: "never", From: "config.toml",
			CodexUses: "on-request", Message: "Configured value for `approval_policy` is disallowed by requirements; falling back to required value OnRequest."},
		{Policy: model.FieldApprovalPolicies, ConfigKey: "codex exec", UserValue: "never", Message: "`codex exec` asks for approval `never`, which is not allowed"},
		{Policy: model.FieldSandboxModes, ConfigKey: model.ConfigKeySandboxMode, Accepted: true, CodexUses: "read-only", Message: "unset → Codex uses `read-only`"},
		{Policy: model.FieldMCPServers, ConfigKey: "mcp_servers.docs", UserValue: "url https://mcp.internal.example.com/docs/v1/streamable-http/endpoint",
			Accepted: true, CodexUses: "enabled", Message: "MCP server `docs` is on the allow-list"},
		{Policy: model.FieldMCPServers, ConfigKey: "mcp_servers.jira", UserValue: "command jira-mcp", CodexUses: "disabled",
			Message: "MCP server `jira` is not on the allow-list (set by MCP allow-list (frag_02)): Codex disables it"},
	}
}

// retryScenario is "5xx then success": attempt 1 gets a 503 HTML page,
// attempt 2 succeeds.
func retryScenario() ([]doctor.Event, *doctor.Report) {
	a1 := fetch.Attempt{N: 1, Duration: 412 * time.Millisecond, Status: 503, Err: "server error", Class: "http_status",
		ContentType: "text/html", Body: "<html>\n<body>Service   Unavailable</body></html>", Backoff: 410 * time.Millisecond}
	a2 := fetch.Attempt{N: 2, Start: 830 * time.Millisecond, Duration: 95 * time.Millisecond, Status: 200, Class: "ok", ContentType: "application/json"}
	stages := beforeFetchStages()
	fetchStage := doctor.StageResult{ID: doctor.StageFetch, Status: doctor.StatusWarn, Summary: "HTTP 200 after 2 attempts (0.9 s)",
		Hint: "the backend failed once; Codex retried and succeeded", Details: []doctor.Detail{{Key: "URL", Value: bundleURL}}}
	parseStage := doctor.StageResult{ID: doctor.StageParse, Status: doctor.StatusOK, Summary: "2 fragments, 4 fields",
		Details: []doctor.Detail{{Key: "fragments", Value: "Default policy (frag_01), MCP allow-list (frag_02)"}}}
	localStage := doctor.StageResult{ID: doctor.StageLocal, Status: doctor.StatusOK, Summary: "none on this machine: only the cloud sets requirements",
		Details: []doctor.Detail{{Key: "/etc/codex/requirements.toml", Value: "not found"}}}
	configStage := doctor.StageResult{ID: doctor.StageUserConfig, Status: doctor.StatusWarn, Summary: "1 setting disallowed by requirements: Codex falls back",
		Hint:    "change the setting in /home/dev/.codex/config.toml to an allowed value, or ask your admin to allow it",
		Details: []doctor.Detail{{Key: "approval_policy", Value: "✗ `never` is not in the allowed set; Codex uses `on-request`"}}}
	rep := &doctor.Report{
		Protocol: model.ProtocolBundle,
		Outcome:  doctor.OutcomeRequirements,
		ExitCode: doctor.ExitOK,
		Stages:   append(append(stages, fetchStage), parseStage, localStage, configStage),
		Fetch: &fetch.Result{URL: bundleURL, Timeout: 20 * time.Second, Elapsed: 925 * time.Millisecond,
			Attempts: []fetch.Attempt{a1, a2}},
		Requirements: sampleRequirements(),
		PolicyChecks: sampleChecks(),
		Warnings:     []string{"unknown key `allowed_sandbox_mode` in enterprise-managed requirements Default policy (frag_01) is ignored by Codex"},
	}
	var evs []doctor.Event
	for _, s := range stages {
		evs = append(evs, doctor.StageStarted{ID: s.ID}, doctor.StageFinished{Result: s})
	}
	a1Start := a1
	a1Start.Duration, a1Start.Status, a1Start.Err, a1Start.Class, a1Start.ContentType, a1Start.Body, a1Start.Backoff = 0, 0, "", "", "", "", 0
	a2Start := fetch.Attempt{N: 2, Start: a2.Start}
	evs = append(evs,
		doctor.StageStarted{ID: doctor.StageFetch},
		doctor.FetchStarted{URL: bundleURL, Deadline: t0.Add(20 * time.Second), Timeout: 20 * time.Second},
		doctor.FetchProgress{Event: fetch.Event{Kind: fetch.AttemptStarted, Attempt: a1Start}, At: t0},
		doctor.FetchProgress{Event: fetch.Event{Kind: fetch.AttemptFinished, Attempt: a1}, At: t0.Add(412 * time.Millisecond)},
		doctor.FetchProgress{Event: fetch.Event{Kind: fetch.BackoffStarted, Attempt: a1, Wait: a1.Backoff}, At: t0.Add(412 * time.Millisecond)},
		doctor.FetchProgress{Event: fetch.Event{Kind: fetch.AttemptStarted, Attempt: a2Start}, At: t0.Add(830 * time.Millisecond)},
		doctor.FetchProgress{Event: fetch.Event{Kind: fetch.AttemptFinished, Attempt: a2}, At: t0.Add(925 * time.Millisecond)},
		doctor.StageFinished{Result: fetchStage},
		doctor.StageStarted{ID: doctor.StageParse},
		doctor.StageFinished{Result: parseStage},
		doctor.StageStarted{ID: doctor.StageLocal},
		doctor.StageFinished{Result: localStage},
		doctor.StageStarted{ID: doctor.StageUserConfig},
		doctor.StageFinished{Result: configStage},
		doctor.Finished{Report: rep},
	)
	return evs, rep
}

// fakeRun replays events, pausing between them, and returns rep; it stops
// early (returning nil) when ctx ends, as the real pipeline does.
func fakeRun(evs []doctor.Event, rep *doctor.Report, pause time.Duration) RunFunc {
	return func(ctx context.Context, emit func(doctor.Event)) *doctor.Report {
		for _, ev := range evs {
			if pause > 0 {
				select {
				case <-time.After(pause):
				case <-ctx.Done():
					return nil
				}
			}
			emit(ev)
		}
		return rep
	}
}

// fixedClock returns a clock stuck at *at, so tests can move it.
func fixedClock(at *time.Time) func() time.Time { return func() time.Time { return *at } }
