package fetch

import (
	"net/http"
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

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestProxyFor(t *testing.T) {
	const bundle = "https://chatgpt.com/backend-api/wham/config/bundle"
	for _, tc := range []struct {
		name, url string
		env       []string
		proxy     string
		why       string // substring
	}{
		{"nothing set", bundle, nil, "", "no proxy variables set"},
		{"https proxy", bundle, []string{"HTTPS_PROXY", "http://proxy:3128"}, "http://proxy:3128", "HTTPS_PROXY=http://proxy:3128 applies"},
		{"lower case", bundle, []string{"https_proxy", "http://low:1"}, "http://low:1", "https_proxy=http://low:1 applies"},
		{"upper case wins", bundle, []string{"HTTPS_PROXY", "http://up:1", "https_proxy", "http://low:1"}, "http://up:1", "HTTPS_PROXY"},
		{"host:port means http", bundle, []string{"HTTPS_PROXY", "proxy.corp:8080"}, "http://proxy.corp:8080", "applies"},
		{"http proxy not for https", bundle, []string{"HTTP_PROXY", "http://p:1"}, "", "HTTPS_PROXY and ALL_PROXY are not set (only HTTP_PROXY)"},
		{"http proxy for http", "http://127.0.0.1:8080/x", []string{"HTTP_PROXY", "http://p:1"}, "http://p:1", "HTTP_PROXY=http://p:1 applies"},
		{"loopback not exempt", "http://localhost:8080/x", []string{"HTTP_PROXY", "http://p:1"}, "http://p:1", "applies"},
		{"all_proxy fallback", bundle, []string{"ALL_PROXY", "socks5h://s:1080"}, "socks5h://s:1080", "ALL_PROXY=socks5h://s:1080 applies"},
		{"specific beats all", bundle, []string{"ALL_PROXY", "http://all:1", "HTTPS_PROXY", "http://s:2"}, "http://s:2", "HTTPS_PROXY"},
		{"password removed", bundle, []string{"HTTPS_PROXY", "http://me:s3cret@p:1"}, "http://me@p:1", "HTTPS_PROXY=http://me@p:1 applies"},
		{"unusable value skipped", bundle, []string{"HTTPS_PROXY", "ftp://p:1", "ALL_PROXY", "http://all:1"}, "http://all:1", "HTTPS_PROXY is not a usable proxy URL (ignored)"},
		{"no_proxy domain", bundle, []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "example.org, chatgpt.com"}, "", "NO_PROXY contains chatgpt.com, so HTTPS_PROXY=http://p:1 is not used"},
		{"no_proxy leading dot matches the domain itself", bundle, []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", ".chatgpt.com"}, "", "NO_PROXY contains .chatgpt.com"},
		{"no_proxy subdomain", "https://api.corp.example.com/x", []string{"HTTPS_PROXY", "http://p:1", "no_proxy", ".example.com"}, "", "no_proxy contains .example.com"},
		{"no_proxy not a suffix match", "https://notexample.com/x", []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "example.com"}, "http://p:1", "applies"},
		{"no_proxy case", "https://ChatGPT.COM/x", []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "chatgpt.com"}, "", "NO_PROXY contains"},
		{"no_proxy star", bundle, []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "*"}, "", "NO_PROXY contains *"},
		{"no_proxy star spares IPs", "https://10.1.2.3/x", []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "*"}, "http://p:1", "applies"},
		{"no_proxy cidr", "https://10.1.2.3/x", []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "10.0.0.0/8"}, "", "NO_PROXY contains 10.0.0.0/8"},
		{"no_proxy ip", "http://127.0.0.1:9/x", []string{"HTTP_PROXY", "http://p:1", "NO_PROXY", "127.0.0.1"}, "", "NO_PROXY contains 127.0.0.1"},
		{"no_proxy ipv6", "http://[::1]:9/x", []string{"HTTP_PROXY", "http://p:1", "NO_PROXY", "::1"}, "", "NO_PROXY contains ::1"},
		{"no_proxy with port never matches", bundle, []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "chatgpt.com:443"}, "http://p:1", "applies"},
		{"upper NO_PROXY wins", bundle, []string{"HTTPS_PROXY", "http://p:1", "NO_PROXY", "other.com", "no_proxy", "chatgpt.com"}, "http://p:1", "applies"},
		{"cgi", bundle, []string{"HTTPS_PROXY", "http://p:1", "REQUEST_METHOD", "GET"}, "", "CGI"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy, why := ProxyFor(tc.url, envOf(tc.env...))
			if proxy != tc.proxy || !strings.Contains(why, tc.why) {
				t.Fatalf("ProxyFor = %q, %q; want %q, …%q…", proxy, why, tc.proxy, tc.why)
			}
			if strings.Contains(why, "s3cret") {
				t.Fatalf("password shown: %q", why)
			}
			// The client's proxy function agrees with what is shown.
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			u, err := ProxyFromEnv(envOf(tc.env...))(req)
			got := displayProxy(u)
			if err != nil || got != tc.proxy {
				t.Fatalf("ProxyFromEnv = %v, %v; want %q", u, err, tc.proxy)
			}
			if tc.name == "password removed" && (u.User == nil || u.User.String() != "me:s3cret") {
				t.Fatalf("the client must still get the credentials, got %v", u.User)
			}
		})
	}
}
