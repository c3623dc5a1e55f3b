package fetch

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/reqdoctor/reqdoctor/model"
)

// Set REQDOCTOR_UPDATE_GOLDEN=1 to rewrite testdata/demo/*.golden. An
// environment variable, not a flag, so no other test file's flags clash.
var updateGolden = os.Getenv("REQDOCTOR_UPDATE_GOLDEN") == "1"

func startDemo(t *testing.T, s Scenario) *Demo {
	t.Helper()
	d, err := StartDemo(s)
	if err != nil {
		t.Fatalf("StartDemo(%s): %v", s.Name, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func endpoint(d *Demo) string {
	if d.Scenario.Protocol == model.ProtocolRequirements {
		return d.Backend.Root + PathWhamRequirements
	}
	return d.Backend.Root + PathWhamBundle
}

func TestScenariosWellFormed(t *testing.T) {
	all := Scenarios()
	if all[0].Name != DefaultScenario {
		t.Errorf("first scenario = %q, want the default %q", all[0].Name, DefaultScenario)
	}
	seen := map[string]bool{}
	outcomes := []string{"requirements", "no_requirements", "not_applicable", "error"}
	exitFor := map[string]int{"": 0, "Auth": 4, "Timeout": 124, "Parse": 1, "RequestFailed": 1, "InvalidBundle": 1}
	for _, s := range all {
		if seen[s.Name] {
			t.Errorf("scenario name %q is used twice", s.Name)
		}
		seen[s.Name] = true
		e := s.Expect
		switch {
		case s.Name == "" || strings.ContainsAny(s.Name, " =_") || strings.ToLower(s.Name) != s.Name:
			t.Errorf("scenario name %q is not a lowercase word list joined by '-'", s.Name)
		case s.Title == "" || s.Story == "":
			t.Errorf("%s: Title and Story must say what the scenario shows", s.Name)
		case s.Protocol != model.ProtocolBundle && s.Protocol != model.ProtocolRequirements:
			t.Errorf("%s: protocol %q", s.Name, s.Protocol)
		case s.AuthMode != DemoAuthChatGPT && s.AuthMode != DemoAuthAPIKey:
			t.Errorf("%s: auth mode %q", s.Name, s.AuthMode)
		case s.Replies == nil:
			t.Errorf("%s: no Replies", s.Name)
		case !slices.Contains(outcomes, e.Outcome):
			t.Errorf("%s: outcome %q", s.Name, e.Outcome)
		case (e.Outcome == "error") != (e.ErrorCode != ""):
			t.Errorf("%s: outcome %q with error code %q", s.Name, e.Outcome, e.ErrorCode)
		case e.ExitCode != exitFor[e.ErrorCode]:
			t.Errorf("%s: exit code %d, want %d for error code %q", s.Name, e.ExitCode, exitFor[e.ErrorCode], e.ErrorCode)
		case e.Outcome == "not_applicable" && e.Attempts != 0:
			t.Errorf("%s: not applicable but %d attempts", s.Name, e.Attempts)
		case s.WithValidCache && (e.Attempts != 0 || len(s.CachedRequirements) == 0):
			t.Errorf("%s: a valid cache means no request and something cached", s.Name)
		case e.Attempts < 0 || e.Attempts > MaxAttempts:
			t.Errorf("%s: %d attempts", s.Name, e.Attempts)
		case s.Timeout > 3500*time.Millisecond:
			t.Errorf("%s: timeout %v makes the demo slow", s.Name, s.Timeout)
		}
		if e.Outcome == "requirements" && len(e.Fields) == 0 {
			t.Errorf("%s: requirements expected but no Fields", s.Name)
		}
	}
	// The outcomes design.md promises the demo covers.
	for _, name := range []string{"success", "multi-fragment", "none", "not-eligible", "api-key", "timeout",
		"unauthorized", "flaky", "server-error", "invalid-toml", "bad-value", "unknown-keys", "valid-cache",
		"legacy-requirements", "legacy-shape", "requirements-parse-error"} {
		if !seen[name] {
			t.Errorf("scenario %q is missing", name)
		}
	}
	if got := ScenarioNames(); len(got) != len(all) || got[0] != all[0].Name {
		t.Errorf("ScenarioNames() = %v", got)
	}
}

// A scenario that hangs or times out must still fit in the demo budget:
// the timeout scenario ends at its Timeout, server-error after four
// backoffs of 0.2+0.4+0.8+1.6 s × at most 1.1.
func TestScenariosAreFast(t *testing.T) {
	for _, s := range Scenarios() {
		var budget time.Duration
		for n := 1; n <= max(s.Expect.Attempts, 1); n++ {
			rep := s.Replies(n, httptestRequest(s))
			if rep.Hang {
				budget += s.EffectiveTimeout()
				break
			}
			budget += rep.Delay
			if n < s.Expect.Attempts {
				budget += time.Duration(float64(BaseBackoff<<(n-1)) * 1.1)
			}
		}
		if budget > 3500*time.Millisecond {
			t.Errorf("%s takes up to %v, want ≤ 3.5 s", s.Name, budget)
		}
	}
}

func httptestRequest(s Scenario) *http.Request {
	path := PathWhamBundle
	if s.Protocol == model.ProtocolRequirements {
		path = PathWhamRequirements
	}
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil)
	return r
}

func TestFindScenario(t *testing.T) {
	tests := []struct {
		name   string
		want   string
		wantOK bool
	}{
		{"", "success", true},
		{"success", "success", true},
		{"timeout", "timeout", true},
		{"requirements-parse-error", "requirements-parse-error", true},
		{"Success", "", false},
		{"nope", "", false},
	}
	for _, tt := range tests {
		s, ok := FindScenario(tt.name)
		if ok != tt.wantOK || s.Name != tt.want {
			t.Errorf("FindScenario(%q) = %q, %v; want %q, %v", tt.name, s.Name, ok, tt.want, tt.wantOK)
		}
	}
	for _, name := range ScenarioNames() {
		if s, ok := FindScenario(name); !ok || s.Name != name {
			t.Errorf("FindScenario(%q) = %q, %v", name, s.Name, ok)
		}
	}
}

func TestEffectiveTimeout(t *testing.T) {
	for _, tt := range []struct {
		s    Scenario
		want time.Duration
	}{
		{Scenario{Protocol: model.ProtocolBundle}, BundleTimeout},
		{Scenario{Protocol: model.ProtocolRequirements}, RequirementsTimeout},
		{Scenario{Protocol: model.ProtocolBundle, Timeout: 3 * time.Second}, 3 * time.Second},
	} {
		if got := tt.s.EffectiveTimeout(); got != tt.want {
			t.Errorf("EffectiveTimeout(%+v) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// jwtClaims splits a demo JWT and checks its unsigned form.
func jwtClaims(t *testing.T, name, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%s has %d parts, want 3", name, len(parts))
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || string(header) != `{"alg":"none","typ":"JWT"}` {
		t.Errorf("%s header = %q (%v)", name, header, err)
	}
	if parts[2] != "ZmFrZS1zaWduYXR1cmU" {
		t.Errorf("%s signature = %q", name, parts[2])
	}
	if strings.Contains(tok, "=") {
		t.Errorf("%s uses base64 padding", name)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("%s claims: %v", name, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatalf("%s claims are not JSON: %v", name, err)
	}
	return claims
}

func TestStartDemoWritesCodexHome(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			before := time.Now()
			d := startDemo(t, s)
			root := filepath.Dir(d.CodexHome)
			if !strings.HasPrefix(filepath.Base(root), "reqdoctor-demo-") || filepath.Dir(root) != filepath.Clean(os.TempDir()) ||
				filepath.Base(d.CodexHome) != "codex-home" || d.SystemConfigDir != filepath.Join(root, "etc-codex") {
				t.Errorf("CODEX_HOME = %s, system dir %s, want %s/reqdoctor-demo-*/{codex-home,etc-codex}", d.CodexHome, d.SystemConfigDir, os.TempDir())
			}
			if d.Scenario.Name != s.Name {
				t.Errorf("Demo.Scenario = %q", d.Scenario.Name)
			}

			// config.toml points Codex at the backend, file store.
			cfgPath := filepath.Join(d.CodexHome, "config.toml")
			raw, err := os.ReadFile(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			var cfg map[string]any
			if err := toml.Unmarshal(raw, &cfg); err != nil {
				t.Fatalf("config.toml: %v", err)
			}
			if cfg["chatgpt_base_url"] != d.Backend.URL || cfg["cli_auth_credentials_store"] != "file" {
				t.Errorf("config.toml = %v, want chatgpt_base_url %q and the file store", cfg, d.Backend.URL)
			}
			if mc := model.LoadConfig(d.CodexHome); mc.Err != nil || mc.BaseURL != d.Backend.URL || mc.CredentialsStore != "file" {
				t.Errorf("model.LoadConfig = %+v", mc)
			}

			// auth.json: 0600, JSON, the fake login.
			authPath := filepath.Join(d.CodexHome, "auth.json")
			info, err := os.Stat(authPath)
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Errorf("auth.json mode = %o, want 600", perm)
			}
			raw, err = os.ReadFile(authPath)
			if err != nil {
				t.Fatal(err)
			}
			var auth struct {
				AuthMode string  `json:"auth_mode"`
				APIKey   *string `json:"OPENAI_API_KEY"`
				Tokens   *struct {
					IDToken      string `json:"id_token"`
					AccessToken  string `json:"access_token"`
					RefreshToken string `json:"refresh_token"`
					AccountID    string `json:"account_id"`
				} `json:"tokens"`
				LastRefresh *time.Time `json:"last_refresh"`
			}
			if err := json.Unmarshal(raw, &auth); err != nil {
				t.Fatalf("auth.json is not JSON: %v", err)
			}
			if auth.AuthMode != s.AuthMode {
				t.Errorf("auth_mode = %q, want %q", auth.AuthMode, s.AuthMode)
			}
			if s.AuthMode == DemoAuthAPIKey {
				if auth.APIKey == nil || !strings.HasPrefix(*auth.APIKey, "sk-demo-") || auth.Tokens != nil {
					t.Errorf("api-key auth.json = %s", raw)
				}
			} else {
				if auth.APIKey != nil || auth.Tokens == nil {
					t.Fatalf("ChatGPT auth.json = %s", raw)
				}
				if auth.Tokens.AccountID != DemoAccountID || !strings.HasPrefix(auth.Tokens.RefreshToken, "rt-demo-") {
					t.Errorf("tokens: account_id %q, refresh_token prefix wrong", auth.Tokens.AccountID)
				}
				id := jwtClaims(t, "id_token", auth.Tokens.IDToken)
				access := jwtClaims(t, "access_token", auth.Tokens.AccessToken)
				for name, claims := range map[string]map[string]any{"id_token": id, "access_token": access} {
					exp, _ := claims["exp"].(float64)
					if got := time.Unix(int64(exp), 0).Sub(before); got < 24*time.Hour-time.Minute || got > 24*time.Hour+time.Minute {
						t.Errorf("%s exp is %v from now, want 24 h", name, got)
					}
					ac, _ := claims["https://api.openai.com/auth"].(map[string]any)
					if ac["chatgpt_plan_type"] != s.Plan || ac["chatgpt_user_id"] != DemoUserID || ac["chatgpt_account_id"] != DemoAccountID {
						t.Errorf("%s auth claims = %v", name, ac)
					}
				}
				if id["email"] != DemoEmail {
					t.Errorf("id_token email = %v", id["email"])
				}
				if auth.LastRefresh == nil {
					t.Error("last_refresh missing")
				} else if ago := before.Sub(*auth.LastRefresh); ago < 9*time.Minute || ago > 11*time.Minute {
					t.Errorf("last_refresh is %v ago, want 10 min", ago)
				}
			}

			// The reader reqdoctor uses agrees.
			ma, err := model.LoadAuth(authPath, time.Now())
			if err != nil {
				t.Fatalf("model.LoadAuth: %v", err)
			}
			if string(ma.Mode) != s.AuthMode {
				t.Errorf("model.LoadAuth mode = %q, want %q", ma.Mode, s.AuthMode)
			}
			if s.AuthMode == DemoAuthChatGPT && (ma.ID.Email != DemoEmail || ma.ID.PlanType != s.Plan ||
				ma.ID.UserID != DemoUserID || ma.ID.AccountID != DemoAccountID || ma.AccountID != DemoAccountID) {
				t.Errorf("model.LoadAuth identity = %+v, account %q", ma.ID, ma.AccountID)
			}

			// A cache only where the scenario asks for one.
			cachePath := filepath.Join(d.CodexHome, model.CacheFileName(s.Protocol))
			if _, err := os.Stat(cachePath); s.WithValidCache != (err == nil) {
				t.Errorf("cache file present = %v, want %v", err == nil, s.WithValidCache)
			}
			entries, _ := os.ReadDir(d.CodexHome)
			if want := 2 + btoi(s.WithValidCache); len(entries) != want {
				t.Errorf("CODEX_HOME holds %d files, want %d", len(entries), want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The valid-cache scenario's cache must pass every check of
// codex-behavior.md §4, verified here from the documented key.
func TestDemoCacheIsValid(t *testing.T) {
	keys := map[model.Protocol]string{
		model.ProtocolBundle:       "codex-cloud-config-bundle-cache-v1-6160ae70-bcfd-4ca8-a99b-40f73b3b072e",
		model.ProtocolRequirements: "codex-cloud-requirements-cache-v3-064f8542-75b4-494c-a294-97d3ce597271",
	}
	base, _ := FindScenario("valid-cache")
	for _, p := range []model.Protocol{model.ProtocolBundle, model.ProtocolRequirements} {
		t.Run(string(p), func(t *testing.T) {
			s := base
			s.Protocol = p
			now := time.Now()
			d := startDemo(t, s)
			raw, err := os.ReadFile(filepath.Join(d.CodexHome, model.CacheFileName(p)))
			if err != nil {
				t.Fatal(err)
			}
			var file struct {
				SignedPayload json.RawMessage `json:"signed_payload"`
				Signature     string          `json:"signature"`
			}
			if err := json.Unmarshal(raw, &file); err != nil {
				t.Fatalf("cache is not JSON: %v", err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, file.SignedPayload); err != nil {
				t.Fatal(err)
			}
			mac := hmac.New(sha256.New, []byte(keys[p]))
			mac.Write(compact.Bytes())
			if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); file.Signature != want {
				t.Errorf("signature = %q, want %q", file.Signature, want)
			}
			var payload struct {
				Version   *int      `json:"version"`
				CachedAt  time.Time `json:"cached_at"`
				ExpiresAt time.Time `json:"expires_at"`
				UserID    string    `json:"chatgpt_user_id"`
				AccountID string    `json:"account_id"`
				Contents  *string   `json:"contents"`
				Bundle    *struct {
					RequirementsTOML struct {
						EnterpriseManaged []model.Fragment `json:"enterprise_managed"`
					} `json:"requirements_toml"`
				} `json:"bundle"`
			}
			if err := json.Unmarshal(file.SignedPayload, &payload); err != nil {
				t.Fatal(err)
			}
			if payload.UserID != DemoUserID || payload.AccountID != DemoAccountID {
				t.Errorf("cached identity %q/%q", payload.UserID, payload.AccountID)
			}
			if got := payload.ExpiresAt.Sub(payload.CachedAt); got != model.CacheTTL(p) {
				t.Errorf("expires_at − cached_at = %v, want the TTL %v", got, model.CacheTTL(p))
			}
			if !payload.CachedAt.Before(now) || !payload.ExpiresAt.After(now) {
				t.Errorf("cache from %v to %v does not cover now", payload.CachedAt, payload.ExpiresAt)
			}
			if p == model.ProtocolBundle {
				if left := payload.ExpiresAt.Sub(now); left < 44*time.Minute || left > 46*time.Minute {
					t.Errorf("bundle cache expires in %v, want 45 min", left)
				}
				if payload.Version == nil || *payload.Version != 1 || payload.Bundle == nil ||
					!slices.Equal(payload.Bundle.RequirementsTOML.EnterpriseManaged, s.CachedRequirements) {
					t.Errorf("bundle payload = %s", file.SignedPayload)
				}
			} else if payload.Contents == nil || *payload.Contents != s.CachedRequirements[0].Contents {
				t.Errorf("requirements payload = %s", file.SignedPayload)
			}
			// And reqdoctor's own cache checker accepts it.
			v := model.CheckCache(d.CodexHome, p, DemoUserID, DemoAccountID, time.Now())
			if !v.Usable {
				t.Errorf("model.CheckCache: not usable: %s (%+v)", v.Reason, v.Checks)
			}
		})
	}
}

func TestDemoCloseRemovesHomeAndStopsBackend(t *testing.T) {
	s, _ := FindScenario("timeout") // a hanging request must not hold Close up
	d, err := StartDemo(s)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if resp, err := http.Get(endpoint(d)); err == nil {
			resp.Body.Close()
		}
	}()
	waitRequests(t, d.Backend, 1)
	done := make(chan error, 1)
	go func() { done <- d.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close blocked")
	}
	if _, err := os.Stat(filepath.Dir(d.CodexHome)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("demo folder still there after Close: %v", err)
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	if resp, err := client.Get(endpoint(d)); err == nil {
		resp.Body.Close()
		t.Errorf("backend still answers after Close: %d", resp.StatusCode)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartDemoRejectsBadAuthMode(t *testing.T) {
	s, _ := FindScenario("success")
	s.AuthMode = "keyring"
	d, err := StartDemo(s)
	if err == nil {
		d.Close()
		t.Fatal("StartDemo accepted auth mode keyring")
	}
	if !strings.Contains(err.Error(), `"keyring"`) || !strings.Contains(err.Error(), `"success"`) {
		t.Errorf("error %q should name the scenario and the mode", err)
	}
}

// TestScenarioReplies sends each scenario's requests with net/http and
// checks the statuses, then the first answer against a golden file.
func TestScenarioReplies(t *testing.T) {
	// Statuses of consecutive requests; 0 means the backend never answers.
	want := map[string][]int{
		"success":                  {200},
		"multi-fragment":           {200},
		"none":                     {200},
		"not-eligible":             {200},
		"api-key":                  {200},
		"timeout":                  {0},
		"unauthorized":             {401, 401},
		"flaky":                    {503, 503, 200},
		"server-error":             {500, 500, 500, 500, 500},
		"invalid-toml":             {200},
		"bad-value":                {200},
		"unknown-variant":          {200},
		"unknown-keys":             {200},
		"valid-cache":              {200},
		"stale-cache":              {200},
		"cache-hides-outage":       {500, 500, 500, 500, 500},
		"local-sources":            {200},
		"legacy-requirements":      {200},
		"legacy-shape":             {200},
		"requirements-parse-error": {200},
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			statuses, ok := want[s.Name]
			if !ok {
				t.Fatalf("no expected statuses for scenario %q", s.Name)
			}
			if e := s.Expect.Attempts + s.Expect.LiveRequests; e > 0 && e != len(statuses) {
				t.Errorf("Expect.Attempts = %d but the replies are designed for %d", e, len(statuses))
			}
			d := startDemo(t, s)
			client := &http.Client{Timeout: 300 * time.Millisecond}
			var first string
			for i, wantStatus := range statuses {
				req, _ := http.NewRequest(http.MethodGet, endpoint(d), nil)
				resp, err := client.Do(req)
				if wantStatus == 0 {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("request %d answered %d, want no answer", i+1, resp.StatusCode)
					}
					first = "no answer: the backend holds the request until the client gives up\n"
					continue
				}
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				body := new(bytes.Buffer)
				_, _ = body.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != wantStatus {
					t.Errorf("request %d: status %d, want %d", i+1, resp.StatusCode, wantStatus)
				}
				if i == 0 {
					first = fmt.Sprintf("HTTP %d %s\n\n%s\n", resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
				if i == len(statuses)-1 && s.Expect.StatusCode != 0 && resp.StatusCode != s.Expect.StatusCode {
					t.Errorf("last status %d, want Expect.StatusCode %d", resp.StatusCode, s.Expect.StatusCode)
				}
			}
			if got := len(d.Backend.Requests()); got != len(statuses) {
				t.Errorf("backend recorded %d requests, want %d", got, len(statuses))
			}
			checkGolden(t, filepath.Join("testdata", "demo", s.Name+".golden"), first)
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with REQDOCTOR_UPDATE_GOLDEN=1 to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestScenarioPolicies decodes each scenario's successful answer the way
// Codex does and checks the policies against Expect: fields and their
// sources, unknown keys, and where an invalid document fails.
func TestScenarioPolicies(t *testing.T) {
	for _, s := range Scenarios() {
		if s.Expect.Outcome == "not_applicable" || s.WithValidCache || s.Expect.ErrorCode == string(CodeAuth) ||
			s.Expect.ErrorCode == string(CodeTimeout) || s.Expect.ErrorCode == string(CodeRequestFailed) {
			continue // no policy reaches the parser in these
		}
		t.Run(s.Name, func(t *testing.T) {
			n := max(s.Expect.Attempts, 1)
			rep := s.Replies(n, httptestRequest(s))
			if rep.Status != 0 && rep.Status != 200 {
				t.Fatalf("reply %d has status %d", n, rep.Status)
			}
			payload, err := Decode(s.Protocol, []byte(rep.Body))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var layers []*model.Layer
			var perr error
			if s.Protocol == model.ProtocolRequirements {
				if payload.Contents != nil {
					var l *model.Layer
					l, perr = model.ParseRequirements(*payload.Contents, model.CloudRequirementsSource)
					layers = append(layers, l)
				}
			} else {
				for _, f := range payload.RequirementsFragments {
					var l *model.Layer
					if l, perr = model.ParseRequirements(f.Contents, model.FragmentSource(f)); perr != nil {
						break
					}
					layers = append(layers, l)
				}
				if s.Name == "legacy-shape" && !payload.LegacyShape {
					t.Error("legacy-shape: Decode does not flag the old shape")
				}
			}
			var merged *model.Requirements
			if perr == nil {
				merged = model.Merge(layers...)
				perr = merged.Validate()
			}
			e := s.Expect
			switch e.Outcome {
			case "error":
				var re *model.RequirementsError
				if !errors.As(perr, &re) {
					t.Fatalf("want a RequirementsError, got %v", perr)
				}
				if e.ErrorLine != 0 && re.Line != e.ErrorLine {
					t.Errorf("error at line %d, want %d: %v", re.Line, e.ErrorLine, re)
				}
				if e.ErrorField != "" && re.Field != e.ErrorField && !strings.HasPrefix(re.Field, e.ErrorField+"[") &&
					!strings.HasPrefix(re.Field, e.ErrorField+".") {
					t.Errorf("error field %q, want %q: %v", re.Field, e.ErrorField, re)
				}
			case "no_requirements":
				if perr != nil || !merged.Empty() {
					t.Errorf("want no requirements, got %v / %v", perr, merged)
				}
			case "requirements":
				if perr != nil {
					t.Fatalf("policies rejected: %v", perr)
				}
				if !slices.Equal(merged.Order, e.Fields) {
					t.Errorf("fields %v, want %v", merged.Order, e.Fields)
				}
				for field, src := range e.Sources {
					if merged.Sources[field] != src {
						t.Errorf("%s set by %q, want %q", field, merged.Sources[field], src)
					}
				}
				var unknown []string
				for _, l := range layers {
					unknown = append(unknown, l.Unknown...)
				}
				if !slices.Equal(unknown, e.UnknownKeys) {
					t.Errorf("unknown keys %v, want %v", unknown, e.UnknownKeys)
				}
			}
		})
	}
}

// The demo's TOML reads as TOML, except where a scenario breaks it on
// purpose: there on line 3.
func TestScenarioTOMLIsReadable(t *testing.T) {
	broken := map[string]bool{policyInvalidTOML.Contents: true, requirementsParseError: true}
	for _, c := range []string{policySuccess.Contents, policyBaseline.Contents, policySecurity.Contents,
		policyMCP.Contents, configDefaults.Contents, policyUnknownKeys.Contents, policyBadValue.Contents,
		policyUnknownVariant.Contents, policyInvalidTOML.Contents, requirementsParseError} {
		var v map[string]any
		err := toml.Unmarshal([]byte(c), &v)
		if broken[c] {
			var de *toml.DecodeError
			if !errors.As(err, &de) {
				t.Errorf("want a TOML error for:\n%s", c)
				continue
			}
			if line, _ := de.Position(); line != 3 {
				t.Errorf("TOML error on line %d, want 3: %v", line, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("TOML error %v in:\n%s", err, c)
		}
		if !strings.HasSuffix(c, "\n") || strings.Contains(c, "\t") {
			t.Errorf("demo TOML should end with a newline and use no tabs:\n%s", c)
		}
	}
}
