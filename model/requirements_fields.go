package model

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	toml "github.com/pelletier/go-toml/v2"
)

// Requirement field names, as written in TOML.
const (
	FieldApprovalPolicies = "allowed_approval_policies"
	FieldSandboxModes     = "allowed_sandbox_modes"
	FieldWebSearchModes   = "allowed_web_search_modes"
	FieldFeatures         = "features"
	FieldMCPServers       = "mcp_servers"
	FieldApps             = "apps"
	FieldRules            = "rules"
	FieldEnforceResidency = "enforce_residency"
	FieldPermissions      = "permissions"
)

// knownFields are the fields reqdoctor types and checks, in Codex's order;
// the policies table follows it.
var knownFields = []string{
	FieldApprovalPolicies,
	FieldSandboxModes,
	FieldWebSearchModes,
	FieldFeatures,
	FieldMCPServers,
	FieldApps,
	FieldRules,
	FieldEnforceResidency,
	FieldPermissions,
}

// newerFields are Codex fields reqdoctor knows by name only: kept and shown,
// never checked, so a newer Codex schema never makes reqdoctor cry wolf.
var newerFields = []string{
	"allowed_approvals_reviewers",
	"hooks",
	"allow_managed_hooks_only",
	"experimental_network",
	"computer_use",
	"allowed_login_methods",
	"allowed_chatgpt_workspaces",
}

// fieldAliases maps a serde alias Codex accepts to the field it fills.
var fieldAliases = map[string]string{
	"feature_requirements": FieldFeatures,
}

// userConfigKeys are config.toml keys an admin may wrongly put into a
// requirements document, mapped to the requirement that constrains them.
var userConfigKeys = map[string]string{
	"approval_policy":   FieldApprovalPolicies,
	"approval_policies": FieldApprovalPolicies,
	"ask_for_approval":  FieldApprovalPolicies,
	"sandbox_mode":      FieldSandboxModes,
	"sandbox_modes":     FieldSandboxModes,
	"sandbox":           FieldSandboxModes,
	"web_search":        FieldWebSearchModes,
	"web_search_mode":   FieldWebSearchModes,
	"web_search_modes":  FieldWebSearchModes,
	"feature":           FieldFeatures,
	"mcp_server":        FieldMCPServers,
	"residency":         FieldEnforceResidency,
	"prefix_rules":      FieldRules,
	"exec_policy":       FieldRules,
	"deny_read":         FieldPermissions,
	"filesystem":        FieldPermissions,
}

// Enum values in serde declaration order, so "expected one of" lists match
// Codex's messages. granular is a struct variant of AskForApproval.
var (
	approvalPolicyValues = []string{"untrusted", "on-failure", "on-request", "granular", "never"}
	sandboxModeValues    = []string{"read-only", "workspace-write", "danger-full-access", "external-sandbox"}
	webSearchModeValues  = []string{"disabled", "cached", "live"}
)

func isKnownField(name string) bool { return contains(knownFields, name) }
func isNewerField(name string) bool { return contains(newerFields, name) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// pathSeg is one step into a TOML document: a key, or an array index when
// index ≥ 0.
type pathSeg struct {
	key   string
	index int
}

type tomlPath []pathSeg

func (p tomlPath) key(k string) tomlPath {
	return append(append(tomlPath(nil), p...), pathSeg{key: k, index: -1})
}

func (p tomlPath) at(i int) tomlPath {
	return append(append(tomlPath(nil), p...), pathSeg{index: i})
}

// lookupKey is the path's key in the position index.
func (p tomlPath) lookupKey() string {
	var b strings.Builder
	for _, s := range p {
		if s.index >= 0 {
			b.WriteString("\x1e")
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteString("\x1f")
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// String renders the path as a reader writes it: rules.prefix_rules[0].decision.
func (p tomlPath) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tomlKey(s.key))
	}
	return b.String()
}

// tomlKey quotes a key unless TOML allows it bare.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return strconv.Quote(k)
		}
	}
	return k
}

// checker type-checks known fields the way Codex's serde types do, and
// locates each problem through the position index.
type checker struct {
	source string
	pos    *posIndex
}

func (c *checker) fail(path tomlPath, value any, format string, args ...any) *RequirementsError {
	line, col := c.pos.lookup(path)
	e := &RequirementsError{
		Source: c.source,
		Line:   line,
		Column: col,
		Field:  path.String(),
		Msg:    fmt.Sprintf(format, args...),
	}
	if value != nil {
		e.Value = clipDisplay(compactValue(toJSONValue(value)))
	}
	return e
}

func (c *checker) invalidType(path tomlPath, v any, expected string) *RequirementsError {
	return c.fail(path, v, "invalid type: %s, expected %s", describeValue(v), expected)
}

func (c *checker) missingField(path tomlPath, name string) *RequirementsError {
	return c.fail(path, nil, "missing field `%s`", name)
}

// checkField type-checks one known top-level field, written as key (an
// alias of name or name itself); nil means Codex's parser accepts it (the
// rules of Validate run later).
func (c *checker) checkField(name, key string, v any) *RequirementsError {
	path := tomlPath{}.key(key)
	switch name {
	case FieldApprovalPolicies:
		return c.checkSeq(path, v, c.checkApprovalPolicy)
	case FieldSandboxModes:
		return c.checkSeq(path, v, func(p tomlPath, e any) *RequirementsError {
			return c.checkEnum(p, e, sandboxModeValues)
		})
	case FieldWebSearchModes:
		return c.checkSeq(path, v, func(p tomlPath, e any) *RequirementsError {
			return c.checkEnum(p, e, webSearchModeValues)
		})
	case FieldFeatures:
		return c.checkMap(path, v, "a map", func(p tomlPath, e any) *RequirementsError {
			return c.checkBool(p, e)
		})
	case FieldMCPServers:
		// Entry shapes are a rule (Validate): only the container is typed here.
		return c.checkMap(path, v, "a map", nil)
	case FieldApps:
		return c.checkMap(path, v, "a map", c.checkApp)
	case FieldRules:
		return c.checkRules(path, v)
	case FieldEnforceResidency:
		// The value "us" is a rule (Validate); the type is checked here.
		return c.checkString(path, v)
	case FieldPermissions:
		return c.checkPermissions(path, v)
	}
	return nil
}

func (c *checker) checkSeq(path tomlPath, v any, elem func(tomlPath, any) *RequirementsError) *RequirementsError {
	list, ok := v.([]any)
	if !ok {
		return c.invalidType(path, v, "a sequence")
	}
	for i, e := range list {
		if err := elem(path.at(i), e); err != nil {
			return err
		}
	}
	return nil
}

// checkMap checks a table; each entry goes to elem when it is not nil.
// Entries are visited in key order so the first error is stable.
func (c *checker) checkMap(path tomlPath, v any, expected string, elem func(tomlPath, any) *RequirementsError) *RequirementsError {
	m, ok := v.(map[string]any)
	if !ok {
		return c.invalidType(path, v, expected)
	}
	if elem == nil {
		return nil
	}
	for _, k := range c.pos.orderedKeys(path, m) {
		if err := elem(path.key(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) checkString(path tomlPath, v any) *RequirementsError {
	if _, ok := v.(string); !ok {
		return c.invalidType(path, v, "a string")
	}
	return nil
}

func (c *checker) checkBool(path tomlPath, v any) *RequirementsError {
	if _, ok := v.(bool); !ok {
		return c.invalidType(path, v, "a boolean")
	}
	return nil
}

func (c *checker) checkEnum(path tomlPath, v any, allowed []string) *RequirementsError {
	s, ok := v.(string)
	if !ok {
		return c.invalidType(path, v, "a string")
	}
	if !contains(allowed, s) {
		return c.fail(path, v, "unknown variant `%s`, expected %s", clipDisplay(s), expectedOneOf(allowed))
	}
	return nil
}

// checkApprovalPolicy accepts a policy name or { granular = { … } }.
func (c *checker) checkApprovalPolicy(path tomlPath, v any) *RequirementsError {
	switch x := v.(type) {
	case string:
		if x == "granular" {
			return c.fail(path, v, "invalid type: unit variant, expected struct variant AskForApproval::Granular (write { granular = { … } })")
		}
		return c.checkEnum(path, v, approvalPolicyValues)
	case map[string]any:
		if len(x) != 1 {
			return c.fail(path, v, "wanted exactly 1 element, found %d elements (an approval policy table holds only `granular`)", len(x))
		}
		for k, inner := range x {
			if k != "granular" {
				return c.fail(path.key(k), v, "unknown variant `%s`, expected %s", clipDisplay(k), expectedOneOf(approvalPolicyValues))
			}
			if _, ok := inner.(map[string]any); !ok {
				return c.invalidType(path.key(k), inner, "struct GranularApprovalConfig (a table)")
			}
		}
		return nil
	default:
		return c.invalidType(path, v, "a string or { granular = { … } }")
	}
}

func (c *checker) checkApp(path tomlPath, v any) *RequirementsError {
	m, ok := v.(map[string]any)
	if !ok {
		return c.invalidType(path, v, "a table")
	}
	if e, ok := m["enabled"]; ok {
		if err := c.checkBool(path.key("enabled"), e); err != nil {
			return err
		}
	}
	if tools, ok := m["tools"]; ok {
		return c.checkMap(path.key("tools"), tools, "a map", func(p tomlPath, tool any) *RequirementsError {
			tm, ok := tool.(map[string]any)
			if !ok {
				return c.invalidType(p, tool, "a table")
			}
			if am, ok := tm["approval_mode"]; ok {
				return c.checkString(p.key("approval_mode"), am)
			}
			return nil
		})
	}
	return nil
}

// checkRules mirrors RequirementsExecPolicyToml: prefix_rules is required,
// each rule needs a pattern; decision and justification are optional (Codex
// checks them when it builds the policy).
func (c *checker) checkRules(path tomlPath, v any) *RequirementsError {
	m, ok := v.(map[string]any)
	if !ok {
		return c.invalidType(path, v, "a table")
	}
	rules, ok := m["prefix_rules"]
	if !ok {
		return c.missingField(path, "prefix_rules")
	}
	return c.checkSeq(path.key("prefix_rules"), rules, func(p tomlPath, rule any) *RequirementsError {
		rm, ok := rule.(map[string]any)
		if !ok {
			return c.invalidType(p, rule, "a table")
		}
		pattern, ok := rm["pattern"]
		if !ok {
			return c.missingField(p, "pattern")
		}
		if err := c.checkSeq(p.key("pattern"), pattern, c.checkPatternToken); err != nil {
			return err
		}
		for _, k := range []string{"decision", "justification"} {
			if s, ok := rm[k]; ok {
				if err := c.checkString(p.key(k), s); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (c *checker) checkPatternToken(path tomlPath, v any) *RequirementsError {
	m, ok := v.(map[string]any)
	if !ok {
		return c.invalidType(path, v, "a table such as { token = \"…\" }")
	}
	if t, ok := m["token"]; ok {
		if err := c.checkString(path.key("token"), t); err != nil {
			return err
		}
	}
	if a, ok := m["any_of"]; ok {
		return c.checkSeq(path.key("any_of"), a, c.checkString)
	}
	return nil
}

func (c *checker) checkPermissions(path tomlPath, v any) *RequirementsError {
	m, ok := v.(map[string]any)
	if !ok {
		return c.invalidType(path, v, "a table")
	}
	fs, ok := m["filesystem"]
	if !ok {
		return nil
	}
	fm, ok := fs.(map[string]any)
	if !ok {
		return c.invalidType(path.key("filesystem"), fs, "a table")
	}
	if dr, ok := fm["deny_read"]; ok {
		return c.checkSeq(path.key("filesystem").key("deny_read"), dr, c.checkString)
	}
	return nil
}

// expectedOneOf renders serde's list of variants.
func expectedOneOf(values []string) string {
	if len(values) == 1 {
		return "`" + values[0] + "`"
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "`" + v + "`"
	}
	return "one of " + strings.Join(quoted, ", ")
}

// describeValue names a value the way serde's "invalid type" does.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return "string " + clipDisplay(strconv.Quote(x))
	case bool:
		return fmt.Sprintf("boolean `%t`", x)
	case int64:
		return fmt.Sprintf("integer `%d`", x)
	case float64:
		return "floating point `" + formatFloat(x) + "`"
	case []any:
		return "sequence"
	case map[string]any:
		return "map"
	default:
		return "datetime `" + fmt.Sprint(toJSONValue(v)) + "`"
	}
}

// toJSONValue turns a decoded TOML value into string, bool, int64, float64,
// []any or map[string]any; datetimes become RFC 3339 strings.
func toJSONValue(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSONValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJSONValue(e)
		}
		return out
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case toml.LocalDate:
		return x.String()
	case toml.LocalTime:
		return x.String()
	case toml.LocalDateTime:
		return x.String()
	case int:
		return int64(x)
	default:
		return v
	}
}

// jsonSafe replaces floats encoding/json cannot write (nan, ±inf) with
// their TOML spelling.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return formatFloat(x)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonSafe(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonSafe(e)
		}
		return out
	default:
		return v
	}
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// compactValue renders a JSON-friendly value on one line, TOML-like:
// strings bare unless they need quotes, tables as {k=v, …} in key order.
func compactValue(v any) string {
	switch x := v.(type) {
	case string:
		return compactString(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatFloat(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = compactValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		return "{" + compactEntries(x) + "}"
	default:
		return fmt.Sprint(v)
	}
}

func compactEntries(m map[string]any) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = tomlKey(k) + "=" + compactValue(m[k])
	}
	return strings.Join(parts, ", ")
}

// maxDisplayLen bounds a value quoted in an error: a 100 000-element
// array would otherwise make a megabyte-long message.
const maxDisplayLen = 512

// clipDisplay shortens s to about maxDisplayLen bytes, on a rune boundary,
// marking the cut.
func clipDisplay(s string) string {
	if len(s) <= maxDisplayLen {
		return s
	}
	cut := maxDisplayLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}

func compactString(s string) string {
	if s == "" || strings.ContainsAny(s, " ,{}[]=\"'#\t\r\n") {
		return strconv.Quote(s)
	}
	return s
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
