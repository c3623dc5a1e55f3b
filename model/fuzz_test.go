package model

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fuzz targets below also run as ordinary tests over their seeds
// (f.Add and testdata/fuzz/<FuzzName>/). scripts/fuzz runs them as fuzzers.
// Every target checks that nothing panics and that each error is of the
// documented type, names its source and has a message.

var fuzzNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fuzzJWT builds an unsigned token around a JSON payload, for seeds.
func fuzzJWT(payload string) string {
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
}

// checkLocated checks a line/column pair against the document: 0 means
// unknown, otherwise it must point into it or just past its end.
func checkLocated(t *testing.T, what string, data []byte, line, col int) {
	t.Helper()
	if line < 0 || col < 0 || (line == 0 && col != 0) {
		t.Fatalf("%s: impossible position %d:%d", what, line, col)
	}
	if lines := strings.Count(string(data), "\n") + 1; line > lines {
		t.Fatalf("%s: line %d past the %d lines of the input", what, line, lines)
	}
}

func FuzzParseAuth(f *testing.F) {
	id := fuzzJWT(`{"email":"a@example.com","https://api.openai.com/auth":{"chatgpt_plan_type":"team","chatgpt_user_id":"user-1","chatgpt_account_id":"acct-1"}}`)
	access := fuzzJWT(`{"exp":1777636800}`)
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"auth_mode":"apikey","OPENAI_API_KEY":"sk-test"}`,
		`{"tokens":{"id_token":"` + id + `","access_token":"` + access + `","refresh_token":"r","account_id":"acct-1"},"last_refresh":"2026-04-30T10:00:00Z"}`,
		`{"tokens":{"id_token":"a.b","access_token":1}}`, `{"tokens":"x"}`, `{"auth_mode":"chatgpt","auth_mode":"apikey"}`,
		`{"last_refresh":"yesterday"}`, `{"OPENAI_API_KEY":` + strings.Repeat("[", 50) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAuth(data, "/fuzz/auth.json", fuzzNow)
		if err != nil {
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Kind != AuthInvalid || ae.Msg == "" || ae.Path != "/fuzz/auth.json" {
				t.Fatalf("error %#v", err)
			}
			if !strings.HasPrefix(err.Error(), "/fuzz/auth.json") {
				t.Fatalf("error does not name the file: %q", err)
			}
			checkLocated(t, "auth error", data, ae.Line, ae.Column)
			return
		}
		if a == nil {
			t.Fatal("nil Auth and nil error")
		}
		msgs := []string{}
		if uerr := a.Usable(); uerr != nil {
			msgs = append(msgs, uerr.Error())
		}
		for _, e := range []error{a.IDErr, a.AccessErr} {
			if e != nil {
				if e.Error() == "" {
					t.Fatal("empty token error")
				}
				msgs = append(msgs, e.Error())
			}
		}
		// No message may carry a secret.
		for _, secret := range []string{a.IDToken, a.AccessToken, a.RefreshToken, a.APIKey} {
			if len(secret) < 12 {
				continue
			}
			for _, m := range msgs {
				if strings.Contains(m, secret) {
					t.Fatalf("message contains a secret: %q", m)
				}
			}
		}
	})
}

func FuzzDecodeJWTClaims(f *testing.F) {
	for _, s := range []string{
		"", "a", "a.b", "a.b.c", "a.b.c.d", "..", "a..c",
		fuzzJWT(`{"email":"a@example.com"}`), fuzzJWT(`{"exp":"soon"}`), fuzzJWT(`{"exp":1e400}`), fuzzJWT(`[]`),
		fuzzJWT(`{"https://api.openai.com/auth":"x"}`), fuzzJWT(`{"https://api.openai.com/profile":{"email":3}}`),
		fuzzJWT(`{"https://api.openai.com/auth":{"chatgpt_user_id":null,"user_id":"u"}}`), fuzzJWT(`not json`),
		"h." + base64.URLEncoding.EncodeToString([]byte(`{"a":1}`)) + ".s", "h.e30\n.s", "h.!!!.s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := DecodeJWTClaims(token)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			if len(token) >= 12 && strings.Contains(err.Error(), token) {
				t.Fatalf("error contains the token: %q", err)
			}
		} else if claims == nil {
			t.Fatal("nil claims and nil error")
		}
		if _, err := ParseIDClaims(token); err != nil {
			if err.Error() == "" {
				t.Fatal("empty ParseIDClaims error")
			}
			if len(token) >= 12 && strings.Contains(err.Error(), token) {
				t.Fatalf("error contains the token: %q", err)
			}
		}
		if _, err := accessTokenExp(token); err != nil && err.Error() == "" {
			t.Fatal("empty exp error")
		}
	})
}

// FuzzParseIDClaims is FuzzDecodeJWTClaims seen from the claims: the input
// is the payload JSON, wrapped in a token.
func FuzzParseIDClaims(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"email":1}`, `{"exp":-1}`, `{"exp":9223372036854775807}`, `{"exp":1.5}`,
		`{"https://api.openai.com/auth":{"chatgpt_plan_type":["x"]}}`,
		`{"https://api.openai.com/auth":{"chatgpt_account_id":"a","chatgpt_user_id":"u","chatgpt_plan_type":"pro"}}`,
		`{"email":"a@b","https://api.openai.com/profile":{"email":"c@d"}}`, `{"a":` + strings.Repeat("{", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := ParseIDClaims(fuzzJWT(string(payload)))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			if c != (IDClaims{}) {
				t.Fatalf("claims %+v with error %v", c, err)
			}
		}
	})
}

// checkRequirementsPipeline runs what reqdoctor does with a merged
// document and checks that its JSON form encodes.
func checkRequirementsPipeline(t *testing.T, layers ...*Layer) {
	t.Helper()
	r := Merge(layers...)
	if err := r.Validate(); err != nil {
		var re *RequirementsError
		if !errors.As(err, &re) || re.Msg == "" || re.Source == "" {
			t.Fatalf("Validate error %#v", err)
		}
	}
	for _, row := range r.Rows() {
		if row.Field == "" || row.SetBy == "" {
			t.Fatalf("row %+v", row)
		}
	}
	b, err := json.Marshal(r.JSON())
	if err != nil {
		t.Fatalf("JSON() does not encode: %v", err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON %q", b)
	}
	_ = CheckUserConfig(UserConfig{Values: map[string]UserValue{
		ConfigKeyApprovalPolicy: {Value: "never"}, ConfigKeySandboxMode: {Value: "danger-full-access"},
		ConfigKeyWebSearch: {Value: "live"}, "features.x": {Value: "true"},
	}, MCPServers: []UserMCPServer{{Name: "a", Command: "c"}, {Name: "b", URL: "u"}}}, r)
}

// checkRequirementsError checks a ParseRequirements error.
func checkRequirementsError(t *testing.T, err error, source string, data []byte) {
	t.Helper()
	var re *RequirementsError
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v, want *RequirementsError", err, err)
	}
	if re.Source != source || re.Msg == "" {
		t.Fatalf("error %#v", re)
	}
	checkLocated(t, "requirements error", data, re.Line, re.Column)
}

func requirementsSeeds() []string {
	return []string{
		"", "# only a comment\n", `allowed_approval_policies = ["on-request", "never"]`,
		"allowed_sandbox_modes = [\"workspace-write\"]\n", "enforce_residency = \"eu\"\n",
		"[mcp_servers.docs.identity]\ncommand = \"docs-mcp\"\nurl = \"https://x\"\n",
		"[features]\nweb_search_request = true\n", "feature_requirements = { x = true }\nfeatures = { y = false }\n",
		"allowed_approval_policies = [{ granular = { rules = true } }]\n", "[rules]\nprefix_rules = [{ pattern = [{ token = \"rm\" }], decision = \"forbidden\" }]\n",
		"a = nan\nb = inf\nhooks = { t = -inf }\n", "x = 1979-05-27T07:32:00Z\nhooks = [1979-05-27, 07:32:00]\n",
		"allowed_approval_policies = [\n", "a = \"\x1b[31m\"\n", "allowed_sandbox_modes = " + strings.Repeat("[", 200) + strings.Repeat("]", 200),
		"hooks." + strings.Repeat("a.", 200) + "b = 1\n", "[a]\nx = 1\n[a]\ny = 2\n", "apps = { a = { enabled = \"yes\" } }\n",
	}
}

func FuzzParseRequirements(f *testing.F) {
	for _, s := range requirementsSeeds() {
		f.Add(s)
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "requirements", "*.toml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, doc string) {
		l, err := ParseRequirements(doc, CloudRequirementsSource)
		if err != nil {
			checkRequirementsError(t, err, CloudRequirementsSource, []byte(doc))
			return
		}
		if l == nil || l.Source != CloudRequirementsSource {
			t.Fatalf("layer %+v", l)
		}
		checkRequirementsPipeline(t, l)
	})
}

// FuzzParseBundleFragments splits the input at NUL bytes into up to four
// fragments, parses each as a bundle fragment and merges those that parse.
func FuzzParseBundleFragments(f *testing.F) {
	f.Add("allowed_approval_policies = [\"never\"]\x00allowed_approval_policies = [\"on-request\"]\nhooks = {}\x00bogus = 1")
	f.Add("allowed_sandbox_modes = [\"read-only\"]\x00[mcp_servers.a.identity]\nurl = \"u\"\x00[x\x00features.y = true")
	for _, s := range requirementsSeeds() {
		f.Add(s + "\x00" + s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		parts := strings.SplitN(input, "\x00", 4)
		var layers []*Layer
		for i, p := range parts {
			fr := Fragment{ID: "frag-" + string(rune('a'+i)), Name: "fragment " + string(rune('a'+i)), Contents: p}
			src := FragmentSource(fr)
			l, err := ParseRequirements(p, src)
			if err != nil {
				checkRequirementsError(t, err, src, []byte(p))
			} else {
				layers = append(layers, l)
			}
			if err := CheckConfigFragment(fr); err != nil && !strings.Contains(err.Error(), ConfigFragmentSource(fr)) {
				t.Fatalf("config fragment error does not name it: %v", err)
			}
		}
		checkRequirementsPipeline(t, layers...)
	})
}

func cacheSeeds() [][]byte {
	at := fuzzNow.Add(-10 * time.Minute)
	c := "allowed_approval_policies = [\"never\"]"
	return [][]byte{
		SignCache(ProtocolRequirements, RequirementsCachePayload(at, at.Add(30*time.Minute), "user-1", "acct-1", &c)),
		SignCache(ProtocolRequirements, RequirementsCachePayload(at, at.Add(30*time.Minute), "", "", nil)),
		SignCache(ProtocolBundle, BundleCachePayload(at, at.Add(time.Hour), "user-1", "acct-1",
			[]Fragment{{ID: "f1", Name: "n", Contents: c}}, []Fragment{{ID: "c1", Name: "cfg", Contents: "model = \"x\""}})),
		SignCache(ProtocolBundle, BundleCachePayload(at, at.Add(-time.Hour), "user-2", "acct-1", nil, nil)),
		[]byte(`{"signed_payload":{"version":1,"cached_at":"x"},"signature":"AAAA"}`),
		[]byte(`{"signed_payload":{},"signature":1}`), []byte(`{"signature":"x"}`), []byte(`[]`), []byte(``),
		[]byte(`{"signed_payload":{"version":-1,"cached_at":"2026-05-01T11:50:00Z","expires_at":"2026-05-01T12:50:00Z","bundle":{"config_toml":{"enterprise_managed":[{"id":1}]}}},"signature":"=="}`),
	}
}

func FuzzCheckCache(f *testing.F) {
	for _, s := range cacheSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, p := range []Protocol{ProtocolRequirements, ProtocolBundle} {
			path := filepath.Join(dir, CacheFileName(p))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			v := CheckCache(dir, p, "user-1", "acct-1", fuzzNow)
			if len(v.Checks) == 0 || v.Path != path {
				t.Fatalf("%s: verdict %+v", p, v)
			}
			last := v.Checks[len(v.Checks)-1]
			if v.Usable != last.OK || v.Reason == "" || last.Detail == "" {
				t.Fatalf("%s: verdict %+v", p, v)
			}
			for _, c := range v.Checks[:len(v.Checks)-1] {
				if !c.OK {
					t.Fatalf("%s: checks go on after a failure: %+v", p, v.Checks)
				}
			}
			if !last.OK && (last.Name == CheckReadable || last.Name == CheckParses) && !strings.Contains(last.Detail, path) {
				t.Fatalf("%s: detail does not name the file: %q", p, last.Detail)
			}
		}
	})
}

func FuzzReadUserConfig(f *testing.F) {
	for _, s := range []string{
		"", "approval_policy = \"never\"\nsandbox_mode = \"workspace-write\"\n",
		"profile = \"ci\"\n[profiles.ci]\napproval_policy = \"on-request\"\nask_for_approval = \"x\"\n",
		"profile = 3\n", "profile = \"missing\"\n", "[features]\nweb_search_cached = true\n",
		"[mcp_servers.a]\ncommand = \"c\"\nenabled = false\n[mcp_servers.b]\nurl = 7\n",
		"approval_policy = { granular = { rules = true } }\n", "chatgpt_base_url = 1\ncli_auth_credentials_store = \"vault\"\n",
		"[x\n", "a = 1\na = 2\n", "web_search = \"indexed\"\nallowed_sandbox_modes = []\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, ConfigFileName)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		uc := ReadUserConfig(dir)
		if !uc.Found || uc.Path != path {
			t.Fatalf("user config %+v", uc)
		}
		if uc.Err != nil {
			if uc.Err.Path != path || uc.Err.Msg == "" {
				t.Fatalf("error %#v", uc.Err)
			}
			checkLocated(t, "user config error", data, uc.Err.Line, uc.Err.Column)
		}
		for _, k := range uc.IgnoredKeys {
			if k.Key == "" || (k.Suggestion == "" && k.Note == "") {
				t.Fatalf("ignored key %+v", k)
			}
		}
		cfg := LoadConfig(dir)
		if !cfg.Found || cfg.Path != path {
			t.Fatalf("config %+v", cfg)
		}
		if cfg.Err != nil {
			if cfg.Err.Path != path || cfg.Err.Msg == "" {
				t.Fatalf("config error %#v", cfg.Err)
			}
			checkLocated(t, "config error", data, cfg.Err.Line, cfg.Err.Column)
		}
		l, err := ParseRequirements("allowed_approval_policies = [\"on-request\"]\nallowed_sandbox_modes = [\"read-only\"]\n"+
			"allowed_web_search_modes = [\"cached\"]\nfeatures = { x = true }\n[mcp_servers.a.identity]\ncommand = \"c\"\n", "cloud requirements")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range CheckUserConfig(uc, Merge(l)) {
			if c.Message == "" {
				t.Fatalf("check %+v", c)
			}
		}
	})
}

func FuzzParseMDMValue(f *testing.F) {
	for _, s := range requirementsSeeds() {
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)), false)
	}
	for _, s := range []string{"approval_policy = \"never\"\nsandbox_mode = \"read-only\"\n", "sandbox_mode = \"external-sandbox\"\n", "approvals_reviewer = \"guardian_subagent\"\nmodel = \"x\"\n"} {
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)), true)
	}
	f.Add("  not base64  ", false)
	f.Add(base64.StdEncoding.EncodeToString([]byte("\xff\xfe")), true)
	f.Fuzz(func(t *testing.T, b64 string, legacy bool) {
		src := MDMRequirementsSource
		if legacy {
			src = MDMConfigSource
		}
		l, err := parseMDMValue(b64, src, legacy)
		if err != nil {
			var re *RequirementsError
			if !errors.As(err, &re) || re.Source != src || re.Msg == "" {
				t.Fatalf("error %#v", err)
			}
			return
		}
		checkRequirementsPipeline(t, l)
		key, name := MDMRequirementsKey, LocalNameMDMRequirements
		if legacy {
			key, name = MDMConfigKey, LocalNameMDMConfig
		}
		s := mdmSource(name, key, b64, true)
		if s.Status != LocalFound || s.Detail == "" {
			t.Fatalf("source %+v", s)
		}
	})
}
