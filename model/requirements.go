package model

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// CloudRequirementsSource is the Source of the requirements generation's
// single document, as Codex names it.
const CloudRequirementsSource = "cloud requirements"

// FragmentSource names a bundle fragment as Codex does in its errors.
func FragmentSource(f Fragment) string {
	return fmt.Sprintf("enterprise-managed requirements %s (%s)", f.Name, f.ID)
}

// ParseRequirements parses one requirements document into a Layer. Blank
// contents give an empty Layer, as Codex treats them as no requirements.
// Invalid TOML and known fields of the wrong type or value give a
// *RequirementsError located at line and column; unknown top-level keys
// only land in Layer.Unknown because Codex ignores them. The rules of
// Requirements.Validate are not run here: Codex runs them after merging.
func ParseRequirements(contents, source string) (*Layer, error) {
	layer := &Layer{Source: source, Fields: map[string]any{}}
	if strings.TrimSpace(contents) == "" {
		return layer, nil
	}
	data := []byte(contents)
	if e := checkTOMLLimits(data); e != nil {
		e.Source = source
		return nil, e
	}

	// TOML's semantic checks (duplicate keys, table redefinition) are
	// go-toml's; fastDecode applies them in linear time. Whatever it does
	// not accept goes to go-toml's decoder, whose errors are the ones shown.
	doc, status := fastDecode(data)
	if status != decodeOK {
		if err := toml.Unmarshal(data, &doc); err != nil {
			return nil, tomlError(err, source)
		}
	}
	idx, err := indexDocument(data)
	if err != nil {
		return nil, parserError(err, data, source)
	}

	c := &checker{source: source, pos: idx}
	for _, key := range idx.orderedKeys(tomlPath{}, doc) {
		v := doc[key]
		name := key
		if canonical, ok := fieldAliases[key]; ok {
			name = canonical
		}
		switch {
		case isKnownField(name):
			if _, dup := layer.Fields[name]; dup {
				return nil, c.fail(tomlPath{}.key(key), nil, "duplicate field `%s`", name)
			}
			if err := c.checkField(name, key, v); err != nil {
				return nil, err
			}
			if key != name {
				if layer.Aliases == nil {
					layer.Aliases = map[string]string{}
				}
				layer.Aliases[name] = key
			}
		case isNewerField(name):
			layer.NotInterpreted = append(layer.NotInterpreted, name)
		default:
			layer.Unknown = append(layer.Unknown, key)
			continue
		}
		// doc is this function's own: convert it without a copy.
		layer.Fields[name] = toJSONValueInPlace(v)
		layer.Order = append(layer.Order, name)
	}
	return layer, nil
}

// toJSONValueInPlace is toJSONValue for a tree nothing else holds: maps
// and slices are converted where they are instead of copied.
func toJSONValueInPlace(v any) any {
	switch x := v.(type) {
	case []any:
		if x == nil {
			return toJSONValue(x)
		}
		for i, e := range x {
			x[i] = toJSONValueInPlace(e)
		}
		return x
	case map[string]any:
		if x == nil {
			return toJSONValue(x)
		}
		for k, e := range x {
			x[k] = toJSONValueInPlace(e)
		}
		return x
	default:
		return toJSONValue(v)
	}
}

// sizeHint guesses how many keys a document sets, to size the maps that
// index it: one a line, within reason.
func sizeHint(data []byte) int {
	return min(bytes.Count(data, []byte{'\n'})+1, 1<<16)
}

// tomlError turns a go-toml decode error into a located RequirementsError.
func tomlError(err error, source string) *RequirementsError {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return &RequirementsError{
			Source: source,
			Line:   line,
			Column: col,
			Msg:    strings.TrimPrefix(de.Error(), "toml: "),
		}
	}
	return &RequirementsError{Source: source, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

func parserError(err error, data []byte, source string) *RequirementsError {
	e := &RequirementsError{Source: source, Msg: err.Error()}
	var pe *unstable.ParserError
	if errors.As(err, &pe) {
		e.Msg = pe.Message
		if pe.Highlight != nil {
			off := cap(data) - cap(pe.Highlight)
			if off >= 0 && off <= len(data) {
				e.Line, e.Column = offsetPosition(data, off)
			}
		}
	}
	return e
}

// offsetPosition is the 1-based line and byte column of offset, as
// go-toml counts them.
func offsetPosition(data []byte, off int) (line, col int) {
	line, col = 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// posIndex records where each value of a document starts and the order in
// which each table's keys first appear.
type posIndex struct {
	data  []byte
	start map[string]int      // lookupKey → byte offset
	keys  map[string][]string // table lookupKey → child keys in order
	seen  map[string]bool     // lookupKeys already listed in keys
	// newlines are the offsets of data's line feeds, built on the first
	// lookup so that locating many keys stays linear in the document.
	newlines []int
}

// position is offsetPosition through the newline index.
func (x *posIndex) position(off int) (line, col int) {
	if x.newlines == nil {
		x.newlines = []int{}
		for i, b := range x.data {
			if b == '\n' {
				x.newlines = append(x.newlines, i)
			}
		}
	}
	off = max(0, min(off, len(x.data)))
	n := sort.SearchInts(x.newlines, off) // line feeds before off
	start := 0
	if n > 0 {
		start = x.newlines[n-1] + 1
	}
	return n + 1, off - start + 1
}

// lookup gives the position of path, or of its nearest located ancestor.
func (x *posIndex) lookup(path tomlPath) (line, col int) {
	for p := path; ; p = p[:len(p)-1] {
		if off, ok := x.start[p.lookupKey()]; ok {
			return x.position(off)
		}
		if len(p) == 0 {
			return 0, 0
		}
	}
}

// orderedKeys lists m's keys in document order; keys the index missed
// follow in sorted order.
func (x *posIndex) orderedKeys(path tomlPath, m map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range x.keys[path.lookupKey()] {
		if _, ok := m[k]; ok && !seen[k] {
			out = append(out, k)
			seen[k] = true
		}
	}
	for _, k := range sortedKeys(m) {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

// indexPath is a path as indexDocument needs it: its lookupKey, built
// once by extending the parent's, its length and its last key.
type indexPath struct {
	lk    string // tomlPath.lookupKey
	n     int    // segments
	name  string // the last segment's key, when isKey
	isKey bool
}

func (p indexPath) key(k string) indexPath {
	return indexPath{lk: p.lk + "\x1f" + k, n: p.n + 1, name: k, isKey: true}
}

func (p indexPath) at(i int) indexPath {
	return indexPath{lk: p.lk + "\x1e" + strconv.Itoa(i), n: p.n + 1}
}

// parent is the lookupKey of the path without its last key.
func (p indexPath) parent() string { return p.lk[:len(p.lk)-len(p.name)-1] }

func (x *posIndex) note(path indexPath, off int) {
	if _, ok := x.start[path.lk]; !ok {
		x.start[path.lk] = off
	}
	if path.n == 0 || !path.isKey {
		return
	}
	if !x.seen[path.lk] {
		x.seen[path.lk] = true
		parent := path.parent()
		x.keys[parent] = append(x.keys[parent], path.name)
	}
}

// indexDocument walks the document with go-toml's unstable parser and
// records positions by path. [[array tables]] get indexes in order.
func indexDocument(data []byte) (*posIndex, error) {
	n := sizeHint(data)
	x := &posIndex{data: data, start: make(map[string]int, n), keys: map[string][]string{}, seen: make(map[string]bool, n)}
	arrayCount := map[string]int{} // array table lookupKey → elements so far
	var p unstable.Parser
	p.Reset(data)
	var prefix indexPath
	var keys []*unstable.Node
	deep := false // under a header too deep to index
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys = appendKeyNodes(keys[:0], e)
			deep = len(keys) > maxIndexDepth
			if deep {
				// Keep the top-level key's place in the order; skip the rest.
				x.note(indexPath{}.key(string(keys[0].Data)), int(keys[0].Raw.Offset))
				continue
			}
			var path indexPath
			for i, k := range keys {
				path = path.key(string(k.Data))
				x.note(path, int(k.Raw.Offset))
				if i == len(keys)-1 && e.Kind == unstable.ArrayTable {
					n := arrayCount[path.lk]
					arrayCount[path.lk] = n + 1
					path = path.at(n)
					x.note(path, int(k.Raw.Offset))
				} else if n, ok := arrayCount[path.lk]; ok {
					// A header below an array table extends its last element.
					path = path.at(n - 1)
				}
			}
			prefix = path
		case unstable.KeyValue:
			if !deep {
				keys = x.indexKeyValue(prefix, e, keys)
			}
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	return x, nil
}

func keyNodes(n *unstable.Node) []*unstable.Node {
	return appendKeyNodes(nil, n)
}

func appendKeyNodes(out []*unstable.Node, n *unstable.Node) []*unstable.Node {
	it := n.Key()
	for it.Next() {
		out = append(out, it.Node())
	}
	return out
}

// maxIndexDepth bounds how deep positions are recorded: Codex's schema is
// a few levels deep, and a hostile document nested thousands of levels
// would otherwise cost quadratic time. Deeper values fall back to the
// position of their nearest recorded ancestor.
const maxIndexDepth = 32

// indexKeyValue records kv under prefix; scratch is reused for its key
// nodes and handed back.
func (x *posIndex) indexKeyValue(prefix indexPath, kv *unstable.Node, scratch []*unstable.Node) []*unstable.Node {
	keys := appendKeyNodes(scratch[:0], kv)
	if prefix.n+len(keys) > maxIndexDepth {
		if prefix.n == 0 {
			x.note(indexPath{}.key(string(keys[0].Data)), int(keys[0].Raw.Offset))
		}
		return keys
	}
	path := prefix
	for _, k := range keys {
		path = path.key(string(k.Data))
		x.note(path, int(k.Raw.Offset))
	}
	last := keys[len(keys)-1]
	// The value starts after "key = "; arrays carry no range of their own.
	off := int(last.Raw.Offset + last.Raw.Length)
	off = skipBlanks(x.data, off)
	if off < len(x.data) && x.data[off] == '=' {
		off = skipBlanks(x.data, off+1)
	}
	x.start[path.lk] = off
	x.indexValue(path, kv.Value(), off)
	return keys
}

func skipBlanks(data []byte, off int) int {
	for off < len(data) && (data[off] == ' ' || data[off] == '\t') {
		off++
	}
	return off
}

func (x *posIndex) indexValue(path indexPath, v *unstable.Node, off int) {
	if path.n >= maxIndexDepth {
		return
	}
	switch v.Kind {
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			coff := off // nested arrays have no range: fall back to the parent
			if c.Raw.Length > 0 {
				coff = int(c.Raw.Offset)
			}
			elem := path.at(i)
			x.start[elem.lk] = coff
			x.indexValue(elem, c, coff)
			i++
		}
	case unstable.InlineTable:
		var scratch []*unstable.Node
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				scratch = x.indexKeyValue(path, c, scratch)
			}
		}
	}
}

// Merge combines layers in priority order: for each top-level field the
// first layer that sets it wins, whole (no deep merge), as in Codex.
func Merge(layers ...*Layer) *Requirements {
	r := &Requirements{Fields: map[string]any{}, Sources: map[string]string{}}
	for _, l := range layers {
		if l == nil {
			continue
		}
		r.Layers = append(r.Layers, l)
		for _, name := range l.Order {
			if _, taken := r.Fields[name]; taken {
				if r.Shadowed == nil {
					r.Shadowed = map[string][]string{}
				}
				r.Shadowed[name] = append(r.Shadowed[name], l.Source)
				continue
			}
			r.Fields[name] = l.Fields[name]
			r.Sources[name] = l.Source
			r.Order = append(r.Order, name)
			if alias, ok := l.Aliases[name]; ok {
				if r.Aliases == nil {
					r.Aliases = map[string]string{}
				}
				r.Aliases[name] = alias
			}
			if isNewerField(name) {
				r.Warnings = append(r.Warnings, fmt.Sprintf(
					"`%s` (set by %s) is a newer Codex field that reqdoctor shows but does not check", name, l.Source))
			}
		}
		for _, key := range l.Unknown {
			w := fmt.Sprintf("unknown key `%s` in %s is ignored by Codex", key, l.Source)
			if s := DidYouMean(key); s != "" {
				w += fmt.Sprintf(" — did you mean `%s`?", s)
			}
			r.Warnings = append(r.Warnings, w)
		}
	}
	r.Warnings = append(r.Warnings, r.identityWarnings()...)
	return r
}

// identityWarnings flags servers whose identity sets both command and url:
// Codex's untagged McpServerIdentity accepts that and matches on command.
func (r *Requirements) identityWarnings() []string {
	servers, _ := r.Fields[FieldMCPServers].(map[string]any)
	var out []string
	for _, name := range sortedKeys(servers) {
		entry, _ := servers[name].(map[string]any)
		id, _ := entry["identity"].(map[string]any)
		_, cmd := id["command"].(string)
		_, url := id["url"].(string)
		if cmd && url {
			out = append(out, fmt.Sprintf(
				"mcp_servers.%s.identity (set by %s) has both `command` and `url`; Codex matches on `command` only",
				tomlKey(name), r.Sources[FieldMCPServers]))
		}
	}
	return out
}

// Empty reports whether no known or newer field is set: Codex then has no
// requirements (comment-only and unknown-keys-only documents).
func (r *Requirements) Empty() bool { return r == nil || len(r.Fields) == 0 }

// Validate runs the rules Codex applies after merging. The error is a
// *RequirementsError whose Source is the layer that set the field, or nil.
func (r *Requirements) Validate() error {
	if r == nil {
		return nil
	}
	if err := r.validateMCPServers(); err != nil {
		return err
	}
	if v, ok := r.Fields[FieldApprovalPolicies].([]any); ok && len(v) == 0 {
		return r.ruleError(FieldApprovalPolicies, "[]", "cannot be empty")
	}
	if v, ok := r.Fields[FieldSandboxModes].([]any); ok && !containsValue(v, "read-only") {
		names := make([]string, len(v))
		for i, m := range v {
			names[i] = debugVariant(fmt.Sprint(m))
		}
		return r.ruleError(FieldSandboxModes, compactValue(v),
			"invalid value `[%s]`: must include 'read-only' to allow any SandboxPolicy", clipDisplay(strings.Join(names, ", ")))
	}
	if v, ok := r.Fields[FieldEnforceResidency]; ok && v != "us" {
		return r.ruleError(FieldEnforceResidency, compactValue(v), "unknown variant `%s`, expected `us`", clipDisplay(fmt.Sprint(v)))
	}
	return nil
}

func (r *Requirements) validateMCPServers() *RequirementsError {
	servers, ok := r.Fields[FieldMCPServers].(map[string]any)
	if !ok {
		return nil
	}
	for _, name := range sortedKeys(servers) {
		field := FieldMCPServers + "." + tomlKey(name)
		entry, ok := servers[name].(map[string]any)
		if !ok {
			return r.ruleErrorAt(FieldMCPServers, field, compactValue(servers[name]),
				"invalid type: %s, expected a table with identity = { command = \"…\" } or { url = \"…\" }", describeValue(servers[name]))
		}
		id, ok := entry["identity"]
		if !ok {
			return r.ruleErrorAt(FieldMCPServers, field, compactValue(entry),
				"missing field `identity` (write identity = { command = \"…\" } or { url = \"…\" })")
		}
		idm, ok := id.(map[string]any)
		if !ok {
			return r.ruleErrorAt(FieldMCPServers, field+".identity", compactValue(id),
				"invalid type: %s, expected { command = \"…\" } or { url = \"…\" }", describeValue(id))
		}
		_, cmd := idm["command"].(string)
		_, url := idm["url"].(string)
		if !cmd && !url {
			return r.ruleErrorAt(FieldMCPServers, field+".identity", compactValue(idm),
				"data did not match any variant of untagged enum McpServerIdentity: need command = \"…\" or url = \"…\" (a string)")
		}
	}
	return nil
}

func (r *Requirements) ruleError(field, value, format string, args ...any) *RequirementsError {
	return r.ruleErrorAt(field, field, value, format, args...)
}

func (r *Requirements) ruleErrorAt(field, path, value, format string, args ...any) *RequirementsError {
	return &RequirementsError{
		Source: r.Sources[field],
		Field:  path,
		Value:  clipDisplay(value),
		Msg:    fmt.Sprintf(format, args...),
	}
}

func containsValue(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// debugVariant renders a kebab-case value as Codex's Debug form:
// "workspace-write" → "WorkspaceWrite".
func debugVariant(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// Rows gives one policies-table row per field: the known fields in
// Codex's order, then newer ones alphabetically.
func (r *Requirements) Rows() []PolicyRow {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.Fields))
	for name := range r.Fields {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := fieldRank(names[i]), fieldRank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	rows := make([]PolicyRow, 0, len(names))
	for _, name := range names {
		row := PolicyRow{Field: name, Value: formatField(name, r.Fields[name]), SetBy: r.Sources[name]}
		switch {
		case !isKnownField(name):
			row.Note = "not interpreted by reqdoctor"
		case r.Aliases[name] != "":
			row.Note = "written as `" + r.Aliases[name] + "`"
		}
		rows = append(rows, row)
	}
	return rows
}

func fieldRank(name string) int {
	for i, f := range knownFields {
		if f == name {
			return i
		}
	}
	return len(knownFields)
}

// formatField renders a field's value for the policies table.
func formatField(name string, v any) string {
	switch name {
	case FieldApprovalPolicies, FieldSandboxModes, FieldWebSearchModes:
		list, ok := v.([]any)
		if !ok {
			break
		}
		if len(list) == 0 {
			return "(empty list)"
		}
		parts := make([]string, len(list))
		for i, e := range list {
			if m, ok := e.(map[string]any); ok && len(m) == 1 && m["granular"] != nil {
				parts[i] = "granular" + compactValue(m["granular"])
			} else {
				parts[i] = compactValue(e)
			}
		}
		return strings.Join(parts, ", ")
	case FieldFeatures:
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		parts := []string{}
		for _, k := range sortedKeys(m) {
			val := compactValue(m[k])
			if b, ok := m[k].(bool); ok {
				val = map[bool]string{true: "on", false: "off"}[b]
			}
			parts = append(parts, tomlKey(k)+"="+val)
		}
		return orNone(strings.Join(parts, ", "))
	case FieldMCPServers:
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		parts := []string{}
		for _, k := range sortedKeys(m) {
			parts = append(parts, tomlKey(k)+" "+formatIdentity(m[k]))
		}
		return orNone(strings.Join(parts, ", "))
	}
	if m, ok := v.(map[string]any); ok {
		return orNone(compactEntries(m))
	}
	return compactValue(v)
}

func formatIdentity(entry any) string {
	m, _ := entry.(map[string]any)
	id, _ := m["identity"].(map[string]any)
	if cmd, ok := id["command"].(string); ok {
		return "(command " + compactString(cmd) + ")"
	}
	if url, ok := id["url"].(string); ok {
		return "(url " + compactString(url) + ")"
	}
	return compactValue(entry)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// JSON gives the field → value form used for the JSON report's
// "requirements" object; nil for nil Requirements.
func (r *Requirements) JSON() map[string]any {
	if r == nil {
		return nil
	}
	out := make(map[string]any, len(r.Fields))
	for k, v := range r.Fields {
		out[k] = jsonSafe(v)
	}
	return out
}

// DidYouMean suggests the requirement field an unknown top-level key was
// probably meant to be: a close spelling (edit distance ≤ 3, less for short
// names), or the requirement behind a config.toml key such as
// approval_policy. It returns "" when nothing is close or key is known.
func DidYouMean(key string) string {
	if isKnownField(key) || isNewerField(key) || fieldAliases[key] != "" {
		return ""
	}
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(key), "-", "_"))
	if s, ok := userConfigKeys[norm]; ok {
		return s
	}
	candidates := append(append([]string{}, knownFields...), newerFields...)
	best, bestDist := "", 0
	for _, c := range candidates {
		limit := len(c) / 4
		if limit < 1 {
			limit = 1
		}
		if limit > 3 {
			limit = 3
		}
		// The distance is at least the difference in length; skipping
		// early keeps a megabyte-long key from costing seconds.
		if abs(len(norm)-len(c)) > limit {
			continue
		}
		d := editDistance(norm, c)
		if d <= limit && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		for alias := range fieldAliases {
			if abs(len(norm)-len(alias)) <= 3 && editDistance(norm, alias) <= 3 {
				return fieldAliases[alias]
			}
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance over bytes, with an adjacent
// swap counting as one edit (typos are mostly swaps and drops).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
