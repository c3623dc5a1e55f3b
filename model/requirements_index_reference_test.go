package model

import "github.com/pelletier/go-toml/v2/unstable"

// refIndex is posIndex with the methods indexDocumentReference uses.
type refIndex posIndex

func (x *refIndex) note(path tomlPath, off int) {
	k := path.lookupKey()
	if _, ok := x.start[k]; !ok {
		x.start[k] = off
	}
	if len(path) == 0 || path[len(path)-1].index >= 0 {
		return
	}
	if !x.seen[k] {
		x.seen[k] = true
		parent := path[:len(path)-1].lookupKey()
		x.keys[parent] = append(x.keys[parent], path[len(path)-1].key)
	}
}

// indexDocumentReference is indexDocument as it was; indexDocument must
// give the same index. It walks the document with go-toml's unstable parser and
// records positions by path. [[array tables]] get indexes in order.
func indexDocumentReference(data []byte) (*posIndex, error) {
	x := &refIndex{data: data, start: map[string]int{}, keys: map[string][]string{}, seen: map[string]bool{}}
	arrayCount := map[string]int{} // array table lookupKey → elements so far
	var p unstable.Parser
	p.Reset(data)
	var prefix tomlPath
	deep := false // under a header too deep to index
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys := keyNodes(e)
			deep = len(keys) > maxIndexDepth
			if deep {
				// Keep the top-level key's place in the order; skip the rest.
				x.note(tomlPath{}.key(string(keys[0].Data)), int(keys[0].Raw.Offset))
				continue
			}
			var path tomlPath
			for i, k := range keys {
				path = path.key(string(k.Data))
				x.note(path, int(k.Raw.Offset))
				if i == len(keys)-1 && e.Kind == unstable.ArrayTable {
					n := arrayCount[path.lookupKey()]
					arrayCount[path.lookupKey()] = n + 1
					path = path.at(n)
					x.note(path, int(k.Raw.Offset))
				} else if n, ok := arrayCount[path.lookupKey()]; ok {
					// A header below an array table extends its last element.
					path = path.at(n - 1)
				}
			}
			prefix = path
		case unstable.KeyValue:
			if !deep {
				x.indexKeyValue(prefix, e)
			}
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	return (*posIndex)(x), nil
}

func (x *refIndex) indexKeyValue(prefix tomlPath, kv *unstable.Node) {
	keys := keyNodes(kv)
	if len(prefix)+len(keys) > maxIndexDepth {
		if len(prefix) == 0 {
			x.note(tomlPath{}.key(string(keys[0].Data)), int(keys[0].Raw.Offset))
		}
		return
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
	x.start[path.lookupKey()] = off
	x.indexValue(path, kv.Value(), off)
}

func (x *refIndex) indexValue(path tomlPath, v *unstable.Node, off int) {
	if len(path) >= maxIndexDepth {
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
			x.start[path.at(i).lookupKey()] = coff
			x.indexValue(path.at(i), c, coff)
			i++
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				x.indexKeyValue(path, c)
			}
		}
	}
}
