package model

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Sentinel problems of readRegularFile; callers word them for their file.
var (
	errIsDir    = errors.New("is a directory, not a file")
	errTooLarge = errors.New("file too large")
)

// readRegularFile reads at most limit bytes of path, following symlinks.
// It refuses what is not a regular file before reading it: a named pipe
// would block the open until a writer appears, and /dev/zero or
// /dev/urandom never end. The open is non-blocking in case the path is
// swapped for a pipe between the check and the open. Errors are
// errIsDir, errTooLarge (more than limit bytes), an error wrapping
// fs.ErrNotExist, or the cause without the path, which callers name.
func readRegularFile(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, unwrapPathErr(err)
	}
	if err := checkRegular(info); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, unwrapPathErr(err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil {
		if err := checkRegular(info); err != nil {
			return nil, err
		}
	}
	// One byte past the limit tells "at the limit" from "over it",
	// whatever Stat said (the file may grow in between).
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

func checkRegular(info fs.FileInfo) error {
	m := info.Mode()
	switch {
	case m.IsDir():
		return errIsDir
	case m.IsRegular():
		return nil
	case m&fs.ModeNamedPipe != 0:
		return errors.New("is a named pipe (FIFO), not a regular file; reqdoctor does not read it")
	case m&fs.ModeSocket != 0:
		return errors.New("is a socket, not a regular file; reqdoctor does not read it")
	case m&fs.ModeCharDevice != 0:
		return errors.New("is a character device, not a regular file; reqdoctor does not read it")
	case m&fs.ModeDevice != 0:
		return errors.New("is a device, not a regular file; reqdoctor does not read it")
	}
	return errors.New("is not a regular file; reqdoctor does not read it")
}

// Limits on TOML documents. go-toml caps arrays and inline tables at
// 10 000 levels but not tables nested through headers or dotted keys, and
// its decoder takes time quadratic in the keys of one table. Real
// requirements and config files are a few levels deep with at most a few
// hundred keys, so documents beyond these limits are refused up front
// rather than left to hang reqdoctor.
const (
	maxTOMLDepth = 128
	maxTOMLKeys  = 20000
)

// checkTOMLLimits walks data with go-toml's parser and reports the first
// place that nests deeper than maxTOMLDepth or sets more than maxTOMLKeys
// keys (in the document, or in one inline table). Syntax errors are left to
// the decoder, which words them better: the result is then nil.
func checkTOMLLimits(data []byte) *RequirementsError {
	var p unstable.Parser
	p.Reset(data)
	prefix := 0 // depth of the current [table] header
	count := 0
	at := func(n *unstable.Node, format string, args ...any) *RequirementsError {
		e := &RequirementsError{Msg: fmt.Sprintf(format, args...)}
		if n != nil && n.Raw.Length > 0 {
			if off := int(n.Raw.Offset); off <= len(data) {
				e.Line, e.Column = offsetPosition(data, off)
			}
		}
		return e
	}
	tooDeep := func(n *unstable.Node) *RequirementsError {
		return at(n, "nested more than %d levels deep (tables, dotted keys, arrays and inline tables together); reqdoctor does not read documents this deep", maxTOMLDepth)
	}
	// value walks v at depth; pos is the nearest node with a position,
	// as arrays carry none of their own.
	var value func(v *unstable.Node, depth int, pos *unstable.Node) *RequirementsError
	keyValue := func(kv *unstable.Node, depth int) *RequirementsError {
		it := kv.Key()
		var last *unstable.Node
		for it.Next() {
			last = it.Node()
			if depth++; depth > maxTOMLDepth {
				return tooDeep(last)
			}
		}
		return value(kv.Value(), depth, last)
	}
	value = func(v *unstable.Node, depth int, pos *unstable.Node) *RequirementsError {
		if v == nil {
			return nil
		}
		if v.Raw.Length > 0 {
			pos = v
		}
		switch v.Kind {
		case unstable.Array, unstable.InlineTable:
			// An array is a level; an inline table's keys are its levels,
			// as with dotted keys.
			if v.Kind == unstable.Array {
				if depth++; depth > maxTOMLDepth {
					return tooDeep(pos)
				}
			}
			n := 0
			it := v.Children()
			for it.Next() {
				c := it.Node()
				var err *RequirementsError
				switch {
				case c.Kind == unstable.Comment:
					continue
				case c.Kind == unstable.KeyValue:
					if n++; n > maxTOMLKeys {
						return at(c, "an inline table sets more than %d keys; reqdoctor does not read documents this large", maxTOMLKeys)
					}
					err = keyValue(c, depth)
				default:
					err = value(c, depth, pos)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable, unstable.KeyValue:
		default:
			continue
		}
		if count++; count > maxTOMLKeys {
			return at(firstKey(e), "sets more than %d keys and tables; reqdoctor does not read documents this large", maxTOMLKeys)
		}
		if e.Kind == unstable.KeyValue {
			if err := keyValue(e, prefix); err != nil {
				return err
			}
			continue
		}
		prefix = 0
		it := e.Key()
		for it.Next() {
			if prefix++; prefix > maxTOMLDepth {
				return tooDeep(it.Node())
			}
		}
	}
	return nil
}

func firstKey(n *unstable.Node) *unstable.Node {
	if it := n.Key(); it.Next() {
		return it.Node()
	}
	return nil
}
