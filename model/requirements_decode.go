package model

import (
	"strconv"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// decodeStatus says how far fastDecode got with a document.
type decodeStatus uint8

const (
	// decodeOK: the tree is what toml.Unmarshal gives for the document.
	decodeOK decodeStatus = iota
	// decodeInvalid: the document breaks a TOML rule go-toml checks too.
	decodeInvalid
	// decodeUnsure: a construct fastDecode leaves to go-toml.
	decodeUnsure
)

// fastDecode decodes a document into the tree toml.Unmarshal builds into a
// map[string]any, with go-toml's own duplicate and redefinition rules.
// go-toml v2.4.3's tracker of those rules scans every earlier sibling for
// each new key, so a policy of thousands of [mcp_servers.x] tables costs
// quadratic time there; here each check is a map lookup. Only decodeOK
// results may be used: for anything else the caller runs toml.Unmarshal,
// which words the error exactly as before. FuzzParseFastMatchesGoToml
// holds the two to the same answers.
func fastDecode(data []byte) (map[string]any, decodeStatus) {
	n := sizeHint(data)
	d := fastDecoder{
		entries: append(make([]seenEntry, 0, n), seenEntry{kind: seenTable}),
		index:   make(map[seenKey]int32, n),
		root:    map[string]any{},
	}
	d.cur = d.root
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		if st := d.expression(p.Expression()); st != decodeOK {
			return nil, st
		}
	}
	if p.Error() != nil {
		return nil, decodeInvalid
	}
	return d.root, decodeOK
}

// seenKind mirrors the kinds of go-toml's internal tracker.SeenTracker.
type seenKind uint8

const (
	seenValue      seenKind = iota + 1 // scalar, array or inline table: closed
	seenKVTable                        // made by a dotted key
	seenTable                          // made by a [header], or on the way to one
	seenArrayTable                     // [[header]]
	seenAnonymous                      // a container inside an array: no name
)

type seenEntry struct {
	kind     seenKind
	explicit bool // a table defined by its own header
}

type seenKey struct {
	parent int32
	name   string
}

// fastDecoder is SeenTracker with the sibling scan replaced by a map keyed
// by (parent, name), plus the tree building of go-toml's generic decoder.
// Where SeenTracker clears the descendants of an array table for its next
// element, the table gets a fresh id here, which orphans them the same way.
type fastDecoder struct {
	entries []seenEntry
	index   map[seenKey]int32
	current int32 // the entry key-values go under
	root    map[string]any
	cur     map[string]any // the map key-values go into
	parts   []string
}

func (d *fastDecoder) find(parent int32, name string) int32 {
	if i, ok := d.index[seenKey{parent, name}]; ok {
		return i
	}
	return -1
}

func (d *fastDecoder) create(parent int32, name string, kind seenKind, explicit bool) int32 {
	id := int32(len(d.entries))
	d.entries = append(d.entries, seenEntry{kind: kind, explicit: explicit})
	if kind != seenAnonymous {
		d.index[seenKey{parent, name}] = id
	}
	return id
}

func (d *fastDecoder) keyParts(n *unstable.Node) []string {
	d.parts = d.parts[:0]
	it := n.Key()
	for it.Next() {
		d.parts = append(d.parts, string(it.Node().Data))
	}
	return d.parts
}

func (d *fastDecoder) expression(e *unstable.Node) decodeStatus {
	switch e.Kind {
	case unstable.Table:
		parts := d.keyParts(e)
		if len(parts) == 0 || !d.checkTable(parts) {
			return decodeInvalid
		}
		cur := d.root
		for _, name := range parts {
			cur = childTable(cur, name)
		}
		d.cur = cur
	case unstable.ArrayTable:
		parts := d.keyParts(e)
		first, ok := d.checkArrayTable(parts)
		if len(parts) == 0 || !ok {
			return decodeInvalid
		}
		cur := d.root
		for _, name := range parts[:len(parts)-1] {
			cur = childTable(cur, name)
		}
		last := parts[len(parts)-1]
		s, _ := cur[last].([]any)
		if first {
			s = s[:0]
		}
		elem := map[string]any{}
		cur[last] = append(s, elem)
		d.cur = elem
	case unstable.KeyValue:
		parts := d.keyParts(e)
		if len(parts) == 0 {
			return decodeInvalid
		}
		leaf, ok := d.checkKeyValue(d.current, parts)
		if !ok {
			return decodeInvalid
		}
		v := e.Value()
		if st := d.checkValue(leaf, v); st != decodeOK {
			return st
		}
		av, st := decodeValue(v)
		if st != decodeOK {
			return st
		}
		cur := d.cur
		for _, name := range parts[:len(parts)-1] {
			cur = childTable(cur, name)
		}
		cur[parts[len(parts)-1]] = av
	default:
		return decodeUnsure
	}
	return decodeOK
}

// checkTable is SeenTracker.CheckTable.
func (d *fastDecoder) checkTable(parts []string) bool {
	parent := int32(0)
	for k, name := range parts {
		i := d.find(parent, name)
		if k == len(parts)-1 {
			if i < 0 {
				d.current = d.create(parent, name, seenTable, true)
				return true
			}
			e := &d.entries[i]
			if e.kind != seenTable || e.explicit {
				return false
			}
			e.explicit = true
			d.current = i
			return true
		}
		if i < 0 {
			i = d.create(parent, name, seenTable, false)
		} else if !d.intermediate(i) {
			return false
		}
		parent = i
	}
	return false
}

// checkArrayTable is SeenTracker.CheckArrayTable: ok, and whether the
// array table is new.
func (d *fastDecoder) checkArrayTable(parts []string) (first, ok bool) {
	parent := int32(0)
	for k, name := range parts {
		i := d.find(parent, name)
		if k == len(parts)-1 {
			if i < 0 {
				d.current = d.create(parent, name, seenArrayTable, true)
				return true, true
			}
			if d.entries[i].kind != seenArrayTable {
				return false, false
			}
			// A new element: what was below the last one is forgotten.
			d.current = d.create(parent, name, seenArrayTable, d.entries[i].explicit)
			return false, true
		}
		if i < 0 {
			i = d.create(parent, name, seenTable, false)
		} else if !d.intermediate(i) {
			return false, false
		}
		parent = i
	}
	return false, false
}

// intermediate reports whether a header may pass through entry i.
func (d *fastDecoder) intermediate(i int32) bool {
	switch d.entries[i].kind {
	case seenTable, seenArrayTable, seenKVTable:
		return true
	}
	return false
}

// checkKeyValue is SeenTracker.checkKeyValue without the value; it gives
// the leaf's id.
func (d *fastDecoder) checkKeyValue(parent int32, parts []string) (int32, bool) {
	for k, name := range parts {
		i := d.find(parent, name)
		if k == len(parts)-1 {
			if i >= 0 {
				return -1, false
			}
			return d.create(parent, name, seenValue, false), true
		}
		if i < 0 {
			i = d.create(parent, name, seenKVTable, false)
		} else if d.entries[i].kind != seenKVTable {
			return -1, false
		}
		parent = i
	}
	return -1, false
}

// checkValue is SeenTracker.checkValue: no key twice in an inline table,
// however deep inside arrays and inline tables.
func (d *fastDecoder) checkValue(id int32, v *unstable.Node) decodeStatus {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				return decodeUnsure
			}
			leaf, ok := d.checkKeyValue(id, d.keyPartsOf(kv))
			if !ok {
				return decodeInvalid
			}
			if st := d.checkValue(leaf, kv.Value()); st != decodeOK {
				return st
			}
		}
	case unstable.Array:
		it := v.Children()
		for it.Next() {
			elem := it.Node()
			if elem.Kind == unstable.InlineTable || elem.Kind == unstable.Array {
				if st := d.checkValue(d.create(id, "", seenAnonymous, false), elem); st != decodeOK {
					return st
				}
			}
		}
	}
	return decodeOK
}

// keyPartsOf is keyParts into a fresh slice, for the recursion of
// checkValue.
func (d *fastDecoder) keyPartsOf(n *unstable.Node) []string {
	var parts []string
	it := n.Key()
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// childTable is go-toml's anyChildTable: the table at name, made if absent,
// or the last element of an array of tables there.
func childTable(cur map[string]any, name string) map[string]any {
	switch v := cur[name].(type) {
	case map[string]any:
		return v
	case []any:
		if len(v) > 0 {
			if last, ok := v[len(v)-1].(map[string]any); ok {
				return last
			}
		}
	}
	m := map[string]any{}
	cur[name] = m
	return m
}

// decodeValue is go-toml's decodeAny.
func decodeValue(n *unstable.Node) (any, decodeStatus) {
	switch n.Kind {
	case unstable.String:
		return string(n.Data), decodeOK
	case unstable.Bool:
		if len(n.Data) == 0 {
			return nil, decodeUnsure
		}
		return n.Data[0] == 't', decodeOK
	case unstable.Integer:
		if i, ok := plainInt(n.Data); ok {
			return i, decodeOK
		}
		return scalarByGoToml(n.Data)
	case unstable.Float, unstable.DateTime, unstable.LocalDateTime, unstable.LocalDate, unstable.LocalTime:
		return scalarByGoToml(n.Data)
	case unstable.Array:
		count := 0
		it := n.Children()
		for it.Next() {
			if it.Node().Kind != unstable.Comment {
				count++
			}
		}
		out := make([]any, 0, count)
		it = n.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			v, st := decodeValue(c)
			if st != decodeOK {
				return nil, st
			}
			out = append(out, v)
		}
		return out, decodeOK
	case unstable.InlineTable:
		count := 0
		it := n.Children()
		for it.Next() {
			count++
		}
		m := make(map[string]any, count)
		it = n.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				return nil, decodeUnsure
			}
			// go-toml's setAnyKey: dotted keys make or enter tables.
			cur := m
			var name string
			kit := kv.Key()
			for kit.Next() {
				part := string(kit.Node().Data)
				if kit.IsLast() {
					name = part
					break
				}
				cur = childTable(cur, part)
			}
			v, st := decodeValue(kv.Value())
			if st != decodeOK {
				return nil, st
			}
			cur[name] = v
		}
		return m, decodeOK
	}
	return nil, decodeUnsure
}

// plainInt decodes a decimal integer of at most 18 digits without
// underscores or leading zeros: it cannot overflow, and go-toml reads it
// the same way. Anything else goes to scalarByGoToml.
func plainInt(b []byte) (int64, bool) {
	digits := b
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(string(b), 10, 64)
	return i, err == nil
}

// scalarByGoToml decodes one number or datetime with go-toml itself, so
// that its reading of the many TOML spellings is kept exactly.
func scalarByGoToml(raw []byte) (any, decodeStatus) {
	doc := make([]byte, 0, len(raw)+5)
	doc = append(doc, "v = "...)
	doc = append(doc, raw...)
	doc = append(doc, '\n')
	var m map[string]any
	if err := toml.Unmarshal(doc, &m); err != nil {
		return nil, decodeInvalid
	}
	v, ok := m["v"]
	if !ok || len(m) != 1 {
		return nil, decodeUnsure
	}
	switch v.(type) {
	case string, bool, []any, map[string]any:
		// Not a scalar of the kind the parser saw: leave it to go-toml.
		return nil, decodeUnsure
	}
	return v, decodeOK
}
