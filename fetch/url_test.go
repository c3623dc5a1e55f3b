package fetch

import (
	"strings"
	"testing"

	"github.com/reqdoctor/reqdoctor/model"
)

func TestNormalizeAndEndpoint(t *testing.T) {
	tests := []struct {
		base, norm, bundle, requirements string
	}{
		{"", "https://chatgpt.com/backend-api",
			"https://chatgpt.com/backend-api/wham/config/bundle", "https://chatgpt.com/backend-api/wham/config/requirements"},
		{"https://chatgpt.com/backend-api/", "https://chatgpt.com/backend-api",
			"https://chatgpt.com/backend-api/wham/config/bundle", "https://chatgpt.com/backend-api/wham/config/requirements"},
		{"https://chatgpt.com", "https://chatgpt.com/backend-api",
			"https://chatgpt.com/backend-api/wham/config/bundle", "https://chatgpt.com/backend-api/wham/config/requirements"},
		{"https://chat.openai.com//", "https://chat.openai.com/backend-api",
			"https://chat.openai.com/backend-api/wham/config/bundle", "https://chat.openai.com/backend-api/wham/config/requirements"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080",
			"http://127.0.0.1:8080/api/codex/config/bundle", "http://127.0.0.1:8080/api/codex/config/requirements"},
		{"https://proxy.example.com/backend-api", "https://proxy.example.com/backend-api",
			"https://proxy.example.com/backend-api/wham/config/bundle", "https://proxy.example.com/backend-api/wham/config/requirements"},
		{"https://gw.example.com/codex/", "https://gw.example.com/codex",
			"https://gw.example.com/codex/api/codex/config/bundle", "https://gw.example.com/codex/api/codex/config/requirements"},
	}
	for _, tc := range tests {
		if got := NormalizeBaseURL(tc.base); got != tc.norm {
			t.Errorf("NormalizeBaseURL(%q) = %q, want %q", tc.base, got, tc.norm)
		}
		if got := EndpointURL(tc.base, model.ProtocolBundle); got != tc.bundle {
			t.Errorf("EndpointURL(%q, bundle) = %q, want %q", tc.base, got, tc.bundle)
		}
		if got := EndpointURL(tc.base, model.ProtocolRequirements); got != tc.requirements {
			t.Errorf("EndpointURL(%q, requirements) = %q, want %q", tc.base, got, tc.requirements)
		}
	}
}

func TestUserAgent(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		version, goos, goarch, osRelease string
		env                              func(string) string
		want                             string
	}{
		{"0.171.0", "linux", "amd64", "debian12", env("TERM", "xterm-256color"),
			"codex_cli_rs/0.171.0 (Debian 12.0.0; x86_64) xterm-256color"},
		{"", "linux", "arm64", "ubuntu2204", env("TERM", "screen"),
			"codex_cli_rs/0.0.0 (Ubuntu 22.4.0; aarch64) screen"},
		{"0.136.0", "linux", "amd64", "arch", env(),
			"codex_cli_rs/0.136.0 (Arch Linux Unknown; x86_64) unknown"},
		{"0.136.0", "linux", "amd64", "custom", env("TERM", "xterm", "TERM_PROGRAM", "iTerm.app", "TERM_PROGRAM_VERSION", "3.5.0"),
			"codex_cli_rs/0.136.0 (Acme OS 2024.1-beta; x86_64) iTerm.app/3.5.0"},
		{"0.171.0", "darwin", "arm64", "", env("TERM_PROGRAM", "Apple Terminal"),
			"codex_cli_rs/0.171.0 (Mac OS Unknown; arm64) Apple_Terminal"},
		{"0.171.0 (evil)\r\nX: y", "linux", "amd64", "debian12", env("TERM", "x\x1bterm", "KITTY_WINDOW_ID", "1"),
			"codex_cli_rs/0.171.0__evil___X__y (Debian 12.0.0; x86_64) kitty"},
	}
	for _, tc := range tests {
		osRelease := ""
		if tc.osRelease != "" {
			osRelease = string(readFixture(t, "os-release", tc.osRelease))
		}
		if got := userAgent(tc.version, tc.goos, tc.goarch, osRelease, tc.env); got != tc.want {
			t.Errorf("userAgent(%q, %s) = %q, want %q", tc.version, tc.osRelease, got, tc.want)
		}
	}
	if got := UserAgent(""); !strings.HasPrefix(got, "codex_cli_rs/0.0.0 (") {
		t.Errorf("UserAgent(\"\") = %q", got)
	}
}
