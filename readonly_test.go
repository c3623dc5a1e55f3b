package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/reqdoctor/reqdoctor/fetch"
)

// snapshot records every file and folder below dir: bytes, mode and mtime.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%v %d", info.Mode(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			entry += " " + string(b)
		}
		snap[path] = entry
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func diffSnapshots(before, after map[string]string) []string {
	var diff []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			diff = append(diff, "removed "+p)
		} else if a != b {
			diff = append(diff, "changed "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diff = append(diff, "added "+p)
		}
	}
	sort.Strings(diff)
	return diff
}

// TestNeverWritesCodexHome runs every demo scenario in plain and JSON mode
// against a CODEX_HOME and system config folder made by the test, and
// fails on any change to a file's bytes, mode or mtime, or any new file.
func TestNeverWritesCodexHome(t *testing.T) {
	eachDemo(t, func(t *testing.T, sc fetch.Scenario, demo *fetch.Demo) {
		before := snapshot(t, filepath.Dir(demo.CodexHome))
		for _, mode := range []string{"--plain", "--json"} {
			reqdoctor(t, nil, append([]string{mode}, demoArgs(sc, demo)...)...)
		}
		if diff := diffSnapshots(before, snapshot(t, filepath.Dir(demo.CodexHome))); len(diff) > 0 {
			t.Errorf("reqdoctor changed the user's files:\n%s", strings.Join(diff, "\n"))
		}
	})
}

// eachDemo runs f in a parallel subtest per demo scenario, its backend
// and throw-away folders started for f and removed after it.
func eachDemo(t *testing.T, f func(t *testing.T, sc fetch.Scenario, demo *fetch.Demo)) {
	for _, sc := range fetch.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			demo, err := fetch.StartDemo(sc)
			if err != nil {
				t.Fatal(err)
			}
			defer demo.Close()
			f(t, sc, demo)
		})
	}
}

// demoArgs point the binary at a demo started by the test, as --demo
// would: its home, its stand-in for /etc/codex, its protocol and deadline.
func demoArgs(sc fetch.Scenario, demo *fetch.Demo) []string {
	return []string{"--codex-home", demo.CodexHome, "--system-config-dir", demo.SystemConfigDir,
		"--protocol", string(sc.Protocol), "--timeout", sc.EffectiveTimeout().String()}
}

// TestReadOnlyCodexHome: reqdoctor works when it cannot write CODEX_HOME
// at all. As root, permissions do not bind, so the binary runs as nobody.
func TestReadOnlyCodexHome(t *testing.T) {
	sc, _ := fetch.FindScenario("local-sources")
	demo, err := fetch.StartDemo(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	root := filepath.Dir(demo.CodexHome)

	cmd := exec.Command(binary, "--json", "--codex-home", demo.CodexHome, "--system-config-dir", demo.SystemConfigDir, "--protocol", "bundle")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skipf("running as root and there is no user nobody to drop to: %v", err)
		}
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		// nobody owns the files (so it may read auth.json, mode 0600) but
		// every folder is read-only to it.
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				os.Lchown(p, uid, gid)
			}
			return nil
		})
		// The binary's folder must be reachable too.
		os.Chmod(filepath.Dir(binary), 0o755)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	for _, dir := range []string{root, demo.CodexHome, demo.SystemConfigDir} {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, dir := range []string{root, demo.CodexHome, demo.SystemConfigDir} {
			os.Chmod(dir, 0o700)
		}
	}()
	before := snapshot(t, root)
	out, err := cmd.Output()
	var code int
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != sc.Expect.ExitCode || !strings.Contains(string(out), `"outcome": "requirements"`) {
		t.Fatalf("exit %d, want %d:\n%s", code, sc.Expect.ExitCode, out)
	}
	if diff := diffSnapshots(before, snapshot(t, root)); len(diff) > 0 {
		t.Errorf("files changed:\n%s", strings.Join(diff, "\n"))
	}
}
