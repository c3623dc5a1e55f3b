package model

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// config.toml keys that requirements constrain.
const (
	ConfigKeyApprovalPolicy = "approval_policy"
	ConfigKeySandboxMode    = "sandbox_mode"
	ConfigKeyWebSearch      = "web_search"
)

// UserConfig is what reqdoctor reads from $CODEX_HOME/config.toml to
// compare the user's own settings with the requirements.
type UserConfig struct {
	Path  string
	Found bool
	// Profile is the active profile (top-level profile = "…"), or "".
	Profile string
	// Values holds the effective settings by key: approval_policy,
	// sandbox_mode, web_search, features.<name>, mcp_servers.<name>.
	Values map[string]UserValue
	// MCPServers are the user's [mcp_servers.<name>] tables, by name.
	MCPServers []UserMCPServer
	// IgnoredKeys are keys Codex ignores that look like policy keys.
	IgnoredKeys []IgnoredKey
	// Err is the first problem that makes Codex reject the file: invalid
	// TOML, a bad value of a key read here, a missing profile.
	Err *FileError
}

// UserValue is one setting of the user's config.
type UserValue struct {
	Key   string
	Value string
	From  string // "config.toml", "profile <name>", or "config.toml [features]"
	Line  int    // 1-based; 0 when unknown
}

// UserMCPServer is one [mcp_servers.<name>] table of the user's config.
// Codex matches it against the requirements allow-list by name and
// identity: command for stdio servers, url for HTTP ones.
type UserMCPServer struct {
	Name    string
	Command string
	URL     string
	Enabled bool // enabled = false in config.toml turns it off anyway
	Line    int
}

// IgnoredKey is a key Codex silently ignores though it looks like a policy.
type IgnoredKey struct {
	Key        string // as written, e.g. "ask_for_approval" or "profiles.ci.sandbox"
	Suggestion string // the config.toml key meant, e.g. "approval_policy"
	Line       int
	// Note explains requirement keys written in config.toml, which belong
	// in requirements.toml; "" otherwise.
	Note string
}

// userWebSearchValues are config.toml's web_search values. Newer Codex
// releases add "indexed"; it is accepted so reqdoctor never cries wolf.
var userWebSearchValues = []string{"disabled", "cached", "indexed", "live"}

// ReadUserConfig reads $codexHome/config.toml for the settings that
// requirements constrain. A missing file gives Found false and no values.
// It never fails hard: problems land in Err, and what could be read is kept.
func ReadUserConfig(codexHome string) UserConfig {
	path := filepath.Join(codexHome, ConfigFileName)
	uc := UserConfig{Path: path, Values: map[string]UserValue{}}
	data, err := readConfigFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			uc.Found = true
			uc.Err = &FileError{Path: path, Msg: "cannot read: " + err.Error()}
		}
		return uc
	}
	uc.Found = true
	parseUserConfig(&uc, data)
	return uc
}

type userConfigParser struct {
	uc  *UserConfig
	c   *checker
	idx *posIndex
}

func parseUserConfig(uc *UserConfig, data []byte) {
	if e := checkTOMLLimits(data); e != nil {
		uc.Err = &FileError{Path: uc.Path, Line: e.Line, Column: e.Column, Msg: e.Msg}
		return
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		e := tomlError(err, uc.Path)
		uc.Err = &FileError{Path: uc.Path, Line: e.Line, Column: e.Column, Msg: "invalid TOML: " + e.Msg}
		return
	}
	idx, err := indexDocument(data)
	if err != nil {
		e := parserError(err, data, uc.Path)
		uc.Err = &FileError{Path: uc.Path, Line: e.Line, Column: e.Column, Msg: "invalid TOML: " + e.Msg}
		return
	}
	p := &userConfigParser{uc: uc, c: &checker{source: uc.Path, pos: idx}, idx: idx}
	root := tomlPath{}

	p.readPolicies(root, doc, "config.toml")
	p.readFeatures(doc)
	p.readMCPServers(doc)
	p.ignoredKeys(root, doc, "")

	if v, ok := doc["profile"]; ok {
		path := root.key("profile")
		name, isStr := v.(string)
		if !isStr {
			p.fail(p.c.invalidType(path, v, "a string"))
		} else {
			uc.Profile = name
			profiles, _ := doc["profiles"].(map[string]any)
			prof, found := profiles[name].(map[string]any)
			if !found {
				line, col := idx.lookup(path)
				p.keep(&FileError{Path: uc.Path, Line: line, Column: col,
					Msg: fmt.Sprintf("config profile `%s` not found", name)})
			} else {
				ppath := root.key("profiles").key(name)
				p.readPolicies(ppath, prof, "profile "+name)
				p.ignoredKeys(ppath, prof, "profiles."+tomlKey(name)+".")
			}
		}
	}

	// Without web_search, Codex derives the mode from the older feature
	// flags: web_search_cached, then web_search_request.
	if _, ok := uc.Values[ConfigKeyWebSearch]; !ok {
		for _, f := range []struct{ flag, mode string }{{"web_search_cached", "cached"}, {"web_search_request", "live"}} {
			if v, ok := uc.Values["features."+f.flag]; ok && v.Value == "true" {
				uc.Values[ConfigKeyWebSearch] = UserValue{Key: ConfigKeyWebSearch, Value: f.mode,
					From: "config.toml [features] " + f.flag, Line: v.Line}
				break
			}
		}
	}
}

// keep records fe unless an earlier problem (by line) is already kept.
func (p *userConfigParser) keep(fe *FileError) {
	cur := p.uc.Err
	if cur == nil || (fe.Line > 0 && (cur.Line == 0 || fe.Line < cur.Line)) {
		p.uc.Err = fe
	}
}

func (p *userConfigParser) fail(e *RequirementsError) {
	p.keep(&FileError{Path: p.uc.Path, Line: e.Line, Column: e.Column, Msg: fmt.Sprintf("`%s`: %s", e.Field, e.Msg)})
}

func (p *userConfigParser) line(path tomlPath) int {
	l, _ := p.idx.lookup(path)
	return l
}

// readPolicies reads approval_policy, sandbox_mode and web_search from a
// table (the top level or a profile); later calls override earlier ones.
func (p *userConfigParser) readPolicies(prefix tomlPath, table map[string]any, from string) {
	for _, key := range []string{ConfigKeyApprovalPolicy, ConfigKeySandboxMode, ConfigKeyWebSearch} {
		v, ok := table[key]
		if !ok {
			continue
		}
		path := prefix.key(key)
		var err *RequirementsError
		switch key {
		case ConfigKeyApprovalPolicy:
			err = p.c.checkApprovalPolicy(path, v)
		case ConfigKeySandboxMode:
			err = p.c.checkEnum(path, v, legacySandboxModes)
		case ConfigKeyWebSearch:
			err = p.c.checkEnum(path, v, userWebSearchValues)
		}
		if err != nil {
			p.fail(err)
			continue
		}
		s, isStr := v.(string)
		if !isStr {
			s = "granular" // { granular = { … } }, the only table form
		}
		p.uc.Values[key] = UserValue{Key: key, Value: s, From: from, Line: p.line(path)}
	}
}

func (p *userConfigParser) readFeatures(doc map[string]any) {
	v, ok := doc["features"]
	if !ok {
		return
	}
	path := tomlPath{}.key("features")
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(p.c.invalidType(path, v, "a table of feature = true|false"))
		return
	}
	for _, name := range p.idx.orderedKeys(path, m) {
		fp := path.key(name)
		b, ok := m[name].(bool)
		if !ok {
			p.fail(p.c.invalidType(fp, m[name], "a boolean"))
			continue
		}
		key := "features." + name
		p.uc.Values[key] = UserValue{Key: key, Value: fmt.Sprint(b), From: "config.toml", Line: p.line(fp)}
	}
}

func (p *userConfigParser) readMCPServers(doc map[string]any) {
	v, ok := doc["mcp_servers"]
	if !ok {
		return
	}
	path := tomlPath{}.key("mcp_servers")
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(p.c.invalidType(path, v, "a table of servers"))
		return
	}
	for _, name := range p.idx.orderedKeys(path, m) {
		sp := path.key(name)
		t, ok := m[name].(map[string]any)
		if !ok {
			p.fail(p.c.invalidType(sp, m[name], "a table"))
			continue
		}
		srv := UserMCPServer{Name: name, Enabled: true, Line: p.line(sp)}
		for _, k := range []string{"command", "url"} {
			if x, ok := t[k]; ok {
				s, isStr := x.(string)
				if !isStr {
					p.fail(p.c.invalidType(sp.key(k), x, "a string"))
					continue
				}
				if k == "command" {
					srv.Command = s
				} else {
					srv.URL = s
				}
			}
		}
		if e, ok := t["enabled"]; ok {
			b, isBool := e.(bool)
			if !isBool {
				p.fail(p.c.invalidType(sp.key("enabled"), e, "a boolean"))
			} else {
				srv.Enabled = b
			}
		}
		_, hasCmd := t["command"]
		_, hasURL := t["url"]
		if !hasCmd && !hasURL {
			line, col := p.idx.lookup(sp)
			p.keep(&FileError{Path: p.uc.Path, Line: line, Column: col,
				Msg: fmt.Sprintf("`mcp_servers.%s`: needs command = \"…\" or url = \"…\"", tomlKey(name))})
		}
		p.uc.MCPServers = append(p.uc.MCPServers, srv)
		key := "mcp_servers." + name
		p.uc.Values[key] = UserValue{Key: key, Value: srv.identity(), From: "config.toml", Line: srv.Line}
	}
}

// identity renders the server's identity as the allow-list matches it:
// Codex's transport is stdio when command is set, HTTP otherwise.
func (s UserMCPServer) identity() string {
	if s.Command != "" {
		return "command " + compactString(s.Command)
	}
	if s.URL != "" {
		return "url " + compactString(s.URL)
	}
	return "(no command or url)"
}

// knownConfigKeys are config.toml top-level keys of Codex that must never
// be flagged, however close they look to a policy key.
var knownConfigKeys = []string{
	"model", "review_model", "model_provider", "model_providers", "model_reasoning_effort",
	"model_reasoning_summary", "model_verbosity", "model_context_window", "model_auto_compact_token_limit",
	"approval_policy", "approvals_reviewer", "sandbox_mode", "sandbox_workspace_write",
	"default_permissions", "permissions", "web_search", "features", "mcp_servers", "profile", "profiles",
	"tools", "apps", "skills", "hooks", "rules", "projects", "history", "tui", "otel", "notify",
	"shell_environment_policy", "file_opener", "instructions", "developer_instructions",
	"model_instructions_file", "experimental_instructions_file", "chatgpt_base_url",
	"cli_auth_credentials_store", "forced_login_method", "forced_chatgpt_workspace_id",
	"project_doc_max_bytes", "project_doc_fallback_filenames", "project_root_markers",
	"hide_agent_reasoning", "show_raw_agent_reasoning", "windows_wsl_setup_acknowledged", "notice",
	"check_for_update_on_startup", "oss_provider", "mcp_oauth_credentials_store", "analytics", "feedback",
}

// policyAliases are names people write for the policy keys of config.toml.
var policyAliases = map[string]string{
	"ask_for_approval":  ConfigKeyApprovalPolicy,
	"approval_mode":     ConfigKeyApprovalPolicy,
	"approvals":         ConfigKeyApprovalPolicy,
	"approval":          ConfigKeyApprovalPolicy,
	"approval_policies": ConfigKeyApprovalPolicy,
	"approvalpolicy":    ConfigKeyApprovalPolicy,
	"sandbox":           ConfigKeySandboxMode,
	"sandbox_policy":    ConfigKeySandboxMode,
	"sandbox_modes":     ConfigKeySandboxMode,
	"sandboxmode":       ConfigKeySandboxMode,
	"web_search_mode":   ConfigKeyWebSearch,
	"web_search_modes":  ConfigKeyWebSearch,
	"websearch":         ConfigKeyWebSearch,
}

// requirementToConfigKey maps a requirement to the config.toml key it
// constrains; requirement fields written in config.toml do nothing.
var requirementToConfigKey = map[string]string{
	FieldApprovalPolicies: ConfigKeyApprovalPolicy,
	FieldSandboxModes:     ConfigKeySandboxMode,
	FieldWebSearchModes:   ConfigKeyWebSearch,
	FieldEnforceResidency: "",
}

// ignoredKeys lists the keys of table that Codex ignores but look like
// policy keys. display prefixes the key as the user reads it.
func (p *userConfigParser) ignoredKeys(prefix tomlPath, table map[string]any, display string) {
	for _, key := range p.idx.orderedKeys(prefix, table) {
		sugg, note := policyKeySuggestion(key)
		if sugg == "" && note == "" {
			continue
		}
		p.uc.IgnoredKeys = append(p.uc.IgnoredKeys, IgnoredKey{
			Key: display + key, Suggestion: sugg, Note: note, Line: p.line(prefix.key(key)),
		})
	}
}

// policyKeySuggestion gives the config.toml key an ignored key was meant
// to be, and a note for requirement keys; both "" for keys left alone.
func policyKeySuggestion(key string) (suggestion, note string) {
	if contains(knownConfigKeys, key) {
		return "", ""
	}
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(key), "-", "_"))
	if ck, ok := requirementToConfigKey[norm]; ok || norm == "feature_requirements" || strings.HasPrefix(norm, "allowed_") {
		note = fmt.Sprintf("`%s` is a requirement: it belongs in requirements.toml or the workspace's managed policies, set by an admin; Codex ignores it in config.toml", key)
		return ck, note
	}
	if s, ok := policyAliases[norm]; ok {
		return s, ""
	}
	for _, ck := range []string{ConfigKeyApprovalPolicy, ConfigKeySandboxMode, ConfigKeyWebSearch} {
		if abs(len(norm)-len(ck)) <= 2 && editDistance(norm, ck) <= 2 {
			return ck, ""
		}
	}
	if ck := requirementToConfigKey[DidYouMean(key)]; ck != "" {
		return ck, ""
	}
	return "", ""
}

// PolicyCheck is how one requirement meets the user's config: whether the
// user's value is accepted and what Codex uses instead.
type PolicyCheck struct {
	Policy    string   // requirement field, e.g. allowed_approval_policies, or features.<name>
	ConfigKey string   // config.toml key, e.g. approval_policy; "codex exec" for the exec note
	UserValue string   // "" when unset
	From      string   // where UserValue comes from; "" when unset
	Allowed   []string // the allowed values
	SetBy     string   // the requirement's source, as Codex names it
	Accepted  bool
	CodexUses string
	Message   string // the line to show
}

// CheckUserConfig compares the user's settings with the requirements that
// constrain them: approval_policy, sandbox_mode, web_search, required
// features and the MCP allow-list, plus a note when `codex exec`, which
// asks for approval `never`, is not allowed to. Nil for nil requirements.
func CheckUserConfig(uc UserConfig, req *Requirements) []PolicyCheck {
	if req == nil {
		return nil
	}
	var out []PolicyCheck
	out = append(out, checkApproval(uc, req)...)
	if c, ok := checkSandbox(uc, req); ok {
		out = append(out, c)
	}
	if c, ok := checkWebSearch(uc, req); ok {
		out = append(out, c)
	}
	out = append(out, checkFeatures(uc, req)...)
	out = append(out, checkMCPServers(uc, req)...)
	return out
}

// fallbackMessage is Codex's startup warning for a disallowed value.
func fallbackMessage(field, fallbackDebug, candidateDebug, allowedDebug, setBy string) string {
	return fmt.Sprintf("Configured value for `%s` is disallowed by requirements; falling back to required value %s. Details: %s",
		field, fallbackDebug, invalidValueMessage(field, candidateDebug, allowedDebug, setBy))
}

// invalidValueMessage is Codex's ConstraintError::InvalidValue text.
func invalidValueMessage(field, candidateDebug, allowedDebug, setBy string) string {
	return fmt.Sprintf("invalid value for `%s`: `%s` is not in the allowed set %s (set by %s)",
		field, candidateDebug, allowedDebug, setBy)
}

func userSetting(uc UserConfig, key string) (UserValue, bool) {
	v, ok := uc.Values[key]
	return v, ok
}

func checkApproval(uc UserConfig, req *Requirements) []PolicyCheck {
	list, ok := req.Fields[FieldApprovalPolicies].([]any)
	if !ok || len(list) == 0 {
		return nil // an empty list fails validation before any of this
	}
	names := make([]string, len(list))
	debug := make([]string, len(list))
	for i, e := range list {
		names[i], debug[i] = approvalName(e), approvalDebug(e)
	}
	allowedDebug := "[" + strings.Join(debug, ", ") + "]"
	setBy := CodexSourceName(req.Sources[FieldApprovalPolicies])
	c := PolicyCheck{Policy: FieldApprovalPolicies, ConfigKey: ConfigKeyApprovalPolicy, Allowed: names, SetBy: setBy}
	uv, set := userSetting(uc, ConfigKeyApprovalPolicy)
	switch {
	case !set:
		c.Accepted, c.CodexUses = true, names[0]
		c.Message = fmt.Sprintf("unset → Codex uses `%s` (first allowed)", names[0])
	case contains(names, uv.Value):
		c.UserValue, c.From, c.Accepted, c.CodexUses = uv.Value, uv.From, true, uv.Value
		c.Message = fmt.Sprintf("`approval_policy = %s` (%s) is allowed", uv.Value, uv.From)
	default:
		c.UserValue, c.From, c.CodexUses = uv.Value, uv.From, names[0]
		c.Message = fallbackMessage(ConfigKeyApprovalPolicy, debug[0], approvalDebug(uv.Value), allowedDebug, setBy)
	}
	out := []PolicyCheck{c}
	if !contains(names, "never") {
		out = append(out, PolicyCheck{
			Policy: FieldApprovalPolicies, ConfigKey: "codex exec", UserValue: "never", From: "codex exec default",
			Allowed: names, SetBy: setBy,
			Message: "`codex exec` asks for approval `never`, which is not allowed; it fails with: " +
				invalidValueMessage(ConfigKeyApprovalPolicy, "Never", allowedDebug, setBy),
		})
	}
	return out
}

// approvalName names an allowed approval policy: its string, or
// "granular" for { granular = { … } }.
func approvalName(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "granular"
}

// granularFields are GranularApprovalConfig's fields in declaration
// order, with the serde default of those that have one.
var granularFields = []struct {
	name string
	def  string
}{{"sandbox_approval", ""}, {"rules", ""}, {"skill_approval", "false"}, {"request_permissions", "false"}, {"mcp_elicitations", ""}}

// approvalDebug renders a policy as Codex's Debug does: "untrusted" →
// UnlessTrusted, "on-request" → OnRequest, granular →
// Granular(GranularApprovalConfig { … }).
func approvalDebug(v any) string {
	switch x := v.(type) {
	case string:
		if x == "untrusted" {
			return "UnlessTrusted"
		}
		if x == "granular" {
			return "Granular(GranularApprovalConfig { … })"
		}
		return debugVariant(x)
	case map[string]any:
		g, _ := x["granular"].(map[string]any)
		var parts []string
		for _, f := range granularFields {
			val := f.def
			if b, ok := g[f.name]; ok {
				val = compactValue(b)
			}
			if val != "" {
				parts = append(parts, f.name+": "+val)
			}
		}
		return "Granular(GranularApprovalConfig { " + strings.Join(parts, ", ") + " })"
	}
	return compactValue(v)
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func debugList(values []string) string {
	d := make([]string, len(values))
	for i, v := range values {
		d[i] = debugVariant(v)
	}
	return "[" + strings.Join(d, ", ") + "]"
}

func checkSandbox(uc UserConfig, req *Requirements) (PolicyCheck, bool) {
	raw, ok := req.Fields[FieldSandboxModes]
	if !ok {
		return PolicyCheck{}, false
	}
	allowed := stringList(raw)
	if !contains(allowed, "read-only") {
		return PolicyCheck{}, false // fails validation before any of this
	}
	setBy := CodexSourceName(req.Sources[FieldSandboxModes])
	c := PolicyCheck{Policy: FieldSandboxModes, ConfigKey: ConfigKeySandboxMode, Allowed: allowed, SetBy: setBy}
	uv, set := userSetting(uc, ConfigKeySandboxMode)
	switch {
	case !set:
		// Codex's default sandbox depends on the project's trust; under
		// requirements its fallback is always read-only.
		c.Accepted, c.CodexUses = true, "read-only"
		c.Message = "unset → Codex uses `read-only`"
		if contains(allowed, "workspace-write") {
			c.Message += " (`workspace-write` in a trusted project)"
		}
	case contains(allowed, uv.Value):
		c.UserValue, c.From, c.Accepted, c.CodexUses = uv.Value, uv.From, true, uv.Value
		c.Message = fmt.Sprintf("`sandbox_mode = %s` (%s) is allowed", uv.Value, uv.From)
	default:
		c.UserValue, c.From, c.CodexUses = uv.Value, uv.From, "read-only"
		c.Message = fallbackMessage(ConfigKeySandboxMode, "ReadOnly", debugVariant(uv.Value), debugList(allowed), setBy)
	}
	return c, true
}

func checkWebSearch(uc UserConfig, req *Requirements) (PolicyCheck, bool) {
	raw, ok := req.Fields[FieldWebSearchModes]
	if !ok {
		return PolicyCheck{}, false
	}
	// Codex always accepts disabled and lists the set in enum order.
	listed := stringList(raw)
	var allowed []string
	for _, m := range userWebSearchValues {
		if m == "disabled" || contains(listed, m) {
			allowed = append(allowed, m)
		}
	}
	initial := "disabled"
	for _, m := range []string{"cached", "indexed", "live"} {
		if contains(allowed, m) {
			initial = m
			break
		}
	}
	setBy := CodexSourceName(req.Sources[FieldWebSearchModes])
	c := PolicyCheck{Policy: FieldWebSearchModes, ConfigKey: ConfigKeyWebSearch, Allowed: allowed, SetBy: setBy}
	uv, set := userSetting(uc, ConfigKeyWebSearch)
	switch {
	case !set:
		c.Accepted, c.CodexUses = true, initial
		c.Message = fmt.Sprintf("unset → Codex uses `%s`", initial)
	case contains(allowed, uv.Value):
		c.UserValue, c.From, c.Accepted, c.CodexUses = uv.Value, uv.From, true, uv.Value
		c.Message = fmt.Sprintf("`web_search = %s` (%s) is allowed", uv.Value, uv.From)
	default:
		c.UserValue, c.From, c.CodexUses = uv.Value, uv.From, initial
		c.Message = fallbackMessage("web_search_mode", debugVariant(initial), debugVariant(uv.Value), debugList(allowed), setBy)
	}
	return c, true
}

func checkFeatures(uc UserConfig, req *Requirements) []PolicyCheck {
	m, ok := req.Fields[FieldFeatures].(map[string]any)
	if !ok {
		return nil
	}
	setBy := CodexSourceName(req.Sources[FieldFeatures])
	var out []PolicyCheck
	for _, name := range sortedKeys(m) {
		want, ok := m[name].(bool)
		if !ok {
			continue
		}
		w := fmt.Sprint(want)
		key := "features." + name
		c := PolicyCheck{Policy: FieldFeatures + "." + name, ConfigKey: key, Allowed: []string{w}, SetBy: setBy, CodexUses: w}
		uv, set := userSetting(uc, key)
		switch {
		case !set:
			c.Accepted = true
			c.Message = fmt.Sprintf("unset → Codex uses `%s` (required)", w)
		case uv.Value == w:
			c.UserValue, c.From, c.Accepted = uv.Value, uv.From, true
			c.Message = fmt.Sprintf("`[features] %s = %s` (%s) matches the requirement", tomlKey(name), w, uv.From)
		default:
			c.UserValue, c.From = uv.Value, uv.From
			c.Message = fmt.Sprintf("`[features] %s = %s` (%s) is overridden: requirements (set by %s) pin it to %s",
				tomlKey(name), uv.Value, uv.From, setBy, w)
		}
		out = append(out, c)
	}
	return out
}

func checkMCPServers(uc UserConfig, req *Requirements) []PolicyCheck {
	allow, ok := req.Fields[FieldMCPServers].(map[string]any)
	if !ok {
		return nil
	}
	setBy := CodexSourceName(req.Sources[FieldMCPServers])
	servers := append([]UserMCPServer(nil), uc.MCPServers...)
	sort.Slice(servers, func(i, j int) bool { return servers[i].Name < servers[j].Name })
	var out []PolicyCheck
	for _, s := range servers {
		key := "mcp_servers." + s.Name
		c := PolicyCheck{Policy: FieldMCPServers, ConfigKey: key, UserValue: s.identity(), From: "config.toml", SetBy: setBy}
		entry, listed := allow[s.Name].(map[string]any)
		id, _ := entry["identity"].(map[string]any)
		wantCmd, hasCmd := id["command"].(string)
		wantURL, hasURL := id["url"].(string)
		switch {
		case hasCmd:
			c.Allowed = []string{"command " + compactString(wantCmd)}
		case hasURL:
			c.Allowed = []string{"url " + compactString(wantURL)}
		}
		// Codex matches command first: an identity with both is a command.
		matched := (hasCmd && s.Command != "" && s.Command == wantCmd) ||
			(!hasCmd && hasURL && s.Command == "" && s.URL != "" && s.URL == wantURL)
		name := tomlKey(s.Name)
		switch {
		case matched:
			c.Accepted, c.CodexUses = true, "enabled"
			c.Message = fmt.Sprintf("MCP server `%s` (%s) is on the allow-list", name, s.identity())
			if !s.Enabled {
				c.CodexUses = "disabled"
				c.Message += "; it is off in config.toml (enabled = false)"
			}
		case !listed:
			c.CodexUses = "disabled"
			c.Message = fmt.Sprintf("MCP server `%s` is not on the allow-list (set by %s): Codex disables it", name, setBy)
		default:
			c.CodexUses = "disabled"
			want := "no valid identity"
			if len(c.Allowed) > 0 {
				want = c.Allowed[0]
			}
			c.Message = fmt.Sprintf("MCP server `%s` is on the allow-list with %s, but config.toml has %s: Codex disables it",
				name, want, s.identity())
		}
		out = append(out, c)
	}
	return out
}
