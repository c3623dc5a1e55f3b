package model

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func userConfigFixture(t *testing.T, name string) (UserConfig, *Requirements) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "userconfig", name))
	if err != nil {
		t.Fatal(err)
	}
	uc := ReadUserConfig(dir)
	var req *Requirements
	if b, err := os.ReadFile(filepath.Join(dir, "requirements.toml")); err == nil {
		l, err := ParseRequirements(string(b), CloudRequirementsSource)
		if err != nil {
			t.Fatalf("requirements fixture: %v", err)
		}
		req = Merge(l)
		if err := req.Validate(); err != nil {
			t.Fatalf("requirements fixture: %v", err)
		}
	}
	return uc, req
}

// wantCheck is the part of a PolicyCheck a test pins down.
type wantCheck struct {
	configKey string
	userValue string
	from      string
	accepted  bool
	codexUses string
	message   string // exact
}

func TestReadUserConfigAndCheck(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		values  map[string]string // key → value@from
		ignored []IgnoredKey
		errMsg  string // substring of Err; "" for none
		errLine int
		errCol  int
		checks  []wantCheck
	}{
		{
			name:   "unset",
			values: map[string]string{},
			checks: []wantCheck{
				{configKey: "approval_policy", accepted: true, codexUses: "on-request",
					message: "unset → Codex uses `on-request` (first allowed)"},
				{configKey: "sandbox_mode", accepted: true, codexUses: "read-only",
					message: "unset → Codex uses `read-only` (`workspace-write` in a trusted project)"},
				{configKey: "web_search", accepted: true, codexUses: "live",
					message: "unset → Codex uses `live`"},
			},
		},
		{
			name: "allowed",
			values: map[string]string{
				"approval_policy": "never@config.toml",
				"sandbox_mode":    "workspace-write@config.toml",
				"web_search":      "disabled@config.toml",
			},
			checks: []wantCheck{
				{configKey: "approval_policy", userValue: "never", from: "config.toml", accepted: true, codexUses: "never",
					message: "`approval_policy = never` (config.toml) is allowed"},
				{configKey: "sandbox_mode", userValue: "workspace-write", from: "config.toml", accepted: true, codexUses: "workspace-write",
					message: "`sandbox_mode = workspace-write` (config.toml) is allowed"},
				// disabled is always allowed, though the list names only live.
				{configKey: "web_search", userValue: "disabled", from: "config.toml", accepted: true, codexUses: "disabled",
					message: "`web_search = disabled` (config.toml) is allowed"},
			},
		},
		{
			name: "disallowed",
			values: map[string]string{
				"approval_policy": "never@config.toml",
				"sandbox_mode":    "danger-full-access@config.toml",
				"web_search":      "live@config.toml",
			},
			checks: []wantCheck{
				{configKey: "approval_policy", userValue: "never", from: "config.toml", codexUses: "on-request",
					message: "Configured value for `approval_policy` is disallowed by requirements; falling back to required value OnRequest. " +
						"Details: invalid value for `approval_policy`: `Never` is not in the allowed set [OnRequest, UnlessTrusted] (set by cloud requirements)"},
				{configKey: "codex exec", userValue: "never", from: "codex exec default",
					message: "`codex exec` asks for approval `never`, which is not allowed; it fails with: " +
						"invalid value for `approval_policy`: `Never` is not in the allowed set [OnRequest, UnlessTrusted] (set by cloud requirements)"},
				{configKey: "sandbox_mode", userValue: "danger-full-access", from: "config.toml", codexUses: "read-only",
					message: "Configured value for `sandbox_mode` is disallowed by requirements; falling back to required value ReadOnly. " +
						"Details: invalid value for `sandbox_mode`: `DangerFullAccess` is not in the allowed set [ReadOnly, WorkspaceWrite] (set by cloud requirements)"},
				{configKey: "web_search", userValue: "live", from: "config.toml", codexUses: "cached",
					message: "Configured value for `web_search_mode` is disallowed by requirements; falling back to required value Cached. " +
						"Details: invalid value for `web_search_mode`: `Live` is not in the allowed set [Disabled, Cached] (set by cloud requirements)"},
			},
		},
		{
			name:    "profile_override",
			profile: "work",
			values: map[string]string{
				"approval_policy": "on-request@profile work",
				"sandbox_mode":    "danger-full-access@config.toml",
			},
			checks: []wantCheck{
				{configKey: "approval_policy", userValue: "on-request", from: "profile work", accepted: true, codexUses: "on-request",
					message: "`approval_policy = on-request` (profile work) is allowed"},
				{configKey: "codex exec", userValue: "never", from: "codex exec default",
					message: "`codex exec` asks for approval `never`, which is not allowed; it fails with: " +
						"invalid value for `approval_policy`: `Never` is not in the allowed set [OnRequest] (set by cloud requirements)"},
				{configKey: "sandbox_mode", userValue: "danger-full-access", from: "config.toml", codexUses: "read-only",
					message: "Configured value for `sandbox_mode` is disallowed by requirements; falling back to required value ReadOnly. " +
						"Details: invalid value for `sandbox_mode`: `DangerFullAccess` is not in the allowed set [ReadOnly] (set by cloud requirements)"},
			},
		},
		{
			name:    "ignored_keys",
			profile: "ci",
			values:  map[string]string{},
			ignored: []IgnoredKey{
				{Key: "ask_for_approval", Suggestion: "approval_policy", Line: 2},
				{Key: "sandbox", Suggestion: "sandbox_mode", Line: 3},
				{Key: "allowed_approval_policies", Suggestion: "approval_policy", Line: 4,
					Note: "`allowed_approval_policies` is a requirement: it belongs in requirements.toml or the workspace's managed policies, set by an admin; Codex ignores it in config.toml"},
				{Key: "aproval_policy", Suggestion: "approval_policy", Line: 5},
				{Key: "web_search_mode", Suggestion: "web_search", Line: 6},
				{Key: "enforce_residency", Line: 7,
					Note: "`enforce_residency` is a requirement: it belongs in requirements.toml or the workspace's managed policies, set by an admin; Codex ignores it in config.toml"},
				{Key: "profiles.ci.sandbox_policy", Suggestion: "sandbox_mode", Line: 12},
			},
			checks: []wantCheck{
				{configKey: "approval_policy", accepted: true, codexUses: "on-request",
					message: "unset → Codex uses `on-request` (first allowed)"},
				{configKey: "codex exec", userValue: "never", from: "codex exec default",
					message: "`codex exec` asks for approval `never`, which is not allowed; it fails with: " +
						"invalid value for `approval_policy`: `Never` is not in the allowed set [OnRequest] (set by cloud requirements)"},
			},
		},
		{
			name:    "invalid_toml",
			values:  map[string]string{},
			errMsg:  "invalid TOML: basic strings cannot have new lines",
			errLine: 2, errCol: 25,
		},
		{
			name:    "bad_value",
			values:  map[string]string{"sandbox_mode": "workspace-write@config.toml"},
			errMsg:  "`approval_policy`: unknown variant `sometimes`, expected one of `untrusted`, `on-failure`, `on-request`, `granular`, `never`",
			errLine: 2, errCol: 19,
		},
		{
			name:    "missing_profile",
			profile: "nope",
			values:  map[string]string{"approval_policy": "never@config.toml"},
			errMsg:  "config profile `nope` not found",
			errLine: 2, errCol: 11,
		},
		{
			name: "features",
			values: map[string]string{
				"features.shell_tool":   "true@config.toml",
				"features.unified_exec": "false@config.toml",
			},
			checks: []wantCheck{
				{configKey: "features.shell_tool", userValue: "true", from: "config.toml", codexUses: "false",
					message: "`[features] shell_tool = true` (config.toml) is overridden: requirements (set by cloud requirements) pin it to false"},
				{configKey: "features.unified_exec", userValue: "false", from: "config.toml", accepted: true, codexUses: "false",
					message: "`[features] unified_exec = false` (config.toml) matches the requirement"},
				{configKey: "features.web_search_request", accepted: true, codexUses: "true",
					message: "unset → Codex uses `true` (required)"},
			},
		},
		{
			name: "mcp_servers",
			values: map[string]string{
				"mcp_servers.docs":     "command npx@config.toml",
				"mcp_servers.web":      "url https://mcp.example.com/mcp@config.toml",
				"mcp_servers.rogue":    "command /usr/local/bin/rogue@config.toml",
				"mcp_servers.impostor": "command python3@config.toml",
				"mcp_servers.off":      "command npx@config.toml",
			},
			checks: []wantCheck{
				{configKey: "mcp_servers.docs", userValue: "command npx", from: "config.toml", accepted: true, codexUses: "enabled",
					message: "MCP server `docs` (command npx) is on the allow-list"},
				{configKey: "mcp_servers.impostor", userValue: "command python3", from: "config.toml", codexUses: "disabled",
					message: "MCP server `impostor` is on the allow-list with command /opt/trusted/impostor, but config.toml has command python3: Codex disables it"},
				{configKey: "mcp_servers.off", userValue: "command npx", from: "config.toml", accepted: true, codexUses: "disabled",
					message: "MCP server `off` (command npx) is on the allow-list; it is off in config.toml (enabled = false)"},
				{configKey: "mcp_servers.rogue", userValue: "command /usr/local/bin/rogue", from: "config.toml", codexUses: "disabled",
					message: "MCP server `rogue` is not on the allow-list (set by cloud requirements): Codex disables it"},
				{configKey: "mcp_servers.web", userValue: "url https://mcp.example.com/mcp", from: "config.toml", accepted: true, codexUses: "enabled",
					message: "MCP server `web` (url https://mcp.example.com/mcp) is on the allow-list"},
			},
		},
		{
			name:   "exec_never_allowed",
			values: map[string]string{},
			checks: []wantCheck{
				{configKey: "approval_policy", accepted: true, codexUses: "never",
					message: "unset → Codex uses `never` (first allowed)"},
			},
		},
		{
			name: "web_search_features",
			values: map[string]string{
				"features.web_search_request": "true@config.toml",
				"web_search":                  "live@config.toml [features] web_search_request",
			},
			checks: []wantCheck{
				{configKey: "web_search", userValue: "live", from: "config.toml [features] web_search_request", codexUses: "cached",
					message: "Configured value for `web_search_mode` is disallowed by requirements; falling back to required value Cached. " +
						"Details: invalid value for `web_search_mode`: `Live` is not in the allowed set [Disabled, Cached] (set by cloud requirements)"},
			},
		},
		{
			name:   "granular",
			values: map[string]string{"approval_policy": "never@config.toml"},
			checks: []wantCheck{
				{configKey: "approval_policy", userValue: "never", from: "config.toml", codexUses: "granular",
					message: "Configured value for `approval_policy` is disallowed by requirements; falling back to required value " +
						"Granular(GranularApprovalConfig { sandbox_approval: true, rules: false, skill_approval: false, request_permissions: false, mcp_elicitations: true }). " +
						"Details: invalid value for `approval_policy`: `Never` is not in the allowed set " +
						"[Granular(GranularApprovalConfig { sandbox_approval: true, rules: false, skill_approval: false, request_permissions: false, mcp_elicitations: true }), OnRequest] " +
						"(set by cloud requirements)"},
				{configKey: "codex exec", userValue: "never", from: "codex exec default",
					message: "`codex exec` asks for approval `never`, which is not allowed; it fails with: " +
						"invalid value for `approval_policy`: `Never` is not in the allowed set " +
						"[Granular(GranularApprovalConfig { sandbox_approval: true, rules: false, skill_approval: false, request_permissions: false, mcp_elicitations: true }), OnRequest] " +
						"(set by cloud requirements)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uc, req := userConfigFixture(t, tt.name)
			if !uc.Found {
				t.Fatalf("Found = false for %s", uc.Path)
			}
			if uc.Profile != tt.profile {
				t.Errorf("Profile = %q, want %q", uc.Profile, tt.profile)
			}
			got := map[string]string{}
			for k, v := range uc.Values {
				if v.Key != k {
					t.Errorf("Values[%q].Key = %q", k, v.Key)
				}
				if v.Line <= 0 {
					t.Errorf("Values[%q].Line = %d, want a line", k, v.Line)
				}
				got[k] = v.Value + "@" + v.From
			}
			if !reflect.DeepEqual(got, tt.values) {
				t.Errorf("Values = %v\nwant     %v", got, tt.values)
			}
			if !reflect.DeepEqual(uc.IgnoredKeys, tt.ignored) {
				t.Errorf("IgnoredKeys = %+v\nwant          %+v", uc.IgnoredKeys, tt.ignored)
			}
			switch {
			case tt.errMsg == "" && uc.Err != nil:
				t.Errorf("Err = %v", uc.Err)
			case tt.errMsg != "":
				if uc.Err == nil {
					t.Fatalf("Err = nil, want %q", tt.errMsg)
				}
				if !strings.Contains(uc.Err.Msg, tt.errMsg) || uc.Err.Path != uc.Path {
					t.Errorf("Err = %v, want %q in %s", uc.Err, tt.errMsg, uc.Path)
				}
				if uc.Err.Line != tt.errLine || uc.Err.Column != tt.errCol {
					t.Errorf("Err at %d:%d, want %d:%d", uc.Err.Line, uc.Err.Column, tt.errLine, tt.errCol)
				}
			}
			if req == nil {
				if checks := CheckUserConfig(uc, nil); checks != nil {
					t.Errorf("CheckUserConfig(nil requirements) = %+v", checks)
				}
				return
			}
			checks := CheckUserConfig(uc, req)
			if len(checks) != len(tt.checks) {
				t.Fatalf("got %d checks, want %d: %+v", len(checks), len(tt.checks), checks)
			}
			for i, w := range tt.checks {
				c := checks[i]
				g := wantCheck{c.ConfigKey, c.UserValue, c.From, c.Accepted, c.CodexUses, c.Message}
				if g != w {
					t.Errorf("check %d:\n got %+v\nwant %+v", i, g, w)
				}
				if c.SetBy != CloudRequirementsSource {
					t.Errorf("check %d: SetBy = %q", i, c.SetBy)
				}
				if len(c.Allowed) == 0 && c.ConfigKey != "mcp_servers.rogue" {
					t.Errorf("check %d: no Allowed values", i)
				}
			}
		})
	}
}

func TestReadUserConfigMissing(t *testing.T) {
	dir := t.TempDir()
	uc := ReadUserConfig(dir)
	if uc.Found || uc.Err != nil || len(uc.Values) != 0 {
		t.Errorf("missing config: %+v", uc)
	}
	if uc.Path != filepath.Join(dir, "config.toml") {
		t.Errorf("Path = %q", uc.Path)
	}
	if err := os.Mkdir(filepath.Join(dir, "config.toml"), 0o755); err != nil {
		t.Fatal(err)
	}
	uc = ReadUserConfig(dir)
	if !uc.Found || uc.Err == nil || !strings.Contains(uc.Err.Error(), "cannot read") {
		t.Errorf("directory config: %+v", uc)
	}
}

func TestCheckUserConfigSourceNames(t *testing.T) {
	// Codex names managed preferences its own way in "(set by …)".
	l, err := ParseRequirements(`allowed_approval_policies = ["on-request"]`, MDMRequirementsSource)
	if err != nil {
		t.Fatal(err)
	}
	uc := UserConfig{Values: map[string]UserValue{
		"approval_policy": {Key: "approval_policy", Value: "untrusted", From: "config.toml", Line: 1},
	}}
	checks := CheckUserConfig(uc, Merge(l))
	if len(checks) != 2 {
		t.Fatalf("checks = %+v", checks)
	}
	want := "Configured value for `approval_policy` is disallowed by requirements; falling back to required value OnRequest. " +
		"Details: invalid value for `approval_policy`: `UnlessTrusted` is not in the allowed set [OnRequest] " +
		"(set by MDM com.openai.codex:requirements_toml_base64)"
	if checks[0].Message != want {
		t.Errorf("Message = %q\nwant      %q", checks[0].Message, want)
	}
}

func TestPolicyKeySuggestion(t *testing.T) {
	tests := []struct{ key, suggestion string }{
		{"ask_for_approval", "approval_policy"},
		{"Ask-For-Approval", "approval_policy"},
		{"approval_policies", "approval_policy"},
		{"sandbox_mod", "sandbox_mode"},
		{"web_serach", "web_search"},
		{"allowed_sandbox_modes", "sandbox_mode"},
		{"allowed_web_search_modes", "web_search"},
		// Real config keys and unrelated ones are left alone.
		{"approval_policy", ""},
		{"sandbox_workspace_write", ""},
		{"approvals_reviewer", ""},
		{"model", ""},
		{"tools", ""},
		{"notify", ""},
		{"history", ""},
	}
	for _, tt := range tests {
		if got, _ := policyKeySuggestion(tt.key); got != tt.suggestion {
			t.Errorf("policyKeySuggestion(%q) = %q, want %q", tt.key, got, tt.suggestion)
		}
	}
}

func TestReadUserConfigOddShapes(t *testing.T) {
	tests := []struct {
		name, contents, errMsg string
	}{
		{"empty", "", ""},
		{"features not a table", "features = 3\n", "`features`: invalid type: integer `3`, expected a table of feature = true|false"},
		{"feature not a bool", "[features]\nx = \"yes\"\n", "`features.x`: invalid type: string \"yes\", expected a boolean"},
		{"servers not a table", "mcp_servers = []\n", "`mcp_servers`: invalid type: sequence"},
		{"server not a table", "[mcp_servers]\nx = 1\n", "`mcp_servers.x`: invalid type: integer `1`, expected a table"},
		{"server without identity", "[mcp_servers.x]\nargs = []\n", "`mcp_servers.x`: needs command"},
		{"server command not a string", "[mcp_servers.x]\ncommand = 1\n", "`mcp_servers.x.command`: invalid type"},
		{"profile not a string", "profile = 5\n", "`profile`: invalid type: integer `5`, expected a string"},
		{"profiles not a table", "profile = \"p\"\nprofiles = 3\n", "config profile `p` not found"},
		{"approval policy table", "approval_policy = { always = true }\n", "`approval_policy.always`: unknown variant `always`"},
		{"sandbox external", "sandbox_mode = \"external-sandbox\"\n", "`sandbox_mode`: unknown variant `external-sandbox`"},
		{"first error by line wins", "approval_policy = 1\nsandbox_mode = 2\n[features]\nx = 1\n", "`approval_policy`: invalid type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(tt.contents), 0o644); err != nil {
				t.Fatal(err)
			}
			uc := ReadUserConfig(dir)
			if tt.errMsg == "" {
				if uc.Err != nil {
					t.Errorf("Err = %v", uc.Err)
				}
				return
			}
			if uc.Err == nil || !strings.Contains(uc.Err.Msg, tt.errMsg) {
				t.Fatalf("Err = %v, want %q", uc.Err, tt.errMsg)
			}
			if uc.Err.Line == 0 {
				t.Errorf("Err has no line: %v", uc.Err)
			}
			// Whatever the shape, checking never panics.
			l, err := ParseRequirements("allowed_approval_policies = [\"on-request\"]\n[mcp_servers.x]\nidentity = { command = \"a\" }\n[features]\nx = true\n", CloudRequirementsSource)
			if err != nil {
				t.Fatal(err)
			}
			CheckUserConfig(uc, Merge(l))
		})
	}
}
