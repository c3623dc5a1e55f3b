package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// Hostile text as a server or a file could carry it: a clipboard write
// (OSC 52), a hyperlink (OSC 8), a screen clear (CSI), a C1 CSI, a bell and
// a right-to-left override.
const (
	osc52 = "\x1b]52;c;ZXZpbA==\x07"
	osc8  = "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07"
	csi   = "\x1b[2J"
	c1    = "\u009b31m"
	rlo   = "\u202e"
)

var hostile = osc52 + osc8 + csi + c1 + rlo

// assertInert fails if out holds anything a terminal would act on.
func assertInert(t *testing.T, what, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e"} {
		if i := strings.Index(out, bad); i >= 0 {
			lo := max(i-40, 0)
			t.Errorf("%s: raw %q reached the output near %q", what, bad, out[lo:min(i+40, len(out))])
		}
	}
}

func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none"}) + "." + enc(claims) + ".c2ln"
}

// TestServerAndFileTextCannotDriveTheTerminal puts escape sequences in
// every place text comes from outside — fragment names and ids, TOML keys
// and values, error bodies, the e-mail claim, a local requirements file —
// and checks plain and JSON output show them inert.
func TestServerAndFileTextCannotDriveTheTerminal(t *testing.T) {
	frag := model.Fragment{ID: "id" + csi, Name: "Evil " + osc52 + rlo,
		Contents: "\"\\u001b]52;c;a2V5\\u0007key\" = 1\nenforce_residency = \"" + strings.ReplaceAll(hostile, "\x1b", "\\u001b") + "\"\n"}
	frag.Contents = strings.NewReplacer("\x07", "\\u0007", "\u009b", "\\u009b").Replace(frag.Contents)
	for _, tc := range []struct {
		name    string
		replies func(int, *http.Request) fetch.Reply
	}{
		{"invalid value", func(int, *http.Request) fetch.Reply {
			return fetch.Reply{Body: fetch.BundleBody([]model.Fragment{frag}, nil)}
		}},
		{"unknown key", func(int, *http.Request) fetch.Reply {
			f := frag
			f.Contents = "\"\\u001b[31mred\\u202e\" = 1\nenforce_residency = \"us\"\n"
			return fetch.Reply{Body: fetch.BundleBody([]model.Fragment{f}, nil)}
		}},
		{"error body", func(int, *http.Request) fetch.Reply {
			return fetch.Reply{Status: 503, ContentType: "text/plain", Body: "upstream " + hostile}
		}},
		{"html title", func(int, *http.Request) fetch.Reply {
			return fetch.Reply{Status: 403, ContentType: "text/html", Body: "<html><title>" + hostile + "</title></html>"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			demo, err := fetch.StartDemo(fetch.Scenario{Name: "hostile", Protocol: model.ProtocolBundle, Plan: "enterprise",
				AuthMode: fetch.DemoAuthChatGPT, Replies: tc.replies, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer demo.Close()
			// The login's e-mail claim and a local file carry escapes too.
			auth := map[string]any{"auth_mode": "chatgpt", "tokens": map[string]any{
				"id_token": unsignedJWT(t, map[string]any{"email": "dana" + osc52 + "@example.com",
					"https://api.openai.com/auth": map[string]any{"chatgpt_plan_type": "enterprise",
						"chatgpt_user_id": "user-" + csi, "chatgpt_account_id": "acct-1"}}),
				"access_token":  unsignedJWT(t, map[string]any{"exp": time.Now().Add(time.Hour).Unix()}),
				"refresh_token": "rt-x", "account_id": "acct-1" + rlo}}
			raw, _ := json.Marshal(auth)
			os.WriteFile(filepath.Join(demo.CodexHome, "auth.json"), raw, 0o600)
			os.WriteFile(filepath.Join(demo.SystemConfigDir, "requirements.toml"), []byte("allowed_sandbox_modes = [\"read-only\", \"\\u001b[5m\"]\n"), 0o600)
			for _, mode := range []string{"--plain", "--json"} {
				r := reqdoctor(t, nil, mode, "--codex-home", demo.CodexHome, "--system-config-dir", demo.SystemConfigDir, "--protocol", "bundle", "--timeout", "5s")
				assertInert(t, tc.name+" "+mode, r.stdout+r.stderr)
				// The text is still there, shown as visible escapes.
				visible := `\x1b`
				if mode == "--json" {
					visible = `\u001b`
				}
				if !strings.Contains(r.stdout, visible) {
					t.Errorf("%s %s: no visible %s in the output:\n%s", tc.name, mode, visible, r.stdout)
				}
				if mode == "--json" {
					var doc map[string]any
					if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
						t.Errorf("JSON no longer parses: %v", err)
					}
				}
			}
		})
	}
}
