// Package benchdata builds the inputs of reqdoctor's benchmarks: large
// requirements documents, bundle bodies and a throw-away Codex login. It
// uses only the standard library so that any package's benchmarks (and
// the bench backend) can import it without an import cycle.
package benchdata

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Identity of the throw-away login the benchmarks use.
const (
	UserID    = "user-bench-0001"
	AccountID = "acct-bench-0001"
	Email     = "bench@example.com"
	Plan      = "enterprise"
)

// Head is the policy every generated document starts with: valid under
// Codex's rules, so a merge of it validates.
const Head = `# reqdoctor benchmark policy.
allowed_approval_policies = ["on-request", "untrusted"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
enforce_residency = "us"

[features]
web_search_request = false
`

// commandPad makes each server entry about 210 bytes, so 5,000 servers
// come to about 1 MiB.
var commandPad = strings.Repeat("x", 150)

// Servers writes n [mcp_servers.sI] tables starting at index from.
func Servers(b *strings.Builder, from, n int) {
	for i := from; i < from+n; i++ {
		fmt.Fprintf(b, "\n[mcp_servers.s%d]\nidentity = { command = \"mcp-server-%d --profile %s\" }\n", i, i, commandPad)
	}
}

// Requirements is one requirements document: Head then n MCP servers.
// With n = 5000 it is about 1 MiB.
func Requirements(n int) string {
	var b strings.Builder
	b.Grow(len(Head) + n*220)
	b.WriteString(Head)
	Servers(&b, 0, n)
	return b.String()
}

// Fragment mirrors one entry of a bundle's enterprise_managed list.
type Fragment struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Contents string `json:"contents"`
}

// Fragments splits servers MCP servers over n fragments: the first carries
// Head, every one a share of the servers (Codex keeps the first fragment's
// mcp_servers and drops the rest: first fragment wins per field).
func Fragments(n, servers int) []Fragment {
	out := make([]Fragment, n)
	per := servers / n
	for i := range out {
		var b strings.Builder
		if i == 0 {
			b.WriteString(Head)
		} else {
			fmt.Fprintf(&b, "# fragment %d\n", i)
		}
		Servers(&b, i*per, per)
		out[i] = Fragment{ID: fmt.Sprintf("frag-%03d", i), Name: fmt.Sprintf("Bench policy %d", i), Contents: b.String()}
	}
	return out
}

// BundleBody is a bundle-generation response carrying frags as
// requirements and no config fragments.
func BundleBody(frags []Fragment) []byte {
	if frags == nil {
		frags = []Fragment{}
	}
	type list struct {
		EnterpriseManaged []Fragment `json:"enterprise_managed"`
	}
	body := struct {
		ConfigTOML       list `json:"config_toml"`
		RequirementsTOML list `json:"requirements_toml"`
	}{list{[]Fragment{}}, list{frags}}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

// unsignedJWT is header.claims.signature; Codex never checks the signature.
func unsignedJWT(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(err) // plain values only: cannot fail
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		enc.EncodeToString(payload) + "." + enc.EncodeToString([]byte("bench-signature"))
}

// AuthJSON is an auth.json of a ChatGPT login on the enterprise plan whose
// tokens expire a day after now.
func AuthJSON(now time.Time) []byte {
	exp := now.Add(24 * time.Hour).Unix()
	auth := map[string]any{"chatgpt_plan_type": Plan, "chatgpt_user_id": UserID, "chatgpt_account_id": AccountID}
	id := unsignedJWT(map[string]any{"iss": "https://auth.openai.com", "sub": "auth0|bench", "email": Email,
		"iat": now.Unix(), "exp": exp, "https://api.openai.com/auth": auth})
	access := unsignedJWT(map[string]any{"iss": "https://auth.openai.com", "sub": "auth0|bench",
		"iat": now.Unix(), "exp": exp, "https://api.openai.com/auth": auth})
	last := now.Add(-10 * time.Minute).UTC().Format(time.RFC3339)
	b, err := json.MarshalIndent(map[string]any{
		"auth_mode":      "chatgpt",
		"OPENAI_API_KEY": nil,
		"tokens":         map[string]any{"id_token": id, "access_token": access, "refresh_token": "rt-bench", "account_id": AccountID},
		"last_refresh":   last,
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// WriteHome writes a throw-away CODEX_HOME under dir: config.toml pointing
// chatgpt_base_url at baseURL with the file credential store, and
// auth.json. It returns the home and an empty stand-in for /etc/codex.
func WriteHome(dir, baseURL string, now time.Time) (home, systemDir string, err error) {
	home = filepath.Join(dir, "codex-home")
	systemDir = filepath.Join(dir, "etc-codex")
	for _, d := range []string{home, systemDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", "", err
		}
	}
	config := fmt.Sprintf("chatgpt_base_url = %q\ncli_auth_credentials_store = \"file\"\n", baseURL)
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(config), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(home, "auth.json"), AuthJSON(now), 0o600); err != nil {
		return "", "", err
	}
	return home, systemDir, nil
}
