package model

import (
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImRhbmFAZXhhbXBsZS5jb20ifQ.c2lnbmF0dXJlLXRhaWw"
	tests := []struct {
		name string
		in   string
		on   string // with redaction on
		off  string // with --no-redact
	}{
		{"email", "ChatGPT login as dana@example.com", "ChatGPT login as d***@example.com", "ChatGPT login as dana@example.com"},
		{"email with dots and subdomain", "j.doe+x@mail.corp.example.co.uk", "j***@mail.corp.example.co.uk", "j.doe+x@mail.corp.example.co.uk"},
		{"user id", "user id: user-demo-0001", "user id: …0001", "user id: user-demo-0001"},
		{"account id", "account acct-abc123XYZ9", "account …XYZ9", "account acct-abc123XYZ9"},
		{"uuid account id", "account id: 3f0c1a52-9b7e-4d2a-8c11-0a1b2c3d4e5f", "account id: …4e5f", "account id: 3f0c1a52-9b7e-4d2a-8c11-0a1b2c3d4e5f"},
		{"words are not ids", "user-agent, org-wide, account-level", "user-agent, org-wide, account-level", "user-agent, org-wide, account-level"},
		{"fragment ids are kept", "Default policy (frag_01), Acme (policy-eng-001)", "Default policy (frag_01), Acme (policy-eng-001)", "Default policy (frag_01), Acme (policy-eng-001)"},
		{"home", "/home/dev/.codex/auth.json", "~/.codex/auth.json", "/home/dev/.codex/auth.json"},
		{"home alone and quoted", "HOME is /home/dev; `/home/dev`", "HOME is ~; `~`", "HOME is /home/dev; `/home/dev`"},
		{"longer name is not home", "/home/devon/x and /srv/home/dev", "/home/devon/x and /srv/home/dev", "/home/devon/x and /srv/home/dev"},
		{"jwt", "token " + jwt + " end", "token [redacted JWT] end", "token [redacted JWT] end"},
		{"bearer", "Authorization header was Bearer xyz", "Authorization header was Bearer [redacted]", "Authorization header was Bearer [redacted]"},
		{"authorization header", "Authorization: Basic dXNlcjpwYXNz | next", "Authorization: [redacted]| next", "Authorization: [redacted]| next"},
		{"cookie", "Set-Cookie: __Secure-session=abc; Path=/", "Set-Cookie: [redacted]", "Set-Cookie: [redacted]"},
		{"sk key", "key sk-proj-AbCdEfGhIjKlMnOp1234 here", "key sk-proj-[redacted] here", "key sk-proj-[redacted] here"},
		{"query token", "https://x.example/cb?access_token=abc123&state=1", "https://x.example/cb?access_token=[redacted]&state=1", "https://x.example/cb?access_token=[redacted]&state=1"},
		{"json key", `{"OPENAI_API_KEY": "sk-live-abc"}`, `{"OPENAI_API_KEY": "[redacted]"}`, `{"OPENAI_API_KEY": "[redacted]"}`},
		{"masked forms stay", "access token: JWT…1cmU (expires in 23 h); key sk-proj-…abcd", "access token: JWT…1cmU (expires in 23 h); key sk-proj-…abcd", "access token: JWT…1cmU (expires in 23 h); key sk-proj-…abcd"},
		{"nothing to do", "plan enterprise is eligible", "plan enterprise is eligible", "plan enterprise is eligible"},
	}
	on, off := NewRedactor("/home/dev/", true), NewRedactor("/home/dev", false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := on.String(tt.in); got != tt.on {
				t.Errorf("redacted:\n got %q\nwant %q", got, tt.on)
			}
			if got := off.String(tt.in); got != tt.off {
				t.Errorf("--no-redact:\n got %q\nwant %q", got, tt.off)
			}
		})
	}
	if !on.On() || off.On() {
		t.Errorf("On() = %v, %v; want true, false", on.On(), off.On())
	}
}

func TestRedactorNoHome(t *testing.T) {
	for _, home := range []string{"", "/"} {
		r := NewRedactor(home, true)
		if got := r.String("/etc/codex/requirements.toml"); got != "/etc/codex/requirements.toml" {
			t.Errorf("home %q: %q", home, got)
		}
	}
	var nilR *Redactor
	if got := nilR.String("a@b.example " + "Bearer abcdefgh"); strings.Contains(got, "abcdefgh") || !strings.Contains(got, "a@b.example") {
		t.Errorf("nil Redactor: %q (secrets masked, nothing else)", got)
	}
}
