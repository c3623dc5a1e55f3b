package model

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Hostile local files: every reader must answer with an error naming the
// file, the problem and, where it has one, the place — never panic, hang
// or read without bound. Special files (FIFO, devices, no permission) are
// in hostile_unix_test.go.

// fileReader reads the file name in dir the way reqdoctor does and returns
// the message it would show, "" when there is no problem.
type fileReader struct {
	name string // file name in the directory
	read func(t *testing.T, dir string) string
}

var hostileReaders = map[string]fileReader{
	"auth.json": {AuthFileName, func(t *testing.T, dir string) string {
		_, err := LoadAuth(filepath.Join(dir, AuthFileName), fuzzNow)
		if err == nil {
			return ""
		}
		return err.Error()
	}},
	"LoadConfig": {ConfigFileName, func(t *testing.T, dir string) string {
		if c := LoadConfig(dir); c.Err != nil {
			return c.Err.Error()
		}
		return ""
	}},
	"ReadUserConfig": {ConfigFileName, func(t *testing.T, dir string) string {
		if uc := ReadUserConfig(dir); uc.Err != nil {
			return uc.Err.Error()
		}
		return ""
	}},
	"requirements.toml": {"requirements.toml", func(t *testing.T, dir string) string {
		return localSourceMsg(t, dir, LocalNameRequirements)
	}},
	"managed_config.toml": {"managed_config.toml", func(t *testing.T, dir string) string {
		return localSourceMsg(t, dir, LocalNameManagedConfig)
	}},
	"bundle cache": {BundleCacheFileName, func(t *testing.T, dir string) string {
		return cacheMsg(CheckCache(dir, ProtocolBundle, "user-1", "acct-1", fuzzNow))
	}},
	"requirements cache": {RequirementsCacheFileName, func(t *testing.T, dir string) string {
		return cacheMsg(CheckCache(dir, ProtocolRequirements, "user-1", "acct-1", fuzzNow))
	}},
}

func localSourceMsg(t *testing.T, dir, name string) string {
	for _, s := range ReadLocalSources(dir) {
		if s.Name == name {
			if s.Status == LocalInvalid {
				return s.Detail
			}
			return ""
		}
	}
	t.Fatalf("no local source %s", name)
	return ""
}

func cacheMsg(v CacheVerdict) string {
	if v.Usable || len(v.Checks) == 0 {
		return ""
	}
	return v.Checks[len(v.Checks)-1].Detail
}

// readWithin runs read and fails the test if it takes longer than d: a
// reader that blocks (on a FIFO, say) must not hang reqdoctor.
func readWithin(t *testing.T, d time.Duration, r fileReader, dir string) string {
	t.Helper()
	done := make(chan string, 1)
	go func() { done <- r.read(t, dir) }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(d):
		t.Fatalf("reading %s did not return within %s", filepath.Join(dir, r.name), d)
		return ""
	}
}

// wantMsg checks that msg names path and contains every want.
func wantMsg(t *testing.T, msg, path string, want ...string) {
	t.Helper()
	if msg == "" {
		t.Fatalf("no error for %s", path)
	}
	if !strings.Contains(msg, path) {
		t.Errorf("message does not name %s: %q", path, clip(msg))
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q: %q", w, clip(msg))
		}
	}
	if len(msg) > 4096 {
		t.Errorf("message is %d bytes long", len(msg))
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// TestHostileFileKinds: what is at the path is not a readable file.
func TestHostileFileKinds(t *testing.T) {
	kinds := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"directory", func(t *testing.T, path string) { mustMkdir(t, path) }, "is a directory"},
		{"symlink loop", func(t *testing.T, path string) {
			mustSymlink(t, path+".b", path)
			mustSymlink(t, path, path+".b")
		}, "too many levels of symbolic links"},
		{"huge sparse file", func(t *testing.T, path string) {
			// 64 GiB of holes: reading it whole would take minutes and all
			// memory; the readers stop one byte past their cap.
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(64 << 30); err != nil {
				t.Skipf("cannot make a sparse file here: %v", err)
			}
		}, "MiB"},
	}
	for rname, r := range hostileReaders {
		for _, k := range kinds {
			t.Run(rname+"/"+k.name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, r.name)
				k.setup(t, path)
				msg := readWithin(t, 10*time.Second, r, dir)
				wantMsg(t, msg, path, k.want)
			})
		}
	}
}

// TestHostileAuthContent: auth.json holding what it must not.
func TestHostileAuthContent(t *testing.T) {
	id := fuzzJWT(`{"email":"a@example.com"}`)
	tokens := func(override string) string {
		return `{"tokens": {"id_token": "` + id + `", "access_token": "a.b.c", "refresh_token": "r"` + override + `}}`
	}
	tests := []struct {
		name, content string
		want          []string
	}{
		{"empty", "", []string{"file is empty"}},
		{"blank", " \n\t\n", []string{"file is empty"}},
		{"truncated", `{"tokens": {"id_token": "ab`, []string{":1:28:", "not valid JSON", "unexpected end of JSON input"}},
		{"not JSON", "hello", []string{":1:1:", "not valid JSON", "invalid character 'h'"}},
		{"array", "\n  [1]", []string{":2:3:", "must be a JSON object, got array"}},
		{"NUL bytes", "{\"a\":\x00}", []string{":1:6:", "not valid JSON"}},
		{"auth_mode number", `{"auth_mode": 1}`, []string{":1:15:", "`auth_mode` must be a string, got number"}},
		{"auth_mode unknown", `{"auth_mode": "sso"}`, []string{":1:15:", "unknown `auth_mode` \"sso\""}},
		{"OPENAI_API_KEY object", `{"OPENAI_API_KEY": {}}`, []string{":1:20:", "`OPENAI_API_KEY` must be a string or null, got object"}},
		{"tokens string", `{"tokens": "x"}`, []string{":1:12:", "`tokens` must be an object, got string"}},
		{"tokens array", `{"tokens": []}`, []string{"`tokens` must be an object, got array"}},
		{"last_refresh number", `{"last_refresh": 5}`, []string{":1:18:", "`last_refresh` must be an RFC 3339 date-time string, got number"}},
		{"last_refresh text", `{"last_refresh": "yesterday"}`, []string{"`last_refresh` is not an RFC 3339 date-time"}},
		{"id_token number", tokens(`, "id_token": 3`), []string{"duplicate field `tokens.id_token`"}},
		{"id_token bool", `{"tokens": {"id_token": true}}`, []string{":1:25:", "`tokens.id_token` must be a string, got boolean"}},
		{"access_token number", `{"tokens": {"access_token": 1}}`, []string{"`tokens.access_token` must be a string, got number"}},
		{"refresh_token array", `{"tokens": {"refresh_token": []}}`, []string{"`tokens.refresh_token` must be a string, got array"}},
		{"account_id object", `{"tokens": {"account_id": {}}}`, []string{"`tokens.account_id` must be a string or null, got object"}},
		{"duplicate tokens", "{\"tokens\": {},\n\"tokens\": {}}", []string{":2:11:", "duplicate field `tokens`"}},
		{"deep nesting", `{"x": ` + strings.Repeat("[", 100000), []string{"not valid JSON", "exceeded max depth"}},
		{"long line", `{"OPENAI_API_KEY": "` + strings.Repeat("k", 900000), []string{":1:900021:", "unexpected end of JSON input"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, AuthFileName)
			mustWrite(t, path, tt.content)
			_, err := LoadAuth(path, fuzzNow)
			if err == nil {
				t.Fatal("no error")
			}
			wantMsg(t, err.Error(), path, tt.want...)
			if strings.Contains(err.Error(), id) {
				t.Errorf("error contains the id_token: %q", err)
			}
		})
	}
}

// TestHostileTokens: id_tokens Codex cannot decode. The login is read, the
// token problem recorded and explained without the token itself.
func TestHostileTokens(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name, token string
		want        string // "" → decodes
	}{
		{"1 part", "abcdefghijklmnop", "token has 1 part(s) separated by '.' instead of 3"},
		{"2 parts", "abcdefgh.ijklmnop", "token has 2 part(s)"},
		{"4 parts", "h." + b64([]byte(`{"email":"a@b"}`)) + ".s.extra", ""},
		{"empty payload part", "h..s", "token payload (part 2) is empty"},
		{"bad base64", "h.abc*def.s", "not valid base64url: bad data at byte 4 of 7"},
		{"padded", "h." + base64.URLEncoding.EncodeToString([]byte(`{"a":1}`)) + ".s", "padded with '='"},
		{"line break", "h.e30\n.s", "line break at byte 4"},
		{"not JSON", "h." + b64([]byte("{email")) + ".s", "token payload (part 2) is not JSON"},
		{"JSON array", "h." + b64([]byte("[1]")) + ".s", "is a JSON array, not an object"},
		{"nothing", "h." + b64([]byte("  ")) + ".s", "decodes to nothing"},
		{"email number", "h." + b64([]byte(`{"email":1}`)) + ".s", "claim `email` is a number, expected a string"},
		{"auth claims string", "h." + b64([]byte(`{"https://api.openai.com/auth":"x"}`)) + ".s", "claim `https://api.openai.com/auth` is a string, expected an object"},
		{"plan type array", "h." + b64([]byte(`{"https://api.openai.com/auth":{"chatgpt_plan_type":[]}}`)) + ".s", "`chatgpt_plan_type` is an array, expected a string"},
		{"profile email bool", "h." + b64([]byte(`{"https://api.openai.com/profile":{"email":true}}`)) + ".s", "`email` is a boolean, expected a string"},
		{"deep claims", "h." + b64([]byte(`{"a":`+strings.Repeat("[", 20000)+`}`)) + ".s", "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIDClaims(tt.token)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("error contains the token: %q", clip(err.Error()))
			}
			// Through auth.json: read, but not usable, and said why.
			dir := t.TempDir()
			path := filepath.Join(dir, AuthFileName)
			mustWrite(t, path, fmt.Sprintf(`{"tokens": {"id_token": %q, "access_token": "x", "refresh_token": "r"}}`, tt.token))
			a, err := LoadAuth(path, fuzzNow)
			if err != nil {
				t.Fatal(err)
			}
			uerr := a.Usable()
			if uerr == nil || !strings.Contains(uerr.Error(), "the id_token is malformed") || !strings.Contains(uerr.Error(), tt.want) {
				t.Errorf("Usable = %v", uerr)
			}
		})
	}
}

// hostileTOML are documents no TOML reader may choke on; want are the
// words of the error each must give (nil: the document is valid TOML).
var hostileTOML = []struct {
	name, doc string
	line, col int // where the error points; 0 → no error expected
	want      []string
}{
	{"invalid", "allowed_sandbox_modes = [\"read-only\"\n", 1, 37, []string{"array is incomplete"}},
	{"unterminated string", "a = \"abc\n", 1, 9, []string{"basic strings cannot have new lines"}},
	{"duplicate key", "a = 1\nb = 2\na = 3\n", 3, 1, []string{"key a is already defined"}},
	{"duplicate table", "[x]\na = 1\n[x]\nb = 2\n", 3, 2, []string{"table x already exists"}},
	{"deep arrays", "a = " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\n", 1, 1, []string{"nested more than 128 levels"}},
	{"deep inline tables", "a = " + strings.Repeat("{b = ", 10000) + "1" + strings.Repeat("}", 10000) + "\n", 1, 6 + 5*127, []string{"nested more than 128 levels"}},
	{"deep dotted key", strings.Repeat("a.", 10000) + "b = 1\n", 1, 257, []string{"nested more than 128 levels"}},
	{"deep table header", "[" + strings.Repeat("a.", 10000) + "b]\n", 1, 258, []string{"nested more than 128 levels"}},
	{"deep unclosed arrays", "a = " + strings.Repeat("[", 200000), 1, 10005, []string{"nested more than the maximum of 10000 levels"}},
	{"too many keys", manyKeys(30000), 20001, 1, []string{"more than 20000 keys"}},
	{"too many inline keys", inlineKeysDoc, 1, strings.Index(inlineKeysDoc, "k20000 =") + 1, []string{"inline table sets more than 20000 keys"}},
	{"huge array", "a = [" + strings.Repeat("\"x\", ", 100000) + "]\n", 0, 0, nil},
	{"long line", "# " + strings.Repeat("x", 900000) + "\na = 1\n", 0, 0, nil},
	{"long key", strings.Repeat("k", 900000) + " = 1\n", 0, 0, nil},
}

// wantPos checks that msg locates line:col in either of reqdoctor's forms:
// path:line:col: (files) or ", line N, column M" (requirements sources).
func wantPos(t *testing.T, msg string, line, col int) {
	t.Helper()
	if !strings.Contains(msg, fmt.Sprintf(":%d:%d: ", line, col)) && !strings.Contains(msg, fmt.Sprintf(", line %d, column %d: ", line, col)) {
		t.Errorf("message does not point at line %d, column %d: %q", line, col, clip(msg))
	}
}

var inlineKeysDoc = "a = {" + manyInlineKeys(30000) + "}\n"

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d = 1\n", i)
	}
	return b.String()
}

func manyInlineKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "k%d = 1", i)
	}
	return b.String()
}

// TestHostileTOML runs the hostile documents through every TOML reader:
// config.toml (both readers), requirements.toml, managed_config.toml.
func TestHostileTOML(t *testing.T) {
	for _, rname := range []string{"LoadConfig", "ReadUserConfig", "requirements.toml", "managed_config.toml"} {
		r := hostileReaders[rname]
		for _, tt := range hostileTOML {
			t.Run(rname+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, r.name)
				mustWrite(t, path, tt.doc)
				start := time.Now()
				msg := readWithin(t, 20*time.Second, r, dir)
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %s", d)
				}
				if tt.line == 0 {
					if msg != "" {
						t.Errorf("unexpected error %q", clip(msg))
					}
					return
				}
				wantMsg(t, msg, path, tt.want...)
				wantPos(t, msg, tt.line, tt.col)
			})
		}
	}
}

// TestHostileRequirementsValues: huge or strange values parse and merge,
// and the errors quoting them stay short.
func TestHostileRequirementsValues(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string // in the Validate or parse error; "" → none
	}{
		{"100000 sandbox modes without read-only", "allowed_sandbox_modes = [" + strings.Repeat("\"workspace-write\", ", 100000) + "]", "must include 'read-only'"},
		{"100000 sandbox modes", "allowed_sandbox_modes = [\"read-only\", " + strings.Repeat("\"workspace-write\", ", 100000) + "]", ""},
		{"huge unknown variant", "allowed_sandbox_modes = [\"" + strings.Repeat("z", 500000) + "\"]", "unknown variant"},
		{"huge residency", "enforce_residency = \"" + strings.Repeat("e", 500000) + "\"", "expected `us`"},
		{"wrong type deep in a huge table", "mcp_servers = {" + manyInlineKeys(5000) + "}", "invalid type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			l, err := ParseRequirements(tt.doc, CloudRequirementsSource)
			if err == nil {
				r := Merge(l)
				err = r.Validate()
				_ = r.Rows()
				if _, jerr := json.Marshal(r.JSON()); jerr != nil {
					t.Fatalf("JSON: %v", jerr)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error %v", clip(err.Error()))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if n := len(err.Error()); n > 2048 {
				t.Errorf("error is %d bytes long: %q", n, clip(err.Error()))
			}
		})
	}
}

// TestHostileCacheContent: cache files that are not what Codex writes.
func TestHostileCacheContent(t *testing.T) {
	at := fuzzNow.Add(-10 * time.Minute)
	good := string(BundleCachePayload(at, at.Add(time.Hour), "user-1", "acct-1", nil, nil))
	withSig := func(sig string) string { return `{"signed_payload": ` + good + `, "signature": "` + sig + `"}` }
	tests := []struct {
		name, content string
		check         string
		want          []string
	}{
		{"empty", "", CheckParses, []string{"file is empty"}},
		{"not JSON", "{oops}", CheckParses, []string{":1:2:", "not valid JSON"}},
		{"truncated", `{"signed_payload": {"version": 1`, CheckParses, []string{"unexpected end of JSON input"}},
		{"deep JSON", `{"signed_payload": ` + strings.Repeat("[", 100000), CheckParses, []string{"exceeded max depth"}},
		{"top array", "[]", CheckParses, []string{":1:1:", "must be a JSON object, got array"}},
		{"signed_payload string", `{"signed_payload": "x", "signature": "y"}`, CheckParses, []string{":1:20:", "`signed_payload` must be an object, got string"}},
		{"signature number", `{"signed_payload": {}, "signature": 1}`, CheckParses, []string{":1:37:", "`signature` must be a string, got number"}},
		{"version string", `{"signed_payload": {"version": "1"}, "signature": ""}`, CheckParses, []string{"`signed_payload.version` must be an unsigned integer, got \"1\""}},
		{"version negative", `{"signed_payload": {"version": -1}, "signature": ""}`, CheckParses, []string{"`signed_payload.version` must be an unsigned integer, got -1"}},
		{"cached_at number", `{"signed_payload": {"version": 1, "cached_at": 5}, "signature": ""}`, CheckParses, []string{"`signed_payload.cached_at` must be an RFC 3339 date-time string, got number"}},
		{"user id array", strings.Replace(withSig("x"), `"chatgpt_user_id":"user-1"`, `"chatgpt_user_id":[]`, 1), CheckParses, []string{"`signed_payload.chatgpt_user_id` must be a string or null, got array"}},
		{"fragments object", strings.Replace(withSig("x"), `"requirements_toml":{"enterprise_managed":[]}`, `"requirements_toml":{"enterprise_managed":{}}`, 1), CheckParses, []string{"`signed_payload.bundle.requirements_toml.enterprise_managed` must be an array"}},
		{"duplicate signature", `{"signed_payload": {}, "signature": "a", "signature": "b"}`, CheckParses, []string{"duplicate field `signature`"}},
		{"signature not base64", withSig("not base64!"), CheckSignature, []string{"not valid standard base64"}},
		{"signature too short", withSig(base64.StdEncoding.EncodeToString(make([]byte, 16))), CheckSignature, []string{"decodes to 16 bytes; an HMAC-SHA256 has 32"}},
		{"signature wrong", withSig(base64.StdEncoding.EncodeToString(make([]byte, 32))), CheckSignature, []string{"does not match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, BundleCacheFileName)
			mustWrite(t, path, tt.content)
			v := CheckCache(dir, ProtocolBundle, "user-1", "acct-1", fuzzNow)
			if v.Usable || len(v.Checks) == 0 {
				t.Fatalf("verdict %+v", v)
			}
			last := v.Checks[len(v.Checks)-1]
			if last.Name != tt.check || last.OK {
				t.Fatalf("failed check %q (%s), want %q", last.Name, last.Detail, tt.check)
			}
			msg := last.Detail
			if tt.check != CheckParses {
				msg = path + ": " + msg // the check is about the file's contents, named by the verdict
			}
			wantMsg(t, msg, path, tt.want...)
			if v.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make symlinks here: %v", err)
	}
}
