package fetch

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/reqdoctor/reqdoctor/model"
)

// NormalizeBaseURL applies Codex's normalisation of chatgpt_base_url:
// trailing slashes go, and a chatgpt.com or chat.openai.com URL without
// /backend-api gets it appended. An empty value means Codex's default.
func NormalizeBaseURL(raw string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		s = model.DefaultBaseURL
	}
	s = strings.TrimRight(s, "/")
	if (strings.HasPrefix(s, "https://chatgpt.com") || strings.HasPrefix(s, "https://chat.openai.com")) &&
		!strings.Contains(s, "/backend-api") {
		s += "/backend-api"
	}
	return s
}

// EndpointURL is the URL Codex requests for protocol p under base: the
// /wham/config/… path when base contains /backend-api, else
// /api/codex/config/…. base is normalised first.
func EndpointURL(base string, p model.Protocol) string {
	b := NormalizeBaseURL(base)
	last := "bundle"
	if p == model.ProtocolRequirements {
		last = "requirements"
	}
	if strings.Contains(b, "/backend-api") {
		return b + "/wham/config/" + last
	}
	return b + "/api/codex/config/" + last
}

// UserAgent is the User-Agent Codex sends, e.g.
// "codex_cli_rs/0.171.0 (Debian 12.0.0; x86_64) xterm-256color". An
// empty codexVersion becomes "0.0.0".
func UserAgent(codexVersion string) string {
	osRelease, _ := os.ReadFile("/etc/os-release")
	return userAgent(codexVersion, runtime.GOOS, runtime.GOARCH, string(osRelease), os.Getenv)
}

func userAgent(version, goos, goarch, osRelease string, getenv func(string) string) string {
	version = headerSafe(strings.TrimSpace(version))
	if version == "" {
		version = "0.0.0"
	}
	osType, osVersion := osInfo(goos, osRelease)
	return fmt.Sprintf("codex_cli_rs/%s (%s %s; %s) %s",
		version, osType, osVersion, unameArch(goos, goarch), terminalName(getenv))
}

// osInfo names the OS and its version the way Codex's os_info crate
// prints them: a numeric VERSION_ID becomes major.minor.patch.
func osInfo(goos, osRelease string) (string, string) {
	switch goos {
	case "darwin":
		return "Mac OS", "Unknown"
	case "windows":
		return "Windows", "Unknown"
	case "freebsd":
		return "FreeBSD", "Unknown"
	case "linux":
	default:
		return goos, "Unknown"
	}
	kv := parseOSRelease(osRelease)
	name := "Linux"
	if known, ok := linuxNames[kv["ID"]]; ok {
		name = known
	} else if kv["NAME"] != "" {
		name = kv["NAME"]
	}
	return printable(name), printable(semanticVersion(kv["VERSION_ID"]))
}

// printable drops control characters, which a header value cannot hold.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// linuxNames maps os-release IDs to os_info's type names.
var linuxNames = map[string]string{
	"alpine":              "Alpine Linux",
	"amzn":                "Amazon Linux AMI",
	"arch":                "Arch Linux",
	"centos":              "CentOS",
	"debian":              "Debian",
	"fedora":              "Fedora",
	"linuxmint":           "Linux Mint",
	"manjaro":             "Manjaro",
	"nixos":               "NixOS",
	"opensuse-leap":       "openSUSE",
	"opensuse-tumbleweed": "openSUSE",
	"ol":                  "OracleLinux",
	"pop":                 "Pop!_OS",
	"rhel":                "Red Hat Enterprise Linux",
	"rocky":               "Rocky Linux",
	"ubuntu":              "Ubuntu",
}

func parseOSRelease(s string) map[string]string {
	kv := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		kv[k] = v
	}
	return kv
}

// semanticVersion turns "12" into "12.0.0" and "22.04" into "22.4.0", as
// os_info does; other forms are kept; "" is "Unknown".
func semanticVersion(v string) string {
	if v == "" {
		return "Unknown"
	}
	parts := strings.Split(v, ".")
	if len(parts) > 3 {
		return v
	}
	nums := [3]uint64{}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return v
		}
		nums[i] = n
	}
	return fmt.Sprintf("%d.%d.%d", nums[0], nums[1], nums[2])
}

// unameArch is the architecture as `uname -m` prints it.
func unameArch(goos, goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		if goos == "darwin" {
			return "arm64"
		}
		return "aarch64"
	case "arm":
		return "armv7l"
	}
	return goarch
}

// terminalName follows Codex's terminal detection: TERM_PROGRAM (with its
// version), then emulator hints, then TERM, then "unknown"; characters
// outside [A-Za-z0-9._/-] become '_'.
func terminalName(getenv func(string) string) string {
	val := func(k string) string { return strings.TrimSpace(getenv(k)) }
	withVersion := func(name, v string) string {
		if v != "" {
			return name + "/" + v
		}
		return name
	}
	var t string
	switch {
	case val("TERM_PROGRAM") != "":
		t = withVersion(val("TERM_PROGRAM"), val("TERM_PROGRAM_VERSION"))
	case val("WEZTERM_VERSION") != "":
		t = "WezTerm/" + val("WEZTERM_VERSION")
	case val("KITTY_WINDOW_ID") != "" || strings.Contains(val("TERM"), "kitty"):
		t = "kitty"
	case val("ALACRITTY_SOCKET") != "" || val("TERM") == "alacritty":
		t = "Alacritty"
	case val("KONSOLE_VERSION") != "":
		t = "Konsole/" + val("KONSOLE_VERSION")
	case val("GNOME_TERMINAL_SCREEN") != "":
		t = "gnome-terminal"
	case val("VTE_VERSION") != "":
		t = "VTE/" + val("VTE_VERSION")
	case val("WT_SESSION") != "":
		t = "WindowsTerminal"
	case val("TERM") != "":
		t = val("TERM")
	default:
		t = "unknown"
	}
	return headerSafe(t)
}

// headerSafe replaces characters outside [A-Za-z0-9._/-] with '_', as
// Codex does for the terminal name, so no value can break the header.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)) {
			return r
		}
		return '_'
	}, s)
}

// ProxyFor says which proxy Codex's HTTP client (reqwest) uses for rawURL
// given the environment, and why: the proxy URL with any password
// removed ("" = direct) and one line of explanation, e.g.
// "HTTPS_PROXY=http://proxy:3128 applies", "NO_PROXY contains
// .example.com", "no proxy variables set".
//
// The rules are reqwest's (hyper-util's proxy matcher), which differ from
// Go's own ProxyFromEnvironment: an https URL uses HTTPS_PROXY, an http
// URL HTTP_PROXY, either falling back to ALL_PROXY; the upper-case name
// wins over the lower-case one; NO_PROXY is a comma list of IPs, CIDRs,
// domains ("example.com" and ".example.com" both match the domain and its
// subdomains) or "*" (every host name, not IP addresses); localhost is
// not exempt; with REQUEST_METHOD set (CGI) no proxy is used. getenv
// cannot tell an empty variable from an unset one; both count as unset.
func ProxyFor(rawURL string, getenv func(string) string) (proxy string, why string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "the URL does not parse, so no proxy applies"
	}
	p, why := proxyForURL(u, getenv)
	return displayProxy(p), why
}

// ProxyFromEnv is the proxy function of Codex's HTTP client for an
// environment: it follows ProxyFor, so what reqdoctor shows and what it
// does agree. The default for Options.Proxy is ProxyFromEnv(os.Getenv).
func ProxyFromEnv(getenv func(string) string) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		p, _ := proxyForURL(r.URL, getenv)
		return p, nil
	}
}

// Direct is an Options.Proxy that never uses a proxy (e.g. for the demo's
// loopback backend).
func Direct(*http.Request) (*url.URL, error) { return nil, nil }

// displayProxy is a proxy URL fit for display: without password.
func displayProxy(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return Sanitize(c.String(), 300)
}

func firstEnv(getenv func(string) string, names ...string) (name, val string) {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return n, v
		}
	}
	return "", ""
}

// parseProxyValue reads a proxy variable as reqwest does: a URL with
// scheme http, https, socks4, socks4a, socks5 or socks5h, or host[:port]
// (http assumed). nil when the value is not usable.
func parseProxyValue(v string) *url.URL {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks4", "socks4a", "socks5", "socks5h":
	default:
		return nil
	}
	return &url.URL{Scheme: strings.ToLower(u.Scheme), User: u.User, Host: u.Host}
}

func proxyForURL(u *url.URL, getenv func(string) string) (*url.URL, string) {
	allName, all := firstEnv(getenv, "ALL_PROXY", "all_proxy")
	httpName, httpV := firstEnv(getenv, "HTTP_PROXY", "http_proxy")
	httpsName, httpsV := firstEnv(getenv, "HTTPS_PROXY", "https_proxy")
	noName, no := firstEnv(getenv, "NO_PROXY", "no_proxy")
	if all == "" && httpV == "" && httpsV == "" {
		return nil, "no proxy variables set"
	}
	if getenv("REQUEST_METHOD") != "" {
		return nil, "REQUEST_METHOD is set (a CGI environment): Codex's HTTP client then ignores the proxy variables"
	}
	show := func(name, val string) string {
		return name + "=" + displayProxy(parseProxyValue(val))
	}
	var name, val string
	var skipped []string
	pick := func(n, v string) bool {
		if v == "" {
			return false
		}
		if parseProxyValue(v) == nil {
			skipped = append(skipped, n+" is not a usable proxy URL (ignored)")
			return false
		}
		name, val = n, v
		return true
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		_ = pick(httpsName, httpsV) || pick(allName, all)
	case "http":
		_ = pick(httpName, httpV) || pick(allName, all)
	default:
		return nil, "no proxy applies to a " + Sanitize(u.Scheme, 20) + " URL"
	}
	note := ""
	if len(skipped) > 0 {
		note = "; " + strings.Join(skipped, "; ")
	}
	if name == "" {
		set := []string{}
		for _, n := range []string{httpName, httpsName, allName} {
			if n != "" {
				set = append(set, n)
			}
		}
		want := "HTTPS_PROXY"
		if strings.ToLower(u.Scheme) == "http" {
			want = "HTTP_PROXY"
		}
		return nil, fmt.Sprintf("no proxy for %s URLs: %s and ALL_PROXY are not set (only %s)%s",
			strings.ToLower(u.Scheme), want, strings.Join(set, ", "), note)
	}
	if entry, ok := noProxyMatch(no, u.Hostname()); ok {
		return nil, fmt.Sprintf("%s contains %s, so %s=%s is not used%s", noName, Sanitize(entry, 100), name, displayProxy(parseProxyValue(val)), note)
	}
	return parseProxyValue(val), show(name, val) + " applies" + note
}

// noProxyMatch reports the NO_PROXY entry that exempts host, following
// reqwest's rules.
func noProxyMatch(list, host string) (string, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	ip, ipErr := netip.ParseAddr(host)
	for _, raw := range strings.Split(list, ",") {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(e); err == nil {
			if ipErr == nil && pfx.Contains(ip.Unmap()) {
				return e, true
			}
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil {
			if ipErr == nil && a.Unmap() == ip.Unmap() {
				return e, true
			}
			continue
		}
		if ipErr == nil {
			continue // an IP host is only matched by IP entries
		}
		if e == "*" || domainMatch(e, host) {
			return e, true
		}
	}
	return "", false
}

// domainMatch: "example.com" and ".example.com" both match example.com
// and its subdomains, case-insensitively.
func domainMatch(entry, host string) bool {
	d := strings.ToLower(strings.TrimPrefix(entry, "."))
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == d || strings.HasSuffix(h, "."+d)
}
