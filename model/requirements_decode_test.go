package model

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/reqdoctor/reqdoctor/bench/benchdata"
)

// fastDecode must never accept a document toml.Unmarshal rejects, must
// give the same tree for those it accepts, and must only call a document
// invalid when toml.Unmarshal rejects it too. decodeUnsure is free: the
// caller then asks go-toml.

// semanticSeeds are TOML's semantic rules as go-toml v2.4.3 applies them:
// duplicates, redefinitions, dotted keys, arrays of tables.
var semanticSeeds = []string{
	"a = 1\na = 2\n",
	"a = 1\nA = 2\n",
	"a.b = 1\na.b = 2\n",
	"a.b = 1\na.c = 2\n",
	"a.b = 1\na = 2\n",
	"a = 1\na.b = 2\n",
	"a = {}\na.b = 1\n",
	"a = { b = 1 }\n[a.c]\n",
	"a = { b = 1 }\n[a]\n",
	"a = [1]\n[[a]]\n",
	"a = [{ b = 1 }]\n[a.c]\nfoo = 1\n",
	"[a]\n[a]\n",
	"[a]\nb = 1\n[a.c]\n[a]\n",
	"[a.b]\n[a]\n",
	"[a.b]\n[a]\n[a]\n",
	"[a.b]\nc = 1\n[a]\nb.d = 1\n",
	"[a]\nb.c = 1\n[a.b]\n",
	"[a]\nb.c = 1\n[a.b.d]\ne = 1\n",
	"[a]\nb.c = 1\n[a.b.c]\n",
	"[a]\n[[a]]\n",
	"[[a]]\n[a]\n",
	"[[a]]\n[[a]]\n[a.b]\nc = 1\n",
	"[[a]]\nb = 1\n[[a]]\nb = 2\n",
	"[[a]]\n[a.b]\n[[a]]\n[a.b]\n",
	"[[a]]\n[a.b]\n[a.b]\n",
	"[[a]]\n[[a.b]]\n[[a]]\n[[a.b]]\n[[a.b]]\n",
	"[[a.b]]\n[a]\nc = 1\n",
	"[[a.b]]\n[[a]]\n",
	"[[tab.arr]]\n[tab]\narr.val1=1\n",
	"[a]\nb = [{c = 1}, {c = 2}]\n[a.b.d]\n",
	"x = { a = 1, a = 2 }\n",
	"x = { a.b = 1, a.c = 2 }\n",
	"x = { a.b = 1, a = 2 }\n",
	"x = { a = { b = 1 }, a.c = 2 }\n",
	"x = [{ a = 1, a = 2 }]\n",
	"x = [[{ a = 1 }], [{ a = 1, b = { c = 1, c = 2 } }]]\n",
	"x = [{ a = 1 }, { a = 1 }]\n",
	"x = {\n a = 1,\n b = 2,\n}\n",
	"\"a\" = 1\na = 2\n",
	"'a.b' = 1\na.b = 2\n",
	"a.\"b.c\" = 1\n[a.\"b.c\"]\n",
	"[\"\"]\n\"\" = 1\n",
	"[a]\n[b]\n[a.c]\n[b.c]\n[a.c]\n",
	"n = 0\nm = -0\np = +99\nq = 1_000\nr = 0x1F\ns = 0o17\nt = 0b11\nu = 9223372036854775807\nv = 9223372036854775808\n",
	"n = 07\n", "n = 1__0\n", "n = _1\n", "n = +0x1\n", "n = 999999999999999999\n", "n = -999999999999999999\n",
	"f = 1.5\ng = -0.0\nh = 1e10\ni = nan\nj = +inf\nk = -nan\nl = 1e400\nm = 1.\nn = .5\n",
	"d = 1979-05-27\nt = 07:32:00\nu = 07:32\ndt = 1979-05-27T07:32:00\nz = 1979-05-27T07:32:00Z\no = 1979-05-27 07:32:00.999999-07:00\n",
	"d = 1979-02-30\n", "t = 24:00:00\n", "t = 23:59:60\n", "dt = 1979-05-27T07:32:00.123456789123\n",
	"b = true\nc = false\n", "b = tru\n", "b = True\n",
	"s = \"\\u00e9\\e\\x41\"\nl = '''\nraw\n'''\nm = \"\"\"\\\n  x\"\"\"\n",
	"s = \"\\ud800\"\n", "s = \"a\x00b\"\n", "s = \"\xff\"\n",
	"a = 1 # c\n# c\n[b] # c\nc = [ # c\n 1, # c\n]\n",
	"a = 1\r\nb = 2\r\n", "a = 1\rb = 2\n",
	"[mcp_servers.a]\nidentity = { command = \"x\" }\n[mcp_servers.b]\nidentity = { url = \"u\" }\n[mcp_servers.a]\n",
	"[mcp_servers.a.identity]\ncommand = \"x\"\n[mcp_servers.a]\nidentity.url = \"u\"\n",
	"\ufeffa = 1\n", "\ufeff[a]\nb=1\n", "a = { # c\n b = 1, # d\n}\n", "a = [\n# c\n{b=1},\n]\n",
	"a = {b=1,}\n", "a = {,}\n", "a = {\n}\n", "[ a . b ]\n[a]\n", "a . b = 1\n", "[[ a ]]\n[[a]]\n",
	"a = 0.0\nb = -0.0\nc = 1e-400\n", "a = 1979-05-27T07:32:00+00:00\nb = 1979-05-27t07:32:00z\n",
	"a = 2000-02-29\nb = 1900-02-29\n", "a = 00:00:00.1234567891234\n", "a = -9223372036854775808\nb = -9223372036854775809\n",
	"a = 0_0\n", "a = 1_2_3\n", "a = 0x_1\n", "a = 0xffffffffffffffff\n", "a = 0o777777777777777777777\n",
	"a = \"\"\"\na\"\"\"\"\n", "a = '''a''''\n", "a.b.c = 1\n[a.b.d]\n[a.b]\n", "[a.b.d]\n[a.b]\nc.e=1\n[a.b.c.f]\n",
	"x = [[1,2],[3]]\ny = [{a.b=1},{a.b=2}]\n", "x = []\n[[x]]\n", "[x]\n[[x.y]]\n[x.y.z]\n[[x.y]]\n[x.y.z]\n",
}

// conformanceInputs are the documents of toml-test v2.1.0 and the corner
// cases as go-toml v2.4.3's own tests carry them (testdata/
// toml_conformance_inputs.json), valid and invalid, plus their expected
// JSON (not TOML: more rejections to agree on).
func conformanceInputs(t testing.TB) []string {
	b, err := os.ReadFile(filepath.Join("testdata", "toml_conformance_inputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// fuzzCorpusInputs reads the string seeds of a fuzz target's corpus.
func fuzzCorpusInputs(t testing.TB, target string) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a one-value corpus file", file)
		}
		lit, ok := strings.CutPrefix(lines[1], "string(")
		if !ok {
			t.Fatalf("%s: not a string value", file)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("no corpus for %s", target)
	}
	return out
}

func fixtureInputs(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "requirements", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []string
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func differentialInputs(t testing.TB) []string {
	in := append([]string{}, semanticSeeds...)
	in = append(in, requirementsSeeds()...)
	in = append(in, fixtureInputs(t)...)
	in = append(in, fuzzCorpusInputs(t, "FuzzParseRequirements")...)
	in = append(in, conformanceInputs(t)...)
	in = append(in, benchdata.Requirements(50))
	for _, f := range benchdata.Fragments(4, 40) {
		in = append(in, f.Contents)
	}
	return in
}

// checkFastMatchesGoToml fails when fastDecode disagrees with go-toml on
// data, and reports what fastDecode made of it.
func checkFastMatchesGoToml(t *testing.T, data []byte) decodeStatus {
	t.Helper()
	got, status := fastDecode(data)
	var want map[string]any
	err := toml.Unmarshal(data, &want)
	switch status {
	case decodeOK:
		if err != nil {
			t.Fatalf("fastDecode accepts %q, go-toml rejects it: %v", data, err)
		}
		if diff := treeDiff("", got, want); diff != "" {
			t.Fatalf("fastDecode of %q differs from go-toml: %s", data, diff)
		}
	case decodeInvalid:
		if err == nil {
			t.Fatalf("fastDecode rejects %q, go-toml accepts it", data)
		}
	case decodeUnsure:
	default:
		t.Fatalf("status %d", status)
	}
	idx, ierr := indexDocument(data)
	ref, rerr := indexDocumentReference(data)
	if (ierr == nil) != (rerr == nil) || (ierr != nil && ierr.Error() != rerr.Error()) {
		t.Fatalf("indexDocument of %q: error %v, reference %v", data, ierr, rerr)
	}
	if ierr == nil {
		if diff := indexDiff(idx, ref); diff != "" {
			t.Fatalf("indexDocument of %q differs from the reference: %s", data, diff)
		}
	}
	return status
}

// treeDiff compares decoded trees exactly: the same Go types, NaN equal to
// NaN of the same bits, times equal to the nanosecond and in offset.
func treeDiff(path string, got, want any) string {
	if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
		return fmt.Sprintf("%s: %T %v, want %T %v", path, got, got, want, want)
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %d keys %v, want %d %v", path, len(g), sortedKeys(g), len(w), sortedKeys(w))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s: no key %q", path, k)
			}
			if d := treeDiff(path+"."+k, gv, wv); d != "" {
				return d
			}
		}
	case []any:
		g := got.([]any)
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %d elements, want %d", path, len(g), len(w))
		}
		for i := range w {
			if d := treeDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
	case float64:
		if math.Float64bits(got.(float64)) != math.Float64bits(w) {
			return fmt.Sprintf("%s: %v, want %v", path, got, w)
		}
	case time.Time:
		g := got.(time.Time)
		_, goff := g.Zone()
		_, woff := w.Zone()
		if !g.Equal(w) || goff != woff || g.String() != w.String() {
			return fmt.Sprintf("%s: %v, want %v", path, g, w)
		}
	default:
		if got != want {
			return fmt.Sprintf("%s: %#v, want %#v", path, got, want)
		}
	}
	return ""
}

func indexDiff(got, want *posIndex) string {
	if len(got.start) != len(want.start) {
		return fmt.Sprintf("%d positions, want %d", len(got.start), len(want.start))
	}
	for k, w := range want.start {
		if g, ok := got.start[k]; !ok || g != w {
			return fmt.Sprintf("position of %q: %d (%t), want %d", k, g, ok, w)
		}
	}
	if len(got.keys) != len(want.keys) {
		return fmt.Sprintf("%d tables, want %d", len(got.keys), len(want.keys))
	}
	for k, w := range want.keys {
		if g := got.keys[k]; strings.Join(g, "\x00") != strings.Join(w, "\x00") || len(g) != len(w) {
			return fmt.Sprintf("keys of %q: %q, want %q", k, g, w)
		}
	}
	return ""
}

func TestFastDecodeMatchesGoToml(t *testing.T) {
	counts := map[decodeStatus]int{}
	for _, in := range differentialInputs(t) {
		counts[checkFastMatchesGoToml(t, []byte(in))]++
	}
	// Guard against a fastDecode that gives up on everything.
	if counts[decodeOK] < 300 || counts[decodeInvalid] < 600 {
		t.Fatalf("too few decided documents: %d accepted, %d rejected, %d left to go-toml",
			counts[decodeOK], counts[decodeInvalid], counts[decodeUnsure])
	}
	t.Logf("%d accepted, %d rejected, %d left to go-toml", counts[decodeOK], counts[decodeInvalid], counts[decodeUnsure])
}

// TestParseRequirementsFastMatchesGoToml runs ParseRequirements both ways:
// the same Layer or the same error.
func TestParseRequirementsFastMatchesGoToml(t *testing.T) {
	for _, in := range differentialInputs(t) {
		checkParseMatchesReference(t, in)
	}
}

func checkParseMatchesReference(t *testing.T, in string) {
	t.Helper()
	got, gerr := ParseRequirements(in, CloudRequirementsSource)
	want, werr := parseRequirementsReference(in, CloudRequirementsSource)
	if fmt.Sprintf("%#v", gerr) != fmt.Sprintf("%#v", werr) {
		t.Fatalf("ParseRequirements(%q): error %#v, reference %#v", in, gerr, werr)
	}
	if gerr != nil {
		return
	}
	gj, _ := json.Marshal(layerForCompare(got))
	wj, _ := json.Marshal(layerForCompare(want))
	if string(gj) != string(wj) {
		t.Fatalf("ParseRequirements(%q):\n%s\nreference:\n%s", in, gj, wj)
	}
}

func layerForCompare(l *Layer) any {
	fields := map[string]any{}
	for k, v := range l.Fields {
		fields[k] = fmt.Sprintf("%#v", jsonSafe(v)) // keeps Go types apart
	}
	return []any{l.Source, fields, l.Order, l.Aliases, l.Unknown, l.NotInterpreted}
}

// FuzzParseFastMatchesGoToml holds fastDecode to go-toml's answers, and
// ParseRequirements to what it gave with go-toml alone.
func FuzzParseFastMatchesGoToml(f *testing.F) {
	for _, in := range differentialInputs(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkFastMatchesGoToml(t, []byte(doc))
		checkParseMatchesReference(t, doc)
	})
}

// parseRequirementsReference is ParseRequirements as it was with
// toml.Unmarshal as its decoder and indexDocumentReference as its index.
func parseRequirementsReference(contents, source string) (*Layer, error) {
	layer := &Layer{Source: source, Fields: map[string]any{}}
	if strings.TrimSpace(contents) == "" {
		return layer, nil
	}
	data := []byte(contents)
	if e := checkTOMLLimits(data); e != nil {
		e.Source = source
		return nil, e
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, tomlError(err, source)
	}
	idx, err := indexDocumentReference(data)
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
		layer.Fields[name] = toJSONValue(v)
		layer.Order = append(layer.Order, name)
	}
	return layer, nil
}
