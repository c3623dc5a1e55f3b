package doctor

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// codexVersionTimeout bounds `codex --version`: a wedged or interactive
// binary must not hold up the diagnosis.
const codexVersionTimeout = 2 * time.Second

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)`)

// FindCodex looks for a codex binary on PATH and reads its version.
func FindCodex(ctx context.Context) CodexInfo {
	path, err := exec.LookPath("codex")
	if err != nil {
		return CodexInfo{}
	}
	ctx, cancel := context.WithTimeout(ctx, codexVersionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.WaitDelay = 100 * time.Millisecond
	out, err := cmd.Output()
	info := CodexInfo{Path: path}
	if ctx.Err() != nil {
		info.Err = ctx.Err()
		return info
	}
	info.Version = ParseCodexVersion(string(out))
	if info.Version == "" {
		info.Err = err
		if err == nil {
			info.Err = errNoVersion
		}
	}
	return info
}

type versionError string

func (e versionError) Error() string { return string(e) }

const errNoVersion = versionError("no version number in `codex --version` output")

// ParseCodexVersion extracts "X.Y.Z" from `codex --version` output such as
// "codex-cli 0.171.0"; "" when there is none.
func ParseCodexVersion(out string) string {
	return versionRE.FindString(out)
}

// VersionAtMost reports whether version "X.Y.Z" is ≤ major.minor.
func VersionAtMost(version string, major, minor int) bool {
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		return false
	}
	maj, _ := strconv.Atoi(m[1])
	min, _ := strconv.Atoi(m[2])
	if maj != major {
		return maj < major
	}
	return min <= minor
}
