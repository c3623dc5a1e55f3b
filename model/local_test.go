package model

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func localFixtureDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "local", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sourceByName finds a source of ReadLocalSources by its Name.
func sourceByName(t *testing.T, sources []LocalSource, name string) LocalSource {
	t.Helper()
	for _, s := range sources {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no source named %q in %+v", name, sources)
	return LocalSource{}
}

type wantSource struct {
	status string
	fields map[string]any // Layer.Fields when found
	detail []string       // substrings of Detail
	line   int            // RequirementsError line when invalid with a position
	column int
}

func checkSource(t *testing.T, s LocalSource, want wantSource) {
	t.Helper()
	if s.Status != want.status {
		t.Fatalf("%s: Status = %q, want %q (detail %q)", s.Name, s.Status, want.status, s.Detail)
	}
	for _, sub := range want.detail {
		if !strings.Contains(s.Detail, sub) {
			t.Errorf("%s: Detail = %q, want it to contain %q", s.Name, s.Detail, sub)
		}
	}
	switch s.Status {
	case LocalFound:
		if s.Layer == nil || s.Err != nil {
			t.Fatalf("%s: Layer = %v, Err = %v", s.Name, s.Layer, s.Err)
		}
		if s.Layer.Source != s.Path {
			t.Errorf("%s: Layer.Source = %q, want the path %q", s.Name, s.Layer.Source, s.Path)
		}
		if want.fields != nil && !reflect.DeepEqual(s.Layer.Fields, want.fields) {
			t.Errorf("%s: Fields = %#v, want %#v", s.Name, s.Layer.Fields, want.fields)
		}
	case LocalInvalid:
		if s.Layer != nil || s.Err == nil {
			t.Fatalf("%s: Layer = %v, Err = %v; want nil layer and an error", s.Name, s.Layer, s.Err)
		}
		if s.Detail != s.Err.Error() {
			t.Errorf("%s: Detail = %q, want the error %q", s.Name, s.Detail, s.Err.Error())
		}
		if !strings.Contains(s.Detail, s.Path) {
			t.Errorf("%s: Detail %q does not name the file %q", s.Name, s.Detail, s.Path)
		}
		if want.line > 0 {
			var re *RequirementsError
			if !errors.As(s.Err, &re) {
				t.Fatalf("%s: Err is %T, want *RequirementsError", s.Name, s.Err)
			}
			if re.Line != want.line || re.Column != want.column {
				t.Errorf("%s: position = %d:%d, want %d:%d (%v)", s.Name, re.Line, re.Column, want.line, want.column, re)
			}
		}
	default:
		if s.Layer != nil || s.Err != nil {
			t.Errorf("%s: Layer = %v, Err = %v; want neither", s.Name, s.Layer, s.Err)
		}
	}
}

func TestReadLocalSourcesFixtures(t *testing.T) {
	notFound := wantSource{status: LocalNotFound}
	tests := []struct {
		dir      string
		req, mgd wantSource
	}{
		{"none", notFound, notFound},
		{"both",
			wantSource{status: LocalFound,
				fields: map[string]any{
					FieldApprovalPolicies: []any{"on-request"},
					FieldWebSearchModes:   []any{"cached"},
				},
				detail: []string{"sets allowed_approval_policies, allowed_web_search_modes", "ignored keys: alowed_sandbox_modes"}},
			wantSource{status: LocalFound,
				fields: map[string]any{
					FieldApprovalPolicies: []any{"never"},
					FieldSandboxModes:     []any{"read-only", "workspace-write"},
				},
				detail: []string{
					"converted to allowed_approval_policies = [never], allowed_sandbox_modes = [read-only, workspace-write]",
					"other keys are config, not requirements: model, mcp_servers",
				}},
		},
		{"invalid_toml",
			wantSource{status: LocalInvalid, line: 2, column: 38, detail: []string{"array is incomplete"}},
			notFound},
		{"invalid_managed_toml",
			notFound,
			wantSource{status: LocalInvalid, line: 2, column: 16}},
		{"legacy_conversion",
			notFound,
			wantSource{status: LocalFound,
				fields: map[string]any{
					FieldSandboxModes:     []any{"read-only", "danger-full-access"},
					FieldApprovalPolicies: []any{"untrusted"},
				},
				detail: []string{"other keys are config, not requirements: model_reasoning_effort"}}},
		{"legacy_readonly",
			notFound,
			wantSource{status: LocalFound,
				fields: map[string]any{FieldSandboxModes: []any{"read-only"}},
				detail: []string{"allowed_sandbox_modes = [read-only]"}}},
		{"legacy_granular",
			notFound,
			wantSource{status: LocalFound,
				fields: map[string]any{FieldApprovalPolicies: []any{map[string]any{"granular": map[string]any{
					"sandbox_approval": true, "rules": true, "mcp_elicitations": false}}}}}},
		{"legacy_unknown_variant",
			notFound,
			wantSource{status: LocalInvalid, line: 2, column: 19,
				detail: []string{"approval_policy", "unknown variant `sometimes`", "`on-request`"}}},
		{"legacy_external_sandbox",
			notFound,
			wantSource{status: LocalInvalid, line: 1, column: 16,
				detail: []string{"unknown variant `external-sandbox`, expected one of `read-only`, `workspace-write`, `danger-full-access`"}}},
		{"bad_value",
			wantSource{status: LocalInvalid, line: 2, column: 39, detail: []string{"unknown variant `bogus`"}},
			notFound},
		{"comments_only",
			wantSource{status: LocalFound, fields: map[string]any{}, detail: []string{"sets no requirements (empty)"}},
			notFound},
		{"dir_instead",
			wantSource{status: LocalInvalid, detail: []string{"is a directory, not a file"}},
			wantSource{status: LocalInvalid, detail: []string{"is a directory, not a file"}}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := localFixtureDir(t, tt.dir)
			sources := ReadLocalSources(dir)
			req := sourceByName(t, sources, LocalNameRequirements)
			if want := filepath.Join(dir, "requirements.toml"); req.Path != want {
				t.Errorf("requirements.toml Path = %q, want %q", req.Path, want)
			}
			checkSource(t, req, tt.req)
			mgd := sourceByName(t, sources, LocalNameManagedConfig)
			if want := filepath.Join(dir, "managed_config.toml"); mgd.Path != want {
				t.Errorf("managed_config.toml Path = %q, want %q", mgd.Path, want)
			}
			checkSource(t, mgd, tt.mgd)
		})
	}
}

func TestReadLocalSourcesOrderAndMerge(t *testing.T) {
	dir := localFixtureDir(t, "both")
	sources := ReadLocalSources(dir)
	var names []string
	for _, s := range sources {
		names = append(names, s.Name)
	}
	want := []string{LocalNameMDMRequirements, LocalNameRequirements, LocalNameMDMConfig, LocalNameManagedConfig}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names = %q, want Codex's order %q", names, want)
	}

	// The cloud sets the sandbox; requirements.toml wins the approval
	// policy over managed_config.toml, which still adds nothing else.
	cloud, err := ParseRequirements(`allowed_sandbox_modes = ["read-only"]`, CloudRequirementsSource)
	if err != nil {
		t.Fatal(err)
	}
	layers := append([]*Layer{cloud}, LocalLayers(sources)...)
	if len(layers) != 3 {
		t.Fatalf("got %d layers, want cloud + 2 local", len(layers))
	}
	r := Merge(layers...)
	reqPath := filepath.Join(dir, "requirements.toml")
	mgdPath := filepath.Join(dir, "managed_config.toml")
	wantSources := map[string]string{
		FieldSandboxModes:     CloudRequirementsSource,
		FieldApprovalPolicies: reqPath,
		FieldWebSearchModes:   reqPath,
	}
	if !reflect.DeepEqual(r.Sources, wantSources) {
		t.Errorf("Sources = %v, want %v", r.Sources, wantSources)
	}
	wantShadowed := map[string][]string{
		FieldApprovalPolicies: {mgdPath},
		FieldSandboxModes:     {mgdPath},
	}
	if !reflect.DeepEqual(r.Shadowed, wantShadowed) {
		t.Errorf("Shadowed = %v, want %v", r.Shadowed, wantShadowed)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestReadLocalSourcesManagedPreferences(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("reads the real managed preferences on macOS")
	}
	sources := ReadLocalSources(t.TempDir())
	for _, name := range []string{LocalNameMDMRequirements, LocalNameMDMConfig} {
		s := sourceByName(t, sources, name)
		if s.Status != LocalNotApplicable || s.Detail != "not applicable on "+runtime.GOOS {
			t.Errorf("%s: Status %q, Detail %q", name, s.Status, s.Detail)
		}
		if s.Layer != nil || s.Err != nil {
			t.Errorf("%s: Layer %v, Err %v", name, s.Layer, s.Err)
		}
	}
}

func TestReadLocalSourcesTooLarge(t *testing.T) {
	dir := t.TempDir()
	big := "allowed_approval_policies = [\"on-request\"]\n" + strings.Repeat("# padding\n", maxLocalFileSize/10+1)
	if err := os.WriteFile(filepath.Join(dir, "requirements.toml"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	// Exactly at the limit is still read.
	exact := "# x\n" + strings.Repeat("#", maxLocalFileSize-5) + "\n"
	if len(exact) != maxLocalFileSize {
		t.Fatalf("fixture is %d bytes", len(exact))
	}
	if err := os.WriteFile(filepath.Join(dir, "managed_config.toml"), []byte(exact), 0o644); err != nil {
		t.Fatal(err)
	}
	sources := ReadLocalSources(dir)
	checkSource(t, sourceByName(t, sources, LocalNameRequirements),
		wantSource{status: LocalInvalid, detail: []string{"too large"}})
	checkSource(t, sourceByName(t, sources, LocalNameManagedConfig),
		wantSource{status: LocalFound, detail: []string{"sets no requirements"}})
}

func TestReadLocalSourcesUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "requirements.toml")
	if err := os.WriteFile(p, []byte(`allowed_approval_policies = ["on-request"]`), 0o000); err != nil {
		t.Fatal(err)
	}
	s := sourceByName(t, ReadLocalSources(dir), LocalNameRequirements)
	checkSource(t, s, wantSource{status: LocalInvalid, detail: []string{"cannot read: permission denied"}})
}

func TestReadLocalSourcesInvalidUTF8(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "requirements.toml"), []byte("# \xff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkSource(t, sourceByName(t, ReadLocalSources(dir), LocalNameRequirements),
		wantSource{status: LocalInvalid, detail: []string{"not valid UTF-8"}})
}

func TestDefaultSystemConfigDir(t *testing.T) {
	got := DefaultSystemConfigDir()
	if runtime.GOOS == "windows" {
		if !strings.HasSuffix(got, filepath.Join("OpenAI", "Codex")) {
			t.Errorf("DefaultSystemConfigDir() = %q", got)
		}
		return
	}
	if got != "/etc/codex" {
		t.Errorf("DefaultSystemConfigDir() = %q, want /etc/codex", got)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseMDMValue(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		legacy  bool
		source  string
		fields  map[string]any
		errSubs []string
		line    int
		column  int
	}{
		{name: "requirements", value: b64("allowed_approval_policies = [\"on-request\", \"never\"]\n"),
			source: MDMRequirementsSource,
			fields: map[string]any{FieldApprovalPolicies: []any{"on-request", "never"}}},
		{name: "surrounding whitespace is trimmed", value: "  " + b64("enforce_residency = \"us\"") + "\n",
			source: MDMRequirementsSource,
			fields: map[string]any{FieldEnforceResidency: "us"}},
		{name: "empty value sets nothing", value: "   ", source: MDMRequirementsSource, fields: map[string]any{}},
		{name: "legacy config conversion", value: b64("approval_policy = \"on-request\"\nsandbox_mode = \"workspace-write\"\nmodel = \"o3\"\n"),
			legacy: true, source: MDMConfigSource,
			fields: map[string]any{
				FieldApprovalPolicies: []any{"on-request"},
				FieldSandboxModes:     []any{"read-only", "workspace-write"},
			}},
		{name: "legacy read-only once", value: b64(`sandbox_mode = "read-only"`), legacy: true, source: MDMConfigSource,
			fields: map[string]any{FieldSandboxModes: []any{"read-only"}}},
		{name: "legacy approvals_reviewer (newer Codex)", value: b64(`approvals_reviewer = "guardian_subagent"`), legacy: true,
			source: MDMConfigSource,
			fields: map[string]any{"allowed_approvals_reviewers": []any{"guardian_subagent", "user"}}},
		{name: "not base64", value: "not base64!", source: MDMRequirementsSource,
			errSubs: []string{MDMRequirementsSource, "not valid base64"}},
		{name: "missing padding", value: strings.TrimRight(b64("enforce_residency = \"us\"\n"), "="),
			source: MDMRequirementsSource, errSubs: []string{"not valid base64"}},
		{name: "not UTF-8", value: base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe}),
			source: MDMRequirementsSource, errSubs: []string{"not valid UTF-8"}},
		{name: "invalid TOML keeps its position", value: b64("allowed_approval_policies = [\"on-request\"]\nfoo = \n"),
			source: MDMRequirementsSource, errSubs: []string{MDMRequirementsSource + ", line 2"}, line: 2, column: 7},
		{name: "unknown variant", value: b64(`allowed_sandbox_modes = ["read-only", "yolo"]`),
			source: MDMRequirementsSource, errSubs: []string{"unknown variant `yolo`"}, line: 1, column: 39},
		{name: "legacy unknown variant", value: b64(`approval_policy = "always"`), legacy: true,
			source: MDMConfigSource, errSubs: []string{MDMConfigSource, "unknown variant `always`"}, line: 1, column: 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parseMDMValue(tt.value, tt.source, tt.legacy)
			if tt.errSubs != nil {
				if err == nil {
					t.Fatalf("no error; layer %+v", l)
				}
				if l != nil {
					t.Errorf("layer %+v alongside error", l)
				}
				for _, sub := range tt.errSubs {
					if !strings.Contains(err.Error(), sub) {
						t.Errorf("error %q does not contain %q", err, sub)
					}
				}
				var re *RequirementsError
				if !errors.As(err, &re) {
					t.Fatalf("error is %T, want *RequirementsError", err)
				}
				if re.Line != tt.line || re.Column != tt.column {
					t.Errorf("position %d:%d, want %d:%d", re.Line, re.Column, tt.line, tt.column)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Source != tt.source {
				t.Errorf("Source = %q, want %q", l.Source, tt.source)
			}
			if !reflect.DeepEqual(l.Fields, tt.fields) {
				t.Errorf("Fields = %#v, want %#v", l.Fields, tt.fields)
			}
		})
	}
}

func TestMDMSource(t *testing.T) {
	s := mdmSource(LocalNameMDMRequirements, MDMRequirementsKey, "", false)
	checkSourceMDM(t, s, LocalNotFound, "")
	s = mdmSource(LocalNameMDMRequirements, MDMRequirementsKey, b64(`allowed_web_search_modes = ["disabled"]`), true)
	checkSourceMDM(t, s, LocalFound, "sets allowed_web_search_modes")
	if s.Layer.Source != MDMRequirementsSource {
		t.Errorf("Layer.Source = %q", s.Layer.Source)
	}
	s = mdmSource(LocalNameMDMConfig, MDMConfigKey, b64("approval_policy = \"never\"\nmodel = \"o3\""), true)
	checkSourceMDM(t, s, LocalFound, "other keys are config, not requirements: model")
	if s.Layer.Source != MDMConfigSource {
		t.Errorf("Layer.Source = %q", s.Layer.Source)
	}
	s = mdmSource(LocalNameMDMConfig, MDMConfigKey, "%%%", true)
	checkSourceMDM(t, s, LocalInvalid, "not valid base64")
}

func checkSourceMDM(t *testing.T, s LocalSource, status, detail string) {
	t.Helper()
	if s.Status != status || !strings.Contains(s.Detail, detail) {
		t.Errorf("%s: Status %q Detail %q; want %q containing %q", s.Name, s.Status, s.Detail, status, detail)
	}
	if !strings.HasPrefix(s.Path, MDMDomain+":") {
		t.Errorf("Path = %q", s.Path)
	}
	if (status == LocalFound) != (s.Layer != nil) || (status == LocalInvalid) != (s.Err != nil) {
		t.Errorf("Layer %v Err %v for status %q", s.Layer, s.Err, status)
	}
}

func TestCodexSourceName(t *testing.T) {
	tests := map[string]string{
		MDMRequirementsSource:          "MDM com.openai.codex:requirements_toml_base64",
		MDMConfigSource:                "MDM managed_config.toml (legacy)",
		"/etc/codex/requirements.toml": "/etc/codex/requirements.toml",
		CloudRequirementsSource:        CloudRequirementsSource,
	}
	for in, want := range tests {
		if got := CodexSourceName(in); got != want {
			t.Errorf("CodexSourceName(%q) = %q, want %q", in, got, want)
		}
	}
}
