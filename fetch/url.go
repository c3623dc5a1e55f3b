package fetch

import (
	"fmt"
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
