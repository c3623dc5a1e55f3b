package model

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const testSource = "enterprise-managed requirements Security (frag_1)"

func readRequirementsFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "requirements", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseFixture(t *testing.T, name string) *Layer {
	t.Helper()
	l, err := ParseRequirements(readRequirementsFixture(t, name), testSource)
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", name, err)
	}
	return l
}

func TestParseRequirementsNoRequirements(t *testing.T) {
	tests := []struct {
		file    string
		unknown []string
	}{
		{"empty.toml", nil},
		{"whitespace.toml", nil},
		{"comments.toml", nil},
		{"unknown_only.toml", []string{"allowed_aproval_policies", "sandbox_mode", "team"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			l := parseFixture(t, tt.file)
			if l.Source != testSource {
				t.Errorf("Source = %q", l.Source)
			}
			if len(l.Fields) != 0 || len(l.Order) != 0 {
				t.Errorf("Fields = %v, Order = %v; want none", l.Fields, l.Order)
			}
			if !reflect.DeepEqual(l.Unknown, tt.unknown) {
				t.Errorf("Unknown = %q, want %q", l.Unknown, tt.unknown)
			}
			r := Merge(l)
			if !r.Empty() {
				t.Errorf("Empty() = false, want true")
			}
			if err := r.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestParseRequirementsFull(t *testing.T) {
	l := parseFixture(t, "full.toml")
	wantOrder := []string{
		"allowed_approval_policies", "allowed_sandbox_modes", "allowed_web_search_modes",
		"enforce_residency", "allowed_login_methods", "features", "mcp_servers", "apps",
		"rules", "permissions", "hooks",
	}
	if !reflect.DeepEqual(l.Order, wantOrder) {
		t.Errorf("Order = %q\nwant    %q", l.Order, wantOrder)
	}
	if want := []string{"created"}; !reflect.DeepEqual(l.Unknown, want) {
		t.Errorf("Unknown = %q, want %q", l.Unknown, want)
	}
	if want := []string{"allowed_login_methods", "hooks"}; !reflect.DeepEqual(l.NotInterpreted, want) {
		t.Errorf("NotInterpreted = %q, want %q", l.NotInterpreted, want)
	}
	if _, ok := l.Fields["created"]; ok {
		t.Errorf("unknown key kept in Fields")
	}
	if got := l.Fields["hooks"].(map[string]any)["since"]; got != "2026-01-02T03:04:05Z" {
		t.Errorf("datetime = %#v, want RFC 3339 string", got)
	}
	r := Merge(l)
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	got, err := json.Marshal(r.JSON())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"allowed_approval_policies":["untrusted","on-request",{"granular":{"rules":false,"sandbox_approval":true}}],` +
		`"allowed_login_methods":["chatgpt"],"allowed_sandbox_modes":["read-only","workspace-write"],` +
		`"allowed_web_search_modes":["cached"],` +
		`"apps":{"github":{"tools":{"create_issue":{"approval_mode":"prompt"}}},"slack":{"enabled":false}},` +
		`"enforce_residency":"us","features":{"unified_exec":false,"web_search_request":true},` +
		`"hooks":{"allow":true,"since":"2026-01-02T03:04:05Z"},` +
		`"mcp_servers":{"docs":{"identity":{"command":"docs-mcp"}},"remote":{"identity":{"url":"https://mcp.example.com/sse"}}},` +
		`"permissions":{"filesystem":{"deny_read":["~/.ssh/**","/etc/secrets"]}},` +
		`"rules":{"prefix_rules":[{"decision":"forbidden","justification":"no recursive deletes","pattern":[{"token":"rm"},{"any_of":["-rf","-fr"]}]},` +
		`{"decision":"prompt","pattern":[{"token":"git"},{"token":"push"}]}]}}`
	if string(got) != want {
		t.Errorf("JSON() =\n%s\nwant\n%s", got, want)
	}
}

func TestParseRequirementsErrors(t *testing.T) {
	tests := []struct {
		file      string
		line, col int
		field     string
		value     string
		msg       string
	}{
		// Invalid TOML: go-toml's message and position.
		{"invalid_unclosed_array.toml", 2, 43, "", "", "array is incomplete"},
		{"invalid_bad_value.toml", 2, 21, "", "", "unexpected character U+0075 'u' at start of value"},
		{"invalid_unterminated_string.toml", 3, 10, "", "", "basic strings cannot have new lines"},
		{"invalid_crlf.toml", 2, 10, "", "", "expected ']' to close table name"},
		{"duplicate_key.toml", 3, 1, "", "", "key allowed_sandbox_modes is already defined"},
		{"duplicate_table.toml", 4, 2, "", "", "table docs already exists"},
		{"alias_duplicate.toml", 2, 24, "feature_requirements", "", "duplicate field `features`"},
		// Wrong types.
		{"type_approval_string.toml", 1, 29, "allowed_approval_policies", "on-request",
			"invalid type: string \"on-request\", expected a sequence"},
		{"type_sandbox_integer.toml", 3, 3, "allowed_sandbox_modes[1]", "3",
			"invalid type: integer `3`, expected a string"},
		{"type_web_search_table.toml", 1, 2, "allowed_web_search_modes", "{live=true}",
			"invalid type: map, expected a sequence"},
		{"type_features_string.toml", 3, 16, "features.unified_exec", "yes",
			"invalid type: string \"yes\", expected a boolean"},
		{"alias_wrong_type.toml", 1, 47, "feature_requirements.web_search_request", "off",
			"invalid type: string \"off\", expected a boolean"},
		{"type_mcp_array.toml", 1, 15, "mcp_servers", "[docs]",
			"invalid type: sequence, expected a map"},
		{"type_apps_enabled.toml", 2, 11, "apps.slack.enabled", "no",
			"invalid type: string \"no\", expected a boolean"},
		{"type_apps_approval_mode.toml", 2, 17, "apps.github.tools.create_issue.approval_mode", "1",
			"invalid type: integer `1`, expected a string"},
		{"type_rules_decision.toml", 7, 12, "rules.prefix_rules[1].decision", "false",
			"invalid type: boolean `false`, expected a string"},
		{"type_rules_token.toml", 1, 69, "rules.prefix_rules[0].pattern[1].token", "7",
			"invalid type: integer `7`, expected a string"},
		{"type_rules_missing_prefix_rules.toml", 1, 2, "rules", "", "missing field `prefix_rules`"},
		{"type_rules_missing_pattern.toml", 1, 9, "rules.prefix_rules[0]", "", "missing field `pattern`"},
		{"type_residency_bool.toml", 1, 21, "enforce_residency", "true",
			"invalid type: boolean `true`, expected a string"},
		{"type_deny_read_string.toml", 1, 36, "permissions.filesystem.deny_read", "~/.ssh",
			"invalid type: string \"~/.ssh\", expected a sequence"},
		{"type_granular_string.toml", 1, 52, "allowed_approval_policies[1].granular", "all",
			"invalid type: string \"all\", expected struct GranularApprovalConfig (a table)"},
		{"type_datetime.toml", 1, 29, "allowed_web_search_modes[0]", "1979-05-27",
			"invalid type: datetime `1979-05-27`, expected a string"},
		// Values outside an enum.
		{"enum_approval.toml", 1, 44, "allowed_approval_policies[1]", "bogus",
			"unknown variant `bogus`, expected one of `untrusted`, `on-failure`, `on-request`, `granular`, `never`"},
		{"enum_approval_table.toml", 1, 41, "allowed_approval_policies[0].strict", "{strict={}}",
			"unknown variant `strict`, expected one of `untrusted`, `on-failure`, `on-request`, `granular`, `never`"},
		{"enum_sandbox.toml", 1, 39, "allowed_sandbox_modes[1]", "full-access",
			"unknown variant `full-access`, expected one of `read-only`, `workspace-write`, `danger-full-access`, `external-sandbox`"},
		{"enum_web_search.toml", 2, 43, "allowed_web_search_modes[1]", "always",
			"unknown variant `always`, expected one of `disabled`, `cached`, `live`"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			l, err := ParseRequirements(readRequirementsFixture(t, tt.file), testSource)
			if err == nil {
				t.Fatalf("no error; layer %+v", l)
			}
			if l != nil {
				t.Errorf("layer = %+v, want nil with an error", l)
			}
			var re *RequirementsError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v is not a *RequirementsError", err, err)
			}
			if re.Source != testSource {
				t.Errorf("Source = %q", re.Source)
			}
			if re.Line != tt.line || re.Column != tt.col {
				t.Errorf("position = %d:%d, want %d:%d", re.Line, re.Column, tt.line, tt.col)
			}
			if re.Field != tt.field {
				t.Errorf("Field = %q, want %q", re.Field, tt.field)
			}
			if re.Value != tt.value {
				t.Errorf("Value = %q, want %q", re.Value, tt.value)
			}
			if re.Msg != tt.msg {
				t.Errorf("Msg = %q\nwant  %q", re.Msg, tt.msg)
			}
		})
	}
}

// TestRequirementsErrorString checks that the rendered error carries every
// part a reader needs; the exact layout belongs to RequirementsError.Error.
func TestRequirementsErrorString(t *testing.T) {
	for _, f := range []string{"enum_sandbox.toml", "duplicate_key.toml"} {
		_, err := ParseRequirements(readRequirementsFixture(t, f), CloudRequirementsSource)
		var re *RequirementsError
		if !errors.As(err, &re) {
			t.Fatalf("%s: error = %v", f, err)
		}
		s := err.Error()
		for _, part := range []string{CloudRequirementsSource, re.Msg, re.Field, strconv.Itoa(re.Line), strconv.Itoa(re.Column)} {
			if !strings.Contains(s, part) {
				t.Errorf("%s: Error() = %q lacks %q", f, s, part)
			}
		}
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		file  string
		field string // "" = valid
		value string
		msg   string
	}{
		{"rule_sandbox_no_read_only.toml", "allowed_sandbox_modes", "[workspace-write, danger-full-access]",
			"invalid value `[WorkspaceWrite, DangerFullAccess]`: must include 'read-only' to allow any SandboxPolicy"},
		{"rule_sandbox_empty.toml", "allowed_sandbox_modes", "[]",
			"invalid value `[]`: must include 'read-only' to allow any SandboxPolicy"},
		{"rule_approval_empty.toml", "allowed_approval_policies", "[]", "cannot be empty"},
		{"rule_web_search_empty.toml", "", "", ""},
		{"rule_residency.toml", "enforce_residency", "eu", "unknown variant `eu`, expected `us`"},
		{"rule_mcp_missing_identity.toml", "mcp_servers.docs", "{command=docs-mcp}",
			"missing field `identity` (write identity = { command = \"…\" } or { url = \"…\" })"},
		{"rule_mcp_neither.toml", "mcp_servers.docs.identity", "{name=docs}",
			"data did not match any variant of untagged enum McpServerIdentity: need command = \"…\" or url = \"…\" (a string)"},
		{"rule_mcp_command_not_string.toml", "mcp_servers.docs.identity", "{command=[docs-mcp, --stdio]}",
			"data did not match any variant of untagged enum McpServerIdentity: need command = \"…\" or url = \"…\" (a string)"},
		{"rule_mcp_identity_string.toml", "mcp_servers.docs.identity", "docs-mcp",
			"invalid type: string \"docs-mcp\", expected { command = \"…\" } or { url = \"…\" }"},
		{"rule_mcp_server_not_table.toml", "mcp_servers.docs", "docs-mcp",
			"invalid type: string \"docs-mcp\", expected a table with identity = { command = \"…\" } or { url = \"…\" }"},
		{"rule_mcp_both.toml", "", "", ""},
		{"full.toml", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := Merge(parseFixture(t, tt.file))
			err := r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var re *RequirementsError
			if !errors.As(err, &re) {
				t.Fatalf("Validate() = %v (%T), want *RequirementsError", err, err)
			}
			if re.Source != testSource || re.Line != 0 || re.Column != 0 {
				t.Errorf("Source/Line/Column = %q %d:%d", re.Source, re.Line, re.Column)
			}
			if re.Field != tt.field || re.Value != tt.value || re.Msg != tt.msg {
				t.Errorf("got Field=%q Value=%q Msg=%q\nwant Field=%q Value=%q Msg=%q",
					re.Field, re.Value, re.Msg, tt.field, tt.value, tt.msg)
			}
		})
	}
}

func TestMCPBothIdentityWarns(t *testing.T) {
	r := Merge(parseFixture(t, "rule_mcp_both.toml"))
	want := []string{"mcp_servers.docs.identity (set by " + testSource +
		") has both `command` and `url`; Codex matches on `command` only"}
	if !reflect.DeepEqual(r.Warnings, want) {
		t.Errorf("Warnings = %q\nwant %q", r.Warnings, want)
	}
}

func TestAliasFeatureRequirements(t *testing.T) {
	l := parseFixture(t, "alias_feature_requirements.toml")
	if want := []string{"features"}; !reflect.DeepEqual(l.Order, want) {
		t.Errorf("Order = %q, want %q", l.Order, want)
	}
	if want := map[string]any{"web_search_request": false}; !reflect.DeepEqual(l.Fields["features"], want) {
		t.Errorf("features = %#v", l.Fields["features"])
	}
	if l.Aliases["features"] != "feature_requirements" {
		t.Errorf("Aliases = %v", l.Aliases)
	}
	if _, ok := l.Fields["feature_requirements"]; ok || len(l.Unknown) != 0 {
		t.Errorf("alias stored as written or unknown: %v %v", l.Fields, l.Unknown)
	}
	rows := Merge(l).Rows()
	want := []PolicyRow{{Field: "features", Value: "web_search_request=off", SetBy: testSource,
		Note: "written as `feature_requirements`"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("Rows() = %+v\nwant %+v", rows, want)
	}
}

func TestMergeFirstWins(t *testing.T) {
	sources := []string{
		FragmentSource(Fragment{ID: "frag_1", Name: "Baseline"}),
		FragmentSource(Fragment{ID: "frag_2", Name: "Security"}),
		CloudRequirementsSource,
	}
	var layers []*Layer
	for i, f := range []string{"merge_1.toml", "merge_2.toml", "merge_3.toml"} {
		l, err := ParseRequirements(readRequirementsFixture(t, f), sources[i])
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	r := Merge(layers[0], nil, layers[1], layers[2])

	wantOrder := []string{"allowed_approval_policies", "allowed_sandbox_modes", "hooks",
		"enforce_residency", "features", "mcp_servers"}
	if !reflect.DeepEqual(r.Order, wantOrder) {
		t.Errorf("Order = %q\nwant    %q", r.Order, wantOrder)
	}
	wantSources := map[string]string{
		"allowed_approval_policies": sources[0],
		"allowed_sandbox_modes":     sources[0],
		"hooks":                     sources[0],
		"enforce_residency":         sources[1],
		"features":                  sources[1],
		"mcp_servers":               sources[2],
	}
	if !reflect.DeepEqual(r.Sources, wantSources) {
		t.Errorf("Sources = %v\nwant %v", r.Sources, wantSources)
	}
	wantShadowed := map[string][]string{
		"allowed_sandbox_modes": {sources[1]},
		"enforce_residency":     {sources[2]},
		"features":              {sources[2]},
	}
	if !reflect.DeepEqual(r.Shadowed, wantShadowed) {
		t.Errorf("Shadowed = %v\nwant %v", r.Shadowed, wantShadowed)
	}
	// Whole fields win: no deep merge of features, sandbox from layer 1 only.
	if want := map[string]any{"x": true}; !reflect.DeepEqual(r.Fields["features"], want) {
		t.Errorf("features = %v, want %v", r.Fields["features"], want)
	}
	if want := []any{"workspace-write"}; !reflect.DeepEqual(r.Fields["allowed_sandbox_modes"], want) {
		t.Errorf("allowed_sandbox_modes = %v, want %v", r.Fields["allowed_sandbox_modes"], want)
	}
	if r.Fields["enforce_residency"] != "us" {
		t.Errorf("enforce_residency = %v", r.Fields["enforce_residency"])
	}
	wantWarnings := []string{
		"`hooks` (set by enterprise-managed requirements Baseline (frag_1)) is a newer Codex field that reqdoctor shows but does not check",
		"unknown key `allowed_aproval_policies` in enterprise-managed requirements Security (frag_2) is ignored by Codex — did you mean `allowed_approval_policies`?",
	}
	if !reflect.DeepEqual(r.Warnings, wantWarnings) {
		t.Errorf("Warnings = %q\nwant %q", r.Warnings, wantWarnings)
	}
	if r.Empty() {
		t.Error("Empty() = true")
	}
	// The rule fails on the winning value and names its layer, although a
	// later layer had a valid one.
	err := r.Validate()
	var re *RequirementsError
	if !errors.As(err, &re) || re.Source != sources[0] || re.Field != "allowed_sandbox_modes" {
		t.Fatalf("Validate() = %v, want allowed_sandbox_modes from %s", err, sources[0])
	}
	if want := "invalid value `[WorkspaceWrite]`: must include 'read-only' to allow any SandboxPolicy"; re.Msg != want {
		t.Errorf("Msg = %q\nwant  %q", re.Msg, want)
	}
	// Order of layers decides: with layer 2 first, all rules pass.
	if err := Merge(layers[1], layers[0], layers[2]).Validate(); err != nil {
		t.Errorf("Validate() with Security first = %v", err)
	}
	// With layer 3 first its "eu" wins and fails, named by its source.
	err = Merge(layers[2], layers[1]).Validate()
	if !errors.As(err, &re) || re.Source != CloudRequirementsSource || re.Field != "enforce_residency" {
		t.Errorf("Validate() = %v, want enforce_residency from cloud requirements", err)
	}
}

func TestRows(t *testing.T) {
	r := Merge(parseFixture(t, "full.toml"))
	s := testSource
	want := []PolicyRow{
		{"allowed_approval_policies", "untrusted, on-request, granular{rules=false, sandbox_approval=true}", s, ""},
		{"allowed_sandbox_modes", "read-only, workspace-write", s, ""},
		{"allowed_web_search_modes", "cached", s, ""},
		{"features", "unified_exec=off, web_search_request=on", s, ""},
		{"mcp_servers", "docs (command docs-mcp), remote (url https://mcp.example.com/sse)", s, ""},
		{"apps", "github={tools={create_issue={approval_mode=prompt}}}, slack={enabled=false}", s, ""},
		{"rules", `prefix_rules=[{decision=forbidden, justification="no recursive deletes", pattern=[{token=rm}, {any_of=[-rf, -fr]}]}, {decision=prompt, pattern=[{token=git}, {token=push}]}]`, s, ""},
		{"enforce_residency", "us", s, ""},
		{"permissions", "filesystem={deny_read=[~/.ssh/**, /etc/secrets]}", s, ""},
		{"allowed_login_methods", "[chatgpt]", s, "not interpreted by reqdoctor"},
		{"hooks", "allow=true, since=2026-01-02T03:04:05Z", s, "not interpreted by reqdoctor"},
	}
	got := r.Rows()
	if len(got) != len(want) {
		t.Fatalf("Rows() has %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v\nwant     %+v", i, got[i], want[i])
		}
	}
	empty := Merge(parseFixture(t, "rule_sandbox_empty.toml")).Rows()
	if len(empty) != 1 || empty[0].Value != "(empty list)" {
		t.Errorf("empty list row = %+v", empty)
	}
}

func TestJSONNonFinite(t *testing.T) {
	r := Merge(parseFixture(t, "nonfinite.toml"))
	got, err := json.Marshal(r.JSON())
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if want := `{"experimental_network":{"limit":"inf","port":8080,"ratio":"nan"}}`; string(got) != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	if _, ok := r.Fields["experimental_network"].(map[string]any)["port"].(int64); !ok {
		t.Errorf("integer not kept as int64: %#v", r.Fields["experimental_network"])
	}
}

func TestNilAndEmptyRequirements(t *testing.T) {
	var r *Requirements
	if !r.Empty() || r.Validate() != nil || r.Rows() != nil || r.JSON() != nil {
		t.Error("nil Requirements should be empty, valid, with no rows and nil JSON")
	}
	m := Merge()
	if !m.Empty() || m.Validate() != nil || len(m.Rows()) != 0 || len(m.Warnings) != 0 {
		t.Errorf("Merge() = %+v", m)
	}
	if j := m.JSON(); j == nil || len(j) != 0 {
		t.Errorf("Merge().JSON() = %#v, want empty non-nil map", j)
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct{ key, want string }{
		{"allowed_aproval_policies", "allowed_approval_policies"},
		{"allowed_approval_policy", "allowed_approval_policies"},
		{"alowed_sandbox_mode", "allowed_sandbox_modes"},
		{"Allowed-Sandbox-Modes", "allowed_sandbox_modes"},
		{"allowed_web_search_mode", "allowed_web_search_modes"},
		{"approval_policy", "allowed_approval_policies"},
		{"ask_for_approval", "allowed_approval_policies"},
		{"sandbox_mode", "allowed_sandbox_modes"},
		{"web_search", "allowed_web_search_modes"},
		{"feature", "features"},
		{"feature_requirement", "features"},
		{"mcp-servers", "mcp_servers"},
		{"mcp_server", "mcp_servers"},
		{"rule", "rules"},
		{"enforce_residence", "enforce_residency"},
		{"hook", "hooks"},
		{"allowed_login_method", "allowed_login_methods"},
		{"prefix_rules", "rules"},
		// Nothing close, or already a field.
		{"team", ""},
		{"tags", ""},
		{"model", ""},
		{"chatgpt_base_url", ""},
		{"allowed_approval_policies", ""},
		{"feature_requirements", ""},
		{"hooks", ""},
	}
	for _, tt := range tests {
		if got := DidYouMean(tt.key); got != tt.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestFragmentSource(t *testing.T) {
	got := FragmentSource(Fragment{ID: "cfg_123", Name: "Default policy", Contents: "x = 1"})
	if want := "enterprise-managed requirements Default policy (cfg_123)"; got != want {
		t.Errorf("FragmentSource = %q, want %q", got, want)
	}
	if !strings.HasPrefix(CloudRequirementsSource, "cloud") {
		t.Errorf("CloudRequirementsSource = %q", CloudRequirementsSource)
	}
}
