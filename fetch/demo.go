package fetch

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/reqdoctor/reqdoctor/model"
)

// DefaultScenario is the scenario `reqdoctor --demo` runs without a name.
const DefaultScenario = "success"

// The fake enterprise login of every demo CODEX_HOME.
const (
	DemoEmail     = "dana@example.com"
	DemoUserID    = "user-demo-0001"
	DemoAccountID = "acct-demo-0001"
)

// Auth modes a Scenario can ask for.
const (
	DemoAuthChatGPT = "chatgpt"
	DemoAuthAPIKey  = "apikey"
)

// Scenario is one `reqdoctor --demo=<name>` run: the login, the backend's
// behaviour, and what reqdoctor must conclude, per codex-behavior.md.
type Scenario struct {
	Name  string
	Title string
	// Story says in a sentence or two what the scenario shows and what
	// Codex would do; for --demo listings.
	Story    string
	Protocol model.Protocol
	Plan     string // chatgpt_plan_type in the id_token
	AuthMode string // DemoAuthChatGPT or DemoAuthAPIKey
	// Timeout overrides the overall fetch deadline; 0 means Codex's own
	// (BundleTimeout or RequirementsTimeout).
	Timeout time.Duration
	Replies func(n int, r *http.Request) Reply
	// WithValidCache writes a valid signed cache holding CachedRequirements
	// (requirements generation: the first fragment's contents).
	WithValidCache     bool
	CachedRequirements []model.Fragment
	// SystemFiles are written to the demo's stand-in for /etc/codex
	// (requirements.toml, managed_config.toml), by file name.
	SystemFiles map[string]string
	// UserConfig is appended to the demo's config.toml (the user's own
	// settings, e.g. approval_policy).
	UserConfig string
	Expect     Expectation
}

// Expectation is what reqdoctor must report for a scenario.
type Expectation struct {
	Outcome   string // requirements | no_requirements | not_applicable | error
	ErrorCode string // "" or Codex's code (Auth, Timeout, Parse, RequestFailed, InvalidBundle)
	Attempts  int    // HTTP requests the backend receives
	ExitCode  int
	// LiveRequests are requests reqdoctor makes on its own to compare a
	// valid cache with the server (Codex makes none then).
	LiveRequests int
	// StatusCode is the last HTTP status reported with the error; 0 when
	// the error carries none or there is no error.
	StatusCode int
	// Fields are the requirement fields of the merged result in first-seen
	// order, when Outcome is requirements.
	Fields []string
	// Sources maps a field to the layer Codex names as having set it, for
	// the fields where the merge matters.
	Sources map[string]string
	// UnknownKeys are top-level keys Codex ignores; reqdoctor warns.
	UnknownKeys []string
	// ErrorField is the top-level field an invalid document fails on; the
	// reported path may go deeper (allowed_approval_policies[1]). "" = none.
	ErrorField string
	// ErrorLine is the line of a TOML syntax error; 0 = none.
	ErrorLine int
}

// EffectiveTimeout is the deadline the demo fetch runs under.
func (s Scenario) EffectiveTimeout() time.Duration {
	switch {
	case s.Timeout > 0:
		return s.Timeout
	case s.Protocol == model.ProtocolRequirements:
		return RequirementsTimeout
	default:
		return BundleTimeout
	}
}

// The policies of the demo workspace, as an admin would write them.
var (
	policySuccess = model.Fragment{
		ID:   "policy-eng-001",
		Name: "Acme engineering policy",
		Contents: `# Acme Corp — engineering workspace policy.
# Set in the ChatGPT admin console; Codex fetches it at startup.

allowed_approval_policies = ["on-request", "untrusted"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
enforce_residency = "us"

[features]
web_search_request = false

[mcp_servers.docs]
identity = { command = "docs-mcp" }
`,
	}

	policyCloudBaseline = model.Fragment{
		ID: "policy-cloud-001", Name: "Workspace approvals",
		Contents: `# Set in the ChatGPT admin console.
allowed_approval_policies = ["on-request"]
enforce_residency = "us"
`,
	}
	policyBaseline = model.Fragment{
		ID:   "policy-base-001",
		Name: "Acme baseline",
		Contents: `# Baseline for every member of the Acme workspace.
allowed_approval_policies = ["on-request"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
`,
	}
	policySecurity = model.Fragment{
		ID:   "policy-sec-002",
		Name: "Security team",
		Contents: `# Security team additions. The sandbox line below has no effect:
# the baseline sets allowed_sandbox_modes first, and the first one wins.
allowed_sandbox_modes = ["read-only"]
allowed_web_search_modes = ["cached"]
enforce_residency = "us"
`,
	}
	policyMCP = model.Fragment{
		ID:   "policy-mcp-003",
		Name: "Approved MCP servers",
		Contents: `# Only these MCP servers may run.
[mcp_servers.docs]
identity = { command = "docs-mcp" }

[mcp_servers.tracker]
identity = { url = "https://mcp.example.com/tracker" }
`,
	}
	configDefaults = model.Fragment{
		ID:   "config-defaults-001",
		Name: "Acme defaults",
		Contents: `# Defaults for config.toml; users may override them.
model_reasoning_effort = "high"
approval_policy = "on-request"
`,
	}

	policyUnknownKeys = model.Fragment{
		ID:   "policy-eng-001",
		Name: "Acme engineering policy",
		Contents: `# Two mistakes here, and Codex reports neither.
# A typo ("aproval"): Codex ignores the key, so approvals are not limited.
allowed_aproval_policies = ["on-request"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
enforce_residency = "us"
# approval_policy is a config.toml setting, not a requirement.
approval_policy = "never"
`,
	}

	policyInvalidTOML = model.Fragment{
		ID:   "policy-eng-001",
		Name: "Acme engineering policy",
		Contents: `# Acme Corp — engineering workspace policy.
allowed_approval_policies = ["on-request", "untrusted"]
enforce_residency = us
allowed_sandbox_modes = ["read-only", "workspace-write"]
`,
	}

	policyBadValue = model.Fragment{
		ID:   "policy-eng-001",
		Name: "Acme engineering policy",
		Contents: `# Acme Corp — engineering workspace policy.
allowed_approval_policies = ["on-request"]
# Codex requires "read-only" in this list.
allowed_sandbox_modes = ["workspace-write"]
`,
	}

	policyUnknownVariant = model.Fragment{
		ID:   "policy-eng-001",
		Name: "Acme engineering policy",
		Contents: `# Acme Corp — engineering workspace policy.
allowed_approval_policies = ["on-request", "ask-every-time"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
`,
	}

	requirementsParseError = `# Acme Corp — workspace requirements.
allowed_approval_policies = ["on-request"]
allowed_sandbox_modes = "read-only", "workspace-write"
`
)

// Canned non-success bodies, the kind real proxies and servers send.
const (
	body401 = `{"error":{"message":"Your authentication token has expired. Please try signing in again.","type":"invalid_request_error","code":"token_expired"}}`
	body503 = "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
	body500 = `{"detail":"Internal Server Error"}`
	// Some of server-error's answers come from the proxy in front.
	body500HTML   = "<html>\n<head><title>500 Internal Server Error</title></head>\n<body>\n<center><h1>500 Internal Server Error</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
	bodyCacheMiss = `{"detail":"Internal Server Error"}`
)

// policyReplies answers the bundle path with the fragments and the
// requirements path with the first requirements fragment, so a scenario
// also works when the protocol is overridden.
func policyReplies(req, cfg []model.Fragment) func(int, *http.Request) Reply {
	bundle := BundleBody(req, cfg)
	var contents *string
	if len(req) > 0 {
		contents = &req[0].Contents
	}
	requirements := RequirementsBody(contents)
	return func(_ int, r *http.Request) Reply {
		if IsBundlePath(r.URL.Path) {
			return Reply{Body: bundle}
		}
		return Reply{Body: requirements}
	}
}

// contentsReplies answers every config path with {"contents": contents}:
// a server of the requirements generation.
func contentsReplies(contents string) func(int, *http.Request) Reply {
	body := RequirementsBody(&contents)
	return func(int, *http.Request) Reply { return Reply{Body: body} }
}

func constReply(rep Reply) func(int, *http.Request) Reply {
	return func(int, *http.Request) Reply { return rep }
}

var successFields = []string{"allowed_approval_policies", "allowed_sandbox_modes", "enforce_residency", "features", "mcp_servers"}

// Scenarios returns every demo scenario, DefaultScenario first. Each call
// returns fresh values, so callers may modify them.
func Scenarios() []Scenario {
	succ := []model.Fragment{policySuccess}
	return []Scenario{
		{
			Name:     "success",
			Title:    "Policies load",
			Story:    "An Enterprise user; the backend sends one policy fragment. Codex starts with these requirements.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies(succ, nil),
			Expect: Expectation{Outcome: "requirements", Attempts: 1, ExitCode: 0,
				Fields: successFields,
				Sources: map[string]string{
					"allowed_approval_policies": model.FragmentSource(policySuccess),
				}},
		},
		{
			Name:     "multi-fragment",
			Title:    "Several fragments merge",
			Story:    "Three requirement fragments and a config fragment. Two set allowed_sandbox_modes: the first one wins.",
			Protocol: model.ProtocolBundle, Plan: "business", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies([]model.Fragment{policyBaseline, policySecurity, policyMCP}, []model.Fragment{configDefaults}),
			Expect: Expectation{Outcome: "requirements", Attempts: 1, ExitCode: 0,
				Fields: []string{"allowed_approval_policies", "allowed_sandbox_modes", "allowed_web_search_modes", "enforce_residency", "mcp_servers"},
				Sources: map[string]string{
					"allowed_approval_policies": model.FragmentSource(policyBaseline),
					"allowed_sandbox_modes":     model.FragmentSource(policyBaseline),
					"allowed_web_search_modes":  model.FragmentSource(policySecurity),
					"enforce_residency":         model.FragmentSource(policySecurity),
					"mcp_servers":               model.FragmentSource(policyMCP),
				}},
		},
		{
			Name:     "none",
			Title:    "No policies set",
			Story:    "The workspace has no policies: the backend sends empty fragment lists. Codex starts without requirements.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies(nil, nil),
			Expect:  Expectation{Outcome: "no_requirements", Attempts: 1, ExitCode: 0},
		},
		{
			Name:     "not-eligible",
			Title:    "Plan not eligible",
			Story:    "A Pro user: Codex fetches workspace policies only for eligible plans, so it makes no request and starts normally.",
			Protocol: model.ProtocolBundle, Plan: "pro", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies(succ, nil),
			Expect:  Expectation{Outcome: "not_applicable", Attempts: 0, ExitCode: 0},
		},
		{
			Name:     "api-key",
			Title:    "API key login",
			Story:    "Logged in with an API key: cloud requirements apply only to ChatGPT logins, so Codex makes no request.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthAPIKey,
			Replies: policyReplies(succ, nil),
			Expect:  Expectation{Outcome: "not_applicable", Attempts: 0, ExitCode: 0},
		},
		{
			Name:     "timeout",
			Title:    "Backend never answers",
			Story:    "The backend accepts the request and never answers. Codex gives up at its deadline (20 s; 3 s in this demo) and refuses to start.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Timeout: 3 * time.Second,
			Replies: constReply(Reply{Hang: true}),
			// Codex drops a hanging request after 5 s and re-sends it; a
			// 3 s deadline ends before that.
			Expect: Expectation{Outcome: "error", ErrorCode: string(CodeTimeout), Attempts: 1, ExitCode: 124},
		},
		{
			Name:     "unauthorized",
			Title:    "Login rejected (401)",
			Story:    "Every request gets 401. Codex reloads auth.json and tries once more, then needs a token refresh; the user must sign in again.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: constReply(Reply{Status: http.StatusUnauthorized, Body: body401}),
			Expect: Expectation{Outcome: "error", ErrorCode: string(CodeAuth), Attempts: 2, ExitCode: 4,
				StatusCode: http.StatusUnauthorized},
		},
		{
			Name:     "flaky",
			Title:    "Two 503s, then success",
			Story:    "The backend fails twice with 503. Codex backs off (≈0.2 s, 0.4 s), retries, and the third attempt loads the policies.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: func(n int, r *http.Request) Reply {
				if n <= 2 {
					return Reply{Status: http.StatusServiceUnavailable, Body: body503, ContentType: "text/plain"}
				}
				return policyReplies(succ, nil)(n, r)
			},
			Expect: Expectation{Outcome: "requirements", Attempts: 3, ExitCode: 0, Fields: successFields},
		},
		{
			Name:     "server-error",
			Title:    "Backend keeps failing (500)",
			Story:    "Every attempt gets 500, some as an HTML page from a proxy. After 5 attempts Codex gives up and refuses to start.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: func(n int, _ *http.Request) Reply {
				if n%2 == 1 {
					return Reply{Status: http.StatusInternalServerError, Body: body500HTML, ContentType: "text/html"}
				}
				return Reply{Status: http.StatusInternalServerError, Body: body500}
			},
			Expect: Expectation{Outcome: "error", ErrorCode: string(CodeRequestFailed), Attempts: MaxAttempts, ExitCode: 1,
				StatusCode: http.StatusInternalServerError},
		},
		{
			Name:     "invalid-toml",
			Title:    "Policy is not valid TOML",
			Story:    "A policy fragment has a TOML syntax error on line 3 (a value without quotes). Codex refuses to start; no retry.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies([]model.Fragment{policyInvalidTOML}, nil),
			Expect: Expectation{Outcome: "error", ErrorCode: string(CodeInvalidBundle), Attempts: 1, ExitCode: 1,
				ErrorLine: 3},
		},
		{
			Name:     "bad-value",
			Title:    "Policy breaks a rule",
			Story:    `allowed_sandbox_modes lacks "read-only", which Codex requires. Codex refuses to start; no retry.`,
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies([]model.Fragment{policyBadValue}, nil),
			Expect: Expectation{Outcome: "error", ErrorCode: string(CodeInvalidBundle), Attempts: 1, ExitCode: 1,
				ErrorField: "allowed_sandbox_modes"},
		},
		{
			Name:     "unknown-variant",
			Title:    "Policy has an unknown value",
			Story:    `allowed_approval_policies lists "ask-every-time", which is no approval policy. Codex refuses to start; no retry.`,
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies([]model.Fragment{policyUnknownVariant}, nil),
			Expect: Expectation{Outcome: "error", ErrorCode: string(CodeInvalidBundle), Attempts: 1, ExitCode: 1,
				ErrorField: "allowed_approval_policies"},
		},
		{
			Name:     "unknown-keys",
			Title:    "Typo in a policy key",
			Story:    "The policy misspells allowed_approval_policies and sets a config-only key. Codex ignores both silently and starts.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies([]model.Fragment{policyUnknownKeys}, nil),
			Expect: Expectation{Outcome: "requirements", Attempts: 1, ExitCode: 0,
				Fields:      []string{"allowed_sandbox_modes", "enforce_residency"},
				UnknownKeys: []string{"allowed_aproval_policies", "approval_policy"}},
		},
		{
			Name:     "valid-cache",
			Title:    "Valid cache, no request",
			Story:    "CODEX_HOME holds a signed cache for this user that expires in 45 min. Codex uses it and makes no request; reqdoctor's own live check finds the same policies on the server.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies:            policyReplies(succ, nil),
			WithValidCache:     true,
			CachedRequirements: succ,
			Expect:             Expectation{Outcome: "requirements", Attempts: 0, LiveRequests: 1, ExitCode: 0, Fields: successFields},
		},
		{
			Name:     "stale-cache",
			Title:    "Cache differs from the server",
			Story:    "A valid cache holds last hour's policy; the admin has changed it since. Codex keeps using the cached one until the cache expires; reqdoctor's live check shows the difference.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies:            policyReplies([]model.Fragment{policyBaseline}, nil),
			WithValidCache:     true,
			CachedRequirements: succ,
			Expect:             Expectation{Outcome: "requirements", Attempts: 0, LiveRequests: 1, ExitCode: 0, Fields: successFields},
		},
		{
			Name:     "cache-hides-outage",
			Title:    "Cache hides a failing server",
			Story:    "Codex starts from a valid cache, but the server now answers 500: once the cache expires, Codex will refuse to start. reqdoctor's live check warns now.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies:            constReply(Reply{Status: http.StatusInternalServerError, Body: bodyCacheMiss}),
			WithValidCache:     true,
			CachedRequirements: succ,
			Expect:             Expectation{Outcome: "requirements", Attempts: 0, LiveRequests: 5, ExitCode: 0, Fields: successFields},
		},
		{
			Name:     "local-sources",
			Title:    "Machine files and your config",
			Story:    "The cloud sets approvals; /etc/codex/requirements.toml and the legacy managed_config.toml add more below it. The user's config.toml asks for approval `never` and a sandbox the requirements forbid, and misspells a key.",
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: policyReplies([]model.Fragment{policyCloudBaseline}, nil),
			SystemFiles: map[string]string{
				"requirements.toml": `# Installed by IT on every developer laptop.
allowed_approval_policies = ["untrusted", "on-request"]
allowed_sandbox_modes = ["read-only"]

[mcp_servers.docs]
identity = { command = "docs-mcp" }
`,
				"managed_config.toml": `# Legacy managed config, still deployed by an old MDM profile.
approval_policy = "on-failure"
sandbox_mode = "workspace-write"
model = "gpt-5"
`,
			},
			UserConfig: `
# The user's own settings.
approval_policy = "never"
sandbox_mode = "workspace-write"
ask_for_approval = "on-request"
`,
			Expect: Expectation{Outcome: "requirements", Attempts: 1, ExitCode: 0,
				Fields: []string{"allowed_approval_policies", "enforce_residency"}},
		},
		{
			Name:     "legacy-requirements",
			Title:    "Older Codex (≤ 0.136)",
			Story:    `The requirements generation: GET …/config/requirements answered with {"contents": "<toml>"}.`,
			Protocol: model.ProtocolRequirements, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: contentsReplies(policySuccess.Contents),
			Expect: Expectation{Outcome: "requirements", Attempts: 1, ExitCode: 0, Fields: successFields,
				Sources: map[string]string{"allowed_approval_policies": "cloud requirements"}},
		},
		{
			Name:     "legacy-shape",
			Title:    "Old response shape",
			Story:    `The backend answers the bundle request in the old {"contents": …} shape. Codex silently reads it as no requirements.`,
			Protocol: model.ProtocolBundle, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: contentsReplies(policySuccess.Contents),
			Expect:  Expectation{Outcome: "no_requirements", Attempts: 1, ExitCode: 0},
		},
		{
			Name:     "requirements-parse-error",
			Title:    "Older Codex, invalid TOML",
			Story:    "The requirements generation with a TOML syntax error on line 3. Codex fails with Parse and refuses to start.",
			Protocol: model.ProtocolRequirements, Plan: "enterprise", AuthMode: DemoAuthChatGPT,
			Replies: contentsReplies(requirementsParseError),
			Expect: Expectation{Outcome: "error", ErrorCode: string(CodeParse), Attempts: 1, ExitCode: 1,
				ErrorLine: 3},
		},
	}
}

// FindScenario returns the scenario called name; "" means DefaultScenario.
func FindScenario(name string) (Scenario, bool) {
	if name == "" {
		name = DefaultScenario
	}
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// ScenarioNames lists the scenario names in order, for usage messages.
func ScenarioNames() []string {
	all := Scenarios()
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return names
}

// Demo is a running scenario: a fake backend and a throw-away CODEX_HOME
// with a fake login pointing at it.
type Demo struct {
	CodexHome string
	// SystemConfigDir stands in for /etc/codex, so a demo never reads the
	// machine's own requirement files.
	SystemConfigDir string
	Backend         *FakeBackend
	Scenario        Scenario

	root string // holds CodexHome and SystemConfigDir; removed by Close
}

// StartDemo starts the scenario's backend and writes a fresh CODEX_HOME
// under the system temp directory. Close removes both.
func StartDemo(s Scenario) (*Demo, error) {
	return startDemoAt(s, time.Now())
}

func startDemoAt(s Scenario, now time.Time) (*Demo, error) {
	if s.AuthMode != DemoAuthChatGPT && s.AuthMode != DemoAuthAPIKey {
		return nil, fmt.Errorf("demo scenario %q: auth mode %q is neither %q nor %q", s.Name, s.AuthMode, DemoAuthChatGPT, DemoAuthAPIKey)
	}
	backend, err := StartFakeBackend(s.Replies)
	if err != nil {
		return nil, fmt.Errorf("demo scenario %q: %w", s.Name, err)
	}
	root, err := os.MkdirTemp("", "reqdoctor-demo-*")
	if err != nil {
		backend.Close()
		return nil, fmt.Errorf("demo scenario %q: create CODEX_HOME: %w", s.Name, err)
	}
	d := &Demo{root: root, CodexHome: filepath.Join(root, "codex-home"), SystemConfigDir: filepath.Join(root, "etc-codex"),
		Backend: backend, Scenario: s}
	if err := d.writeHome(now); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo scenario %q: %w", s.Name, err)
	}
	return d, nil
}

// Secrets returns the secret strings of the demo login (tokens and API
// key), for tests that prove none of them is ever printed.
func (d *Demo) Secrets() ([]string, error) {
	raw, err := os.ReadFile(filepath.Join(d.CodexHome, "auth.json"))
	if err != nil {
		return nil, err
	}
	var a struct {
		Key    *string           `json:"OPENAI_API_KEY"`
		Tokens map[string]string `json:"tokens"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	var out []string
	if a.Key != nil {
		out = append(out, *a.Key)
	}
	for k, v := range a.Tokens {
		if k != "account_id" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Close stops the backend and removes the demo CODEX_HOME and system
// config folder.
func (d *Demo) Close() error {
	if d.Backend != nil {
		d.Backend.Close()
	}
	if d.root == "" {
		return nil
	}
	if err := os.RemoveAll(d.root); err != nil {
		return fmt.Errorf("remove demo folder %s: %w", d.root, err)
	}
	return nil
}

func (d *Demo) writeHome(now time.Time) error {
	for _, dir := range []string{d.CodexHome, d.SystemConfigDir} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
	}
	for name, contents := range d.Scenario.SystemFiles {
		if err := writeFile(filepath.Join(d.SystemConfigDir, name), []byte(contents)); err != nil {
			return err
		}
	}
	config := "# Written by reqdoctor --demo: a throw-away CODEX_HOME using a fake backend.\n" +
		fmt.Sprintf("chatgpt_base_url = %q\n", d.Backend.URL) +
		"cli_auth_credentials_store = \"file\"\n" + d.Scenario.UserConfig
	if err := writeFile(filepath.Join(d.CodexHome, "config.toml"), []byte(config)); err != nil {
		return err
	}
	auth, err := demoAuthJSON(d.Scenario, now)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(d.CodexHome, "auth.json"), auth); err != nil {
		return err
	}
	if d.Scenario.WithValidCache {
		if err := writeDemoCache(d.CodexHome, d.Scenario, now); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, data []byte) error {
	// 0600 like Codex's auth.json; nothing here is for other users.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// authDotJSON mirrors Codex's auth.json, field order included.
type authDotJSON struct {
	AuthMode     string     `json:"auth_mode"`
	OpenAIAPIKey *string    `json:"OPENAI_API_KEY"`
	Tokens       *tokenData `json:"tokens,omitempty"`
	LastRefresh  *string    `json:"last_refresh,omitempty"`
}

type tokenData struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	AccountID    string `json:"account_id"`
}

func demoAuthJSON(s Scenario, now time.Time) ([]byte, error) {
	var v authDotJSON
	if s.AuthMode == DemoAuthAPIKey {
		key := "sk-demo-" + rand.Text()
		v = authDotJSON{AuthMode: DemoAuthAPIKey, OpenAIAPIKey: &key}
	} else {
		exp := now.Add(24 * time.Hour).Unix()
		authClaims := map[string]any{
			"chatgpt_plan_type":  s.Plan,
			"chatgpt_user_id":    DemoUserID,
			"chatgpt_account_id": DemoAccountID,
		}
		idToken, err := unsignedJWT(map[string]any{
			"iss":                         "https://auth.openai.com",
			"aud":                         []string{"app_EMoamEEZ73f0CkXaXp7hrann"},
			"sub":                         "auth0|demo0001",
			"email":                       DemoEmail,
			"email_verified":              true,
			"iat":                         now.Unix(),
			"exp":                         exp,
			"https://api.openai.com/auth": authClaims,
		})
		if err != nil {
			return nil, err
		}
		accessToken, err := unsignedJWT(map[string]any{
			"iss":                            "https://auth.openai.com",
			"aud":                            []string{"https://api.openai.com/v1"},
			"sub":                            "auth0|demo0001",
			"iat":                            now.Unix(),
			"exp":                            exp,
			"https://api.openai.com/auth":    authClaims,
			"https://api.openai.com/profile": map[string]any{"email": DemoEmail, "email_verified": true},
		})
		if err != nil {
			return nil, err
		}
		last := now.Add(-10 * time.Minute).UTC().Format(time.RFC3339Nano)
		v = authDotJSON{
			AuthMode: DemoAuthChatGPT,
			Tokens: &tokenData{
				IDToken:      idToken,
				AccessToken:  accessToken,
				RefreshToken: "rt-demo-" + rand.Text(),
				AccountID:    DemoAccountID,
			},
			LastRefresh: &last,
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode auth.json: %w", err)
	}
	return append(b, '\n'), nil
}

// demoJWTSignature is base64url("fake-signature"): Codex never checks it.
const demoJWTSignature = "ZmFrZS1zaWduYXR1cmU"

// unsignedJWT builds header.claims.signature, base64url without padding.
func unsignedJWT(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode demo token claims: %w", err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		enc.EncodeToString(payload) + "." + demoJWTSignature, nil
}

// demoCacheAge is how long ago the demo cache was written: with the
// bundle generation's 1 h TTL it expires in 45 min.
const demoCacheAge = 15 * time.Minute

// writeDemoCache writes a cache Codex would accept for the demo identity,
// signed as Codex signs it, as if Codex had fetched demoCacheAge ago.
func writeDemoCache(home string, s Scenario, now time.Time) error {
	p := s.Protocol
	cached := now.Add(-demoCacheAge).UTC().Truncate(time.Second)
	expires := cached.Add(model.CacheTTL(p))
	var payload []byte
	if p == model.ProtocolRequirements {
		var contents *string
		if len(s.CachedRequirements) > 0 {
			contents = &s.CachedRequirements[0].Contents
		}
		payload = model.RequirementsCachePayload(cached, expires, DemoUserID, DemoAccountID, contents)
	} else {
		payload = model.BundleCachePayload(cached, expires, DemoUserID, DemoAccountID, s.CachedRequirements, nil)
	}
	file := model.SignCache(p, payload)
	if file == nil {
		return errors.New("demo cache: signing failed: the payload is not JSON")
	}
	return writeFile(filepath.Join(home, model.CacheFileName(p)), file)
}
