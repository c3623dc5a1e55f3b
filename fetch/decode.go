package fetch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/reqdoctor/reqdoctor/model"
)

// DecodeError says why a 2xx body is not what Codex expects. Codex retries
// on both kinds.
type DecodeError struct {
	Class string // "bad_json" or "wrong_shape"
	Msg   string
}

func (e *DecodeError) Error() string { return e.Msg }

// Decode reads a successful response body of protocol p the way Codex
// does: unknown fields are ignored, a field of the wrong type fails.
func Decode(p model.Protocol, body []byte) (*Payload, error) {
	top, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	if p == model.ProtocolRequirements {
		return decodeRequirements(top)
	}
	return decodeBundle(top)
}

// decodeObject checks that body is JSON and that its top level is an
// object, returning the object's members.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &DecodeError{Class: "bad_json", Msg: "body is empty, expected JSON"}
	}
	if !json.Valid(body) {
		// Only now build a value, for the error's position and wording.
		var v any
		err := json.Unmarshal(body, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, &DecodeError{Class: "bad_json", Msg: "body is not JSON: " + jsonErrText(body, err)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, &DecodeError{Class: "wrong_shape", Msg: "body is JSON " + jsonKind(bytes.TrimSpace(body)) + ", expected an object"}
	}
	return top, nil
}

// jsonErrText names a syntax error's position as line:column.
func jsonErrText(body []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(body, int(se.Offset))
		return fmt.Sprintf("%s at line %d, column %d", se.Error(), line, col)
	}
	return err.Error()
}

// lineCol converts a byte offset (the one after the bad byte, as
// encoding/json reports) into a 1-based line and column.
func lineCol(body []byte, off int) (int, int) {
	if off > len(body) {
		off = len(body)
	}
	if off > 0 {
		off-- // point at the offending byte
	}
	line := 1 + bytes.Count(body[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(body[:off], '\n')
	return line, col
}

// jsonKind names the type of a raw JSON value.
func jsonKind(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func shapeErr(field, got, want string) error {
	return &DecodeError{Class: "wrong_shape", Msg: fmt.Sprintf("`%s` is %s, expected %s", field, got, want)}
}

func decodeRequirements(top map[string]json.RawMessage) (*Payload, error) {
	p := &Payload{}
	// Codex decodes the whole response: every field is an optional
	// string, and one of another type fails the decode (and is retried),
	// even though only contents is used.
	for _, field := range []string{"contents", "sha256", "updated_at", "updated_by_user_id"} {
		raw, ok := top[field]
		if !ok || isNull(raw) {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, shapeErr(field, jsonKind(raw), "a string or null")
		}
		if field == "contents" {
			p.Contents = &s
		}
	}
	return p, nil
}

func decodeBundle(top map[string]json.RawMessage) (*Payload, error) {
	p := &Payload{}
	_, hasCfg := top["config_toml"]
	_, hasReq := top["requirements_toml"]
	if !hasCfg && !hasReq {
		// The requirements generation's shape; a bundle Codex finds neither
		// of its keys and reads it as no requirements, without a word.
		_, p.LegacyShape = top["contents"]
		return p, nil
	}
	var err error
	if p.ConfigFragments, err = decodeSection(top, "config_toml"); err != nil {
		return nil, err
	}
	if p.RequirementsFragments, err = decodeSection(top, "requirements_toml"); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeSection reads top[key] = null | {"enterprise_managed": null | [Fragment]}.
func decodeSection(top map[string]json.RawMessage, key string) ([]model.Fragment, error) {
	raw, ok := top[key]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var sec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sec); err != nil || sec == nil {
		return nil, shapeErr(key, jsonKind(raw), "an object or null")
	}
	field := key + ".enterprise_managed"
	rawList, ok := sec["enterprise_managed"]
	if !ok || isNull(rawList) {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(rawList, &list); err != nil {
		return nil, shapeErr(field, jsonKind(rawList), "an array or null")
	}
	var frags []model.Fragment
	for i, rawFrag := range list {
		at := fmt.Sprintf("%s[%d]", field, i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(rawFrag, &obj); err != nil || obj == nil {
			return nil, shapeErr(at, jsonKind(rawFrag), "an object with id, name and contents")
		}
		var f model.Fragment
		for _, m := range []struct {
			name     string
			dst      *string
			required bool
		}{{"id", &f.ID, false}, {"name", &f.Name, false}, {"contents", &f.Contents, true}} {
			v, ok := obj[m.name]
			if !ok || isNull(v) {
				if m.required {
					what := "missing"
					if ok {
						what = "null"
					}
					return nil, &DecodeError{Class: "wrong_shape", Msg: fmt.Sprintf("`%s.%s` is %s, expected a string", at, m.name, what)}
				}
				continue
			}
			if err := json.Unmarshal(v, m.dst); err != nil {
				return nil, shapeErr(at+"."+m.name, jsonKind(v), "a string")
			}
		}
		frags = append(frags, f)
	}
	return frags, nil
}

// describeDecodeErr is the one-line text of a decode failure for an
// attempt record; it never contains body text beyond what Sanitize allows.
func describeDecodeErr(err error) (class, msg string) {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Class, Sanitize(strings.TrimSpace(de.Msg), 300)
	}
	return "bad_json", Sanitize(err.Error(), 300)
}
