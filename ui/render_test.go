package ui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

func TestRenderStage(t *testing.T) {
	tests := []struct {
		name  string
		r     doctor.StageResult
		width int
		want  string
	}{
		{
			name: "ok with details, hint not shown",
			r: doctor.StageResult{ID: doctor.StageAuth, Status: doctor.StatusOK, Summary: "ChatGPT login from auth.json",
				Hint: "should not appear", Details: []doctor.Detail{{Key: "email", Value: "dev@example.com"}}},
			width: 80,
			want: "✓ ok      auth         ChatGPT login from auth.json\n" +
				"    email: dev@example.com",
		},
		{
			name:  "warn with hint",
			r:     doctor.StageResult{ID: doctor.StageCache, Status: doctor.StatusWarn, Summary: "cache expired", Hint: "nothing to do"},
			width: 80,
			want: "! warn    cache        cache expired\n" +
				"    → nothing to do",
		},
		{
			name:  "fail with hint",
			r:     doctor.StageResult{ID: doctor.StageFetch, Status: doctor.StatusFail, Summary: "HTTP 503 after 5 attempts", Hint: "ask your admin"},
			width: 80,
			want: "✗ fail    fetch        HTTP 503 after 5 attempts\n" +
				"    → ask your admin",
		},
		{
			name:  "skipped",
			r:     doctor.StageResult{ID: doctor.StageParse, Status: doctor.StatusSkipped, Summary: "no response to parse"},
			width: 80,
			want:  "- skipped parse        no response to parse",
		},
		{
			name: "wrapped summary, detail and hint at 40 columns",
			r: doctor.StageResult{ID: doctor.StagePlan, Status: doctor.StatusWarn,
				Summary: "plan team is not eligible for cloud requirements",
				Details: []doctor.Detail{{Key: "plan", Value: "team (from the id_token claim chatgpt_plan_type)"}},
				Hint:    "ask your workspace admin which plan the workspace is on"},
			width: 40,
			want: "! warn    plan         plan team is not\n" +
				"      eligible for cloud requirements\n" +
				"    plan: team (from the id_token claim\n" +
				"          chatgpt_plan_type)\n" +
				"    → ask your workspace admin which\n" +
				"      plan the workspace is on",
		},
		{
			name:  "escape sequences from outside are removed",
			r:     doctor.StageResult{ID: doctor.StageFetch, Status: doctor.StatusFail, Summary: "body \x1b[31mred\x1b[0m"},
			width: 0,
			want:  "✗ fail    fetch        body \\x1b[31mred\\x1b[0m",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RenderStage(tt.r, tt.width, PlainStyles())
			if got != tt.want {
				t.Errorf("RenderStage:\n%s\nwant:\n%s", got, tt.want)
			}
			// The coloured rendering says the same once escapes are removed,
			// and its lines fit the same width: width math is ANSI-aware.
			styled := RenderStage(tt.r, tt.width, DefaultStyles())
			if !strings.Contains(styled, "\x1b[") {
				t.Errorf("DefaultStyles rendering has no escape codes: %q", styled)
			}
			if plain := ansi.Strip(styled); plain != tt.want {
				t.Errorf("styled rendering, stripped:\n%s\nwant:\n%s", plain, tt.want)
			}
			if tt.width > 0 {
				for _, l := range strings.Split(styled, "\n") {
					if w := ansi.StringWidth(l); w > tt.width {
						t.Errorf("line %q is %d columns wide, more than %d", ansi.Strip(l), w, tt.width)
					}
				}
			}
		})
	}
}

func TestRenderAttempt(t *testing.T) {
	tests := []struct {
		name string
		a    fetch.Attempt
		want string
	}{
		{
			name: "server error with backoff",
			a: fetch.Attempt{N: 2, Duration: 412 * time.Millisecond, Status: 503, Err: "server error", Class: "http_status",
				ContentType: "text/html", Body: "<h1>Service\n  Unavailable</h1>", Backoff: 410 * time.Millisecond},
			want: "#2  503  412 ms  server error · text/html · body: <h1>Service Unavailable</h1>\n" +
				"waiting 0.41 s before attempt 3",
		},
		{
			name: "success",
			a:    fetch.Attempt{N: 1, Duration: 35 * time.Millisecond, Status: 200, Class: "ok", ContentType: "application/json"},
			want: "#1  200  35 ms  ok · application/json",
		},
		{
			name: "transport error, no status, slow",
			a:    fetch.Attempt{N: 5, Duration: 12340 * time.Millisecond, Err: "connection refused", Class: "transport"},
			want: "#5  ---  12.3 s  connection refused",
		},
		{
			name: "long body is cut",
			a:    fetch.Attempt{N: 1, Duration: time.Millisecond, Status: 502, Class: "http_status", Body: strings.Repeat("x", 300)},
			want: "#1  502  1 ms  http_status · body: " + strings.Repeat("x", bodyExcerpt-1) + "…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenderAttempt(tt.a); got != tt.want {
				t.Errorf("RenderAttempt:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name string
		rep  *doctor.Report
		want string
		good bool
	}{
		{"requirements", &doctor.Report{Outcome: doctor.OutcomeRequirements}, "Codex would start with workspace policies (exit 0)", true},
		{"none", &doctor.Report{Outcome: doctor.OutcomeNone}, "Codex would start with no workspace policies (exit 0)", true},
		{"not applicable", &doctor.Report{Outcome: doctor.OutcomeNotApplicable}, "Codex would start; workspace policies do not apply (exit 0)", true},
		{"request failed", &doctor.Report{Outcome: doctor.OutcomeError, ExitCode: doctor.ExitRefuse,
			Err: &fetch.Error{Code: fetch.CodeRequestFailed, Message: "Failed to load cloud requirements (workspace-managed policies).", StatusCode: 503}},
			"Codex would refuse to start: RequestFailed — Failed to load cloud requirements (workspace-managed policies). (HTTP 503) (exit 1)", false},
		{"timeout", &doctor.Report{Outcome: doctor.OutcomeError, ExitCode: doctor.ExitTimeout, Fetch: &fetch.Result{Timeout: 20 * time.Second},
			Err: &fetch.Error{Code: fetch.CodeTimeout, Message: "timed out waiting for cloud config bundle after 20s"}},
			"Codex would refuse to start: timed out after 20s (exit 124)", false},
		{"auth", &doctor.Report{Outcome: doctor.OutcomeError, ExitCode: doctor.ExitCredentials,
			Err: &fetch.Error{Code: fetch.CodeAuth, Message: "Your authentication session could not be refreshed automatically. Please log out and sign in again."}},
			"Codex would refuse to start: Auth — Your authentication session could not be refreshed automatically. Please log out and sign in again. (exit 4)", false},
		{"credentials missing", &doctor.Report{Outcome: doctor.OutcomeError, ExitCode: doctor.ExitCredentials},
			"credentials missing, unreadable or rejected (exit 4)", false},
		{"failed stage without error", &doctor.Report{Outcome: doctor.OutcomeError, ExitCode: doctor.ExitRefuse,
			Stages: []doctor.StageResult{{ID: doctor.StageParse, Status: doctor.StatusFail, Summary: "invalid TOML at line 3"}}},
			"Codex would refuse to start: parse: invalid TOML at line 3 (exit 1)", false},
		{"interrupted", &doctor.Report{ExitCode: doctor.ExitInterrupted}, "interrupted before a verdict (exit 130)", false},
		{"nil", nil, "no result: the diagnosis did not finish", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, good := Verdict(tt.rep)
			if got != tt.want || good != tt.good {
				t.Errorf("Verdict = %q, %v; want %q, %v", got, good, tt.want, tt.good)
			}
			sum := RenderSummary(tt.rep, PlainStyles())
			if first := strings.Split(sum, "\n")[0]; !strings.HasSuffix(first, tt.want) {
				t.Errorf("RenderSummary first line %q does not end with the verdict", first)
			}
			glyph := "✗ "
			if tt.good {
				glyph = "✓ "
			} else if tt.rep != nil && tt.rep.ExitCode == doctor.ExitInterrupted {
				glyph = "- "
			}
			if !strings.HasPrefix(sum, glyph) {
				t.Errorf("RenderSummary %q does not start with %q", sum, glyph)
			}
		})
	}
}

func TestRenderSummaryWarnings(t *testing.T) {
	rep := &doctor.Report{Outcome: doctor.OutcomeRequirements, Warnings: []string{"unknown key `a`", "unknown key `b`"}}
	want := "✓ Codex would start with workspace policies (exit 0)\n2 warning(s):\n  ! unknown key `a`\n  ! unknown key `b`"
	if got := RenderSummary(rep, PlainStyles()); got != want {
		t.Errorf("RenderSummary:\n%s\nwant:\n%s", got, want)
	}
}

// tableRows are policy rows with short and long values, a note and a
// multi-line value.
func tableRows() []model.PolicyRow {
	src := "enterprise-managed requirements Default policy (frag_01)"
	return []model.PolicyRow{
		{Field: "allowed_approval_policies", Value: "on-request, untrusted", SetBy: src},
		{Field: "allowed_sandbox_modes", Value: "read-only, workspace-write", SetBy: src},
		{Field: "mcp_servers", Value: "docs (url https://mcp.internal.example.com/docs/v1/streamable-http/endpoint), github (command github-mcp-server --read-only)", SetBy: "enterprise-managed requirements MCP allow-list (frag_02)"},
		{Field: "allowed_login_methods", Value: "chatgpt", SetBy: src, Note: "not interpreted by reqdoctor"},
		{Field: "rules", Value: "prefix_rules:\nrm -rf → forbidden\ngit push --force → forbidden", SetBy: "cloud requirements"},
	}
}

func TestRenderPolicies(t *testing.T) {
	for _, width := range []int{80, 120} {
		t.Run("w"+strconv.Itoa(width), func(t *testing.T) {
			out := RenderPolicies(tableRows(), nil, width, PlainStyles())
			for _, l := range strings.Split(out, "\n") {
				if w := ansi.StringWidth(l); w > width {
					t.Errorf("line %q is %d columns, more than %d", l, w, width)
				}
			}
			for _, want := range []string{"allowed_approval_policies", "reqdoctor)", "| rules", "+---"} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q", want)
				}
			}
			if strings.ContainsRune(out, 0x1b) {
				t.Error("plain table contains an escape byte")
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
	if got := RenderPolicies(nil, nil, 80, PlainStyles()); got != "" {
		t.Errorf("RenderPolicies(nil) = %q, want empty", got)
	}
	if out := RenderPolicies(tableRows(), nil, 80, DefaultStyles()); !strings.Contains(out, "╭") {
		t.Errorf("styled table should use rounded borders:\n%s", out)
	}
}

func TestStageTitle(t *testing.T) {
	tests := []struct {
		id   doctor.StageID
		want string
	}{
		{doctor.StageEnvironment, "environment"},
		{doctor.StageFetch, "fetch"},
		{doctor.StageLocal, "local files"},
		{doctor.StageUserConfig, "your config"},
		{"", "stage"},
	}
	for _, tt := range tests {
		if got := StageTitle(tt.id); got != tt.want {
			t.Errorf("StageTitle(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
	// Every title fits the title column, so summaries line up.
	for _, id := range doctor.AllStages() {
		if w := ansi.StringWidth(StageTitle(id)); w > titleWidth {
			t.Errorf("StageTitle(%q) is %d wide, the column %d", id, w, titleWidth)
		}
		line := RenderStage(doctor.StageResult{ID: id, Status: doctor.StatusOK, Summary: "S"}, 80, PlainStyles())
		if want := 2 + wordWidth + 1 + titleWidth + 2; strings.Index(line, "S") != len("✓")-1+want {
			t.Errorf("stage %q: summary not in the summary column: %q", id, line)
		}
	}
}

func TestConfigCell(t *testing.T) {
	approval := model.PolicyRow{Field: model.FieldApprovalPolicies}
	features := model.PolicyRow{Field: model.FieldFeatures}
	mcp := model.PolicyRow{Field: model.FieldMCPServers}
	tests := []struct {
		name   string
		row    model.PolicyRow
		checks []model.PolicyCheck
		want   string
	}{
		{"set and allowed", approval, []model.PolicyCheck{{Policy: model.FieldApprovalPolicies, ConfigKey: "approval_policy", UserValue: "never", Accepted: true, CodexUses: "never"}}, "never ✓"},
		{"unset", approval, []model.PolicyCheck{{Policy: model.FieldApprovalPolicies, ConfigKey: "approval_policy", Accepted: true, CodexUses: "on-request"}}, "unset → on-request"},
		{"disallowed", approval, []model.PolicyCheck{{Policy: model.FieldApprovalPolicies, ConfigKey: "approval_policy", UserValue: "never", CodexUses: "on-request"}}, "never ✗ → on-request"},
		{"codex exec note has no cell", approval, []model.PolicyCheck{{Policy: model.FieldApprovalPolicies, ConfigKey: "codex exec", UserValue: "never", Message: "`codex exec` asks for `never`"}}, ""},
		{"other field's check", approval, []model.PolicyCheck{{Policy: model.FieldSandboxModes, ConfigKey: "sandbox_mode", Accepted: true, CodexUses: "read-only"}}, ""},
		{"prefix must end at a dot", model.PolicyRow{Field: "allowed"}, []model.PolicyCheck{{Policy: model.FieldApprovalPolicies, ConfigKey: "approval_policy", Accepted: true, CodexUses: "on-request"}}, ""},
		{"features, several joined", features, []model.PolicyCheck{
			{Policy: "features.apps", ConfigKey: "features.apps", UserValue: "true", Accepted: true, CodexUses: "true"},
			{Policy: "features.web_search_request", ConfigKey: "features.web_search_request", UserValue: "true", CodexUses: "false"},
			{Policy: "features.shell_tool", ConfigKey: "features.shell_tool", Accepted: true, CodexUses: "true"},
		}, "apps = true ✓, web_search_request = true ✗ → false, shell_tool unset → true"},
		{"mcp servers by name, identity left out", mcp, []model.PolicyCheck{
			{Policy: model.FieldMCPServers, ConfigKey: "mcp_servers.docs", UserValue: "command docs-mcp --long", Accepted: true, CodexUses: "enabled"},
			{Policy: model.FieldMCPServers, ConfigKey: "mcp_servers.off", UserValue: "command off", Accepted: true, CodexUses: "disabled"},
			{Policy: model.FieldMCPServers, ConfigKey: "mcp_servers.jira", UserValue: "command jira", CodexUses: "disabled"},
		}, "docs ✓, off ✓ → disabled, jira ✗ → disabled"},
		{"no CodexUses: gist of the message", mcp, []model.PolicyCheck{
			{Policy: model.FieldMCPServers, ConfigKey: "mcp_servers.jira", UserValue: "command jira",
				Message: "MCP server `jira` is not on the allow-list (set by X): Codex disables it"},
		}, "jira ✗ MCP server jira is not…"},
		{"escapes removed", approval, []model.PolicyCheck{{Policy: model.FieldApprovalPolicies, ConfigKey: "approval_policy", UserValue: "\x1b[31mnever", CodexUses: "on-request"}}, `\x1b[31mnever ✗ → on-request`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := configCell(tt.row, tt.checks); got != tt.want {
				t.Errorf("configCell = %q, want %q", got, tt.want)
			}
		})
	}
	cells, shown := configColumn(tableRows(), sampleChecks())
	if !shown || len(cells) != len(tableRows()) || cells[0] != "never ✗ → on-request" || cells[3] != "" {
		t.Errorf("configColumn = %q, %v", cells, shown)
	}
	if _, shown := configColumn(tableRows(), sampleChecks()[1:2]); shown {
		t.Error("the codex exec note alone must not add the column")
	}
}

func TestRenderPoliciesConfig(t *testing.T) {
	for _, width := range []int{80, 120} {
		t.Run("w"+strconv.Itoa(width), func(t *testing.T) {
			out := RenderPolicies(tableRows(), sampleChecks(), width, PlainStyles())
			for _, l := range strings.Split(out, "\n") {
				if w := ansi.StringWidth(l); w > width {
					t.Errorf("line %q is %d columns, more than %d", l, w, width)
				}
			}
			header := strings.Split(out, "\n")[1]
			if !strings.Contains(header, "| your config") || strings.Count(header, "|") != 5 {
				t.Errorf("header lacks a 4th column: %q", header)
			}
			for _, want := range []string{"never ✗", "unset →", "docs ✓", "jira", "disabled"} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
	for name, checks := range map[string][]model.PolicyCheck{"no checks": nil, "only the exec note": sampleChecks()[1:2]} {
		out := RenderPolicies(tableRows(), checks, 80, PlainStyles())
		if strings.Contains(out, "your config") || strings.Count(strings.Split(out, "\n")[1], "|") != 4 {
			t.Errorf("%s: want the 3-column table:\n%s", name, out)
		}
	}
}
