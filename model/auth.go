package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// AuthFileName is the credentials file inside CODEX_HOME.
const AuthFileName = "auth.json"

// MaxAuthFileSize caps how much of auth.json reqdoctor reads.
const MaxAuthFileSize = 1 << 20

// Kinds of AuthError.
const (
	AuthMissing    = "missing"    // the file does not exist
	AuthUnreadable = "unreadable" // permission, a directory, too big
	AuthInvalid    = "invalid"    // empty, not JSON, wrong types
)

// AuthError is an auth.json Codex could not load. It never contains a
// secret.
type AuthError struct {
	Path   string
	Kind   string // AuthMissing, AuthUnreadable or AuthInvalid
	Msg    string
	Line   int // 1-based; 0 when unknown
	Column int
}

func (e *AuthError) Error() string { return formatLocated(e.Path, e.Line, e.Column, e.Msg) }

// LoadAuth reads and decodes an auth.json (see ParseAuth). now decides
// Auth.AccessExpired.
func LoadAuth(path string, now time.Time) (*Auth, error) {
	data, err := readRegularFile(path, MaxAuthFileSize)
	switch {
	case err == nil:
		return ParseAuth(data, path, now)
	case errors.Is(err, fs.ErrNotExist):
		return nil, &AuthError{Path: path, Kind: AuthMissing, Msg: "file does not exist"}
	case errors.Is(err, errTooLarge):
		return nil, &AuthError{Path: path, Kind: AuthUnreadable, Msg: "file is larger than 1 MiB; reqdoctor does not read it"}
	case errors.Is(err, errIsDir):
		return nil, &AuthError{Path: path, Kind: AuthUnreadable, Msg: err.Error()}
	}
	return nil, &AuthError{Path: path, Kind: AuthUnreadable, Msg: "cannot read: " + err.Error()}
}

// ParseAuth decodes auth.json content as Codex's serde does: unknown keys
// are ignored, known keys of the wrong type make the file invalid, as does
// an unknown auth_mode. When auth_mode is absent the mode is API key if
// OPENAI_API_KEY is a string, else ChatGPT. Token problems that Codex would
// reject the login for (see Usable) are recorded, not returned.
func ParseAuth(data []byte, path string, now time.Time) (*Auth, error) {
	invalid := func(off int, format string, args ...any) error {
		e := &AuthError{Path: path, Kind: AuthInvalid, Msg: fmt.Sprintf(format, args...)}
		if off >= 0 {
			e.Line, e.Column = offsetToLineCol(data, off+1)
		}
		return e
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, invalid(-1, "file is empty")
	}
	// A RawMessage validates the whole input without building it in
	// memory.
	var probe json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			e := &AuthError{Path: path, Kind: AuthInvalid, Msg: "not valid JSON: " + se.Error()}
			e.Line, e.Column = syntaxErrorPos(data, se)
			return nil, e
		}
		return nil, invalid(-1, "not valid JSON: %v", err)
	}
	if trimmed[0] != '{' {
		return nil, invalid(bytes.Index(data, trimmed[:1]), "auth.json must be a JSON object, got %s", jsonKind(trimmed))
	}
	fields, err := jsonObjectFields(data, 0)
	if err != nil {
		return nil, invalid(-1, "not valid JSON: %v", err)
	}
	a := &Auth{Path: path}
	seen := map[string]bool{}
	var modeRaw *jsonField
	for i := range fields {
		f := &fields[i]
		switch f.Name {
		case "auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh":
		default:
			continue // Codex ignores unknown keys
		}
		if seen[f.Name] {
			return nil, invalid(f.Offset, "duplicate field `%s`", f.Name)
		}
		seen[f.Name] = true
		kind := jsonKind(f.Raw)
		switch f.Name {
		case "auth_mode":
			if kind == "null" {
				continue
			}
			if kind != "string" {
				return nil, invalid(f.Offset, "`auth_mode` must be a string, got %s", kind)
			}
			modeRaw = f
		case "OPENAI_API_KEY":
			if kind == "null" {
				continue
			}
			if kind != "string" {
				return nil, invalid(f.Offset, "`OPENAI_API_KEY` must be a string or null, got %s", kind)
			}
			_ = json.Unmarshal(f.Raw, &a.APIKey)
			a.HasAPIKey = true
		case "last_refresh":
			if kind == "null" {
				continue
			}
			if kind != "string" {
				return nil, invalid(f.Offset, "`last_refresh` must be an RFC 3339 date-time string, got %s", kind)
			}
			var s string
			_ = json.Unmarshal(f.Raw, &s)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, invalid(f.Offset, "`last_refresh` is not an RFC 3339 date-time: %q", s)
			}
			t = t.UTC()
			a.LastRefresh = &t
		case "tokens":
			if kind == "null" {
				continue
			}
			if kind != "object" {
				return nil, invalid(f.Offset, "`tokens` must be an object, got %s", kind)
			}
			if err := parseTokens(a, data, f, invalid); err != nil {
				return nil, err
			}
		}
	}
	if modeRaw != nil {
		var m string
		_ = json.Unmarshal(modeRaw.Raw, &m)
		switch AuthMode(m) {
		case AuthModeAPIKey, AuthModeChatGPT, AuthModeChatGPTTokens, AuthModeAgentIdentity:
			a.Mode, a.ModeExplicit = AuthMode(m), true
		default:
			return nil, invalid(modeRaw.Offset, "unknown `auth_mode` %q, expected one of `apikey`, `chatgpt`, `chatgptAuthTokens`, `agentIdentity`", m)
		}
	} else if a.HasAPIKey {
		a.Mode = AuthModeAPIKey
	} else {
		a.Mode = AuthModeChatGPT
	}
	if a.HasTokens {
		if slices.Contains(a.MissingTokenFields, "id_token") {
			a.IDErr = errors.New("tokens.id_token is missing")
		} else {
			a.ID, a.IDErr = ParseIDClaims(a.IDToken)
		}
		if a.AccessToken != "" {
			a.AccessExp, a.AccessErr = accessTokenExp(a.AccessToken)
			if a.AccessExp != nil && !a.AccessExp.After(now) {
				a.AccessExpired = true
			}
		}
	}
	return a, nil
}

func parseTokens(a *Auth, data []byte, tok *jsonField, invalid func(int, string, ...any) error) error {
	fields, err := jsonObjectFields(tok.Raw, tok.Offset)
	if err != nil {
		return invalid(tok.Offset, "`tokens` is not a valid object: %v", err)
	}
	a.HasTokens = true
	seen := map[string]bool{}
	targets := map[string]*string{
		"id_token":      &a.IDToken,
		"access_token":  &a.AccessToken,
		"refresh_token": &a.RefreshToken,
		"account_id":    &a.AccountID,
	}
	for _, f := range fields {
		dst, ok := targets[f.Name]
		if !ok {
			continue
		}
		if seen[f.Name] {
			return invalid(f.Offset, "duplicate field `tokens.%s`", f.Name)
		}
		seen[f.Name] = true
		kind := jsonKind(f.Raw)
		if f.Name == "account_id" && kind == "null" {
			continue
		}
		if kind != "string" {
			want := "a string"
			if f.Name == "account_id" {
				want = "a string or null"
			}
			return invalid(f.Offset, "`tokens.%s` must be %s, got %s", f.Name, want, kind)
		}
		_ = json.Unmarshal(f.Raw, dst)
	}
	for _, name := range []string{"id_token", "access_token", "refresh_token"} {
		if !seen[name] {
			a.MissingTokenFields = append(a.MissingTokenFields, name)
		}
	}
	return nil
}

// Usable returns why Codex could not use this login for cloud
// requirements, or nil. Codex's serde rejects the whole auth.json when a
// required token field is missing or the id_token cannot be decoded; a
// ChatGPT login also needs a tokens object and an access token.
func (a *Auth) Usable() error {
	if a == nil {
		return errors.New("no credentials")
	}
	if len(a.MissingTokenFields) > 0 {
		return fmt.Errorf("auth.json `tokens` lacks %s; Codex cannot read this file", joinBackticked(a.MissingTokenFields))
	}
	if a.HasTokens && a.IDErr != nil {
		return fmt.Errorf("the id_token is malformed (%v); Codex cannot read this auth.json", a.IDErr)
	}
	switch a.Mode {
	case AuthModeChatGPT, AuthModeChatGPTTokens:
		if !a.HasTokens {
			return errors.New("auth.json has no `tokens` object: there is no ChatGPT login")
		}
		if a.AccessToken == "" {
			return errors.New("`tokens.access_token` is empty")
		}
	}
	return nil
}

func joinBackticked(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

// jsonField is one member of a JSON object, with the offset of its value
// in the whole document.
type jsonField struct {
	Name   string
	Raw    json.RawMessage
	Offset int
}

// jsonObjectFields lists the members of the JSON object obj, in order and
// with duplicates, which encoding/json's maps would hide. base is obj's
// offset in the whole document. obj must be valid JSON.
func jsonObjectFields(obj []byte, base int) ([]jsonField, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []jsonField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		out = append(out, jsonField{Name: name, Raw: raw, Offset: base + end - len(raw)})
	}
	return out, nil
}
