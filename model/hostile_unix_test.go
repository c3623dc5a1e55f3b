//go:build unix

package model

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileSpecialFiles: a named pipe must not block the reader (opening
// one waits for a writer), and /dev/zero or /dev/urandom in place of the
// file must not be read forever.
func TestHostileSpecialFiles(t *testing.T) {
	kinds := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"FIFO", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("cannot make a FIFO here: %v", err)
			}
		}, "is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", func(t *testing.T, path string) { mustSymlink(t, "/dev/zero", path) }, "is a character device, not a regular file"},
		{"/dev/urandom", func(t *testing.T, path string) { mustSymlink(t, "/dev/urandom", path) }, "is a character device, not a regular file"},
	}
	for rname, r := range hostileReaders {
		for _, k := range kinds {
			t.Run(rname+"/"+k.name, func(t *testing.T) {
				if strings.HasPrefix(k.name, "/dev/") {
					if _, err := os.Stat(k.name); err != nil {
						t.Skipf("no %s: %v", k.name, err)
					}
				}
				dir := t.TempDir()
				path := filepath.Join(dir, r.name)
				k.setup(t, path)
				msg := readWithin(t, 5*time.Second, r, dir)
				wantMsg(t, msg, path, k.want)
			})
		}
	}
}

// hostileChildEnv makes the test binary, run as a child, read the
// unreadable files and print what each reader says.
const hostileChildEnv = "REQDOCTOR_HOSTILE_CHILD_DIR"

// TestHostileUnreadable: a file without read permission. Root reads every
// file, so as root the readers run in a child process under the nobody
// user; without root, in this process.
func TestHostileUnreadable(t *testing.T) {
	if os.Getenv(hostileChildEnv) != "" {
		t.Skip("child mode runs TestHostileUnreadableChild only")
	}
	base := t.TempDir()
	// t.TempDir makes its directories 0700; open the test's own ones (up
	// to the system temp dir) so that the nobody child can enter them.
	tmp := filepath.Clean(os.TempDir())
	for d := base; strings.HasPrefix(d, tmp+string(filepath.Separator)); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for rname, r := range hostileReaders {
		dir := filepath.Join(base, strings.ReplaceAll(rname, " ", "_"))
		mustMkdir(t, dir)
		mustWrite(t, filepath.Join(dir, r.name), "{}")
		if err := os.Chmod(filepath.Join(dir, r.name), 0); err != nil {
			t.Fatal(err)
		}
	}
	var out string
	if os.Geteuid() != 0 {
		var b strings.Builder
		hostileUnreadableReport(t, base, &b)
		out = b.String()
	} else {
		out = runAsNobody(t, base)
	}
	for rname, r := range hostileReaders {
		path := filepath.Join(base, strings.ReplaceAll(rname, " ", "_"), r.name)
		var msg string
		for _, line := range strings.Split(out, "\n") {
			if p, m, ok := strings.Cut(line, "\t"); ok && p == rname {
				msg = m
			}
		}
		t.Run(rname, func(t *testing.T) { wantMsg(t, msg, path, "permission denied") })
	}
}

// runAsNobody re-runs this test binary as uid/gid 65534 to read base.
func runAsNobody(t *testing.T, base string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	// The binary may sit in a directory nobody cannot enter: copy it.
	bin := filepath.Join(base, "model.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Skipf("cannot copy the test binary: %v", err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := base; d != "/" && d != "."; d = filepath.Dir(d) {
		if info, err := os.Stat(d); err == nil && info.Mode().Perm()&0o001 == 0 {
			t.Skipf("nobody cannot enter %s (mode %v); not changing it", d, info.Mode().Perm())
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestHostileUnreadableChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), hostileChildEnv+"="+base, "HOME="+base)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) == 0 {
			t.Skipf("cannot run a child as nobody: %v", err)
		}
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	return string(out)
}

// TestHostileUnreadableChild is the child of TestHostileUnreadable.
func TestHostileUnreadableChild(t *testing.T) {
	base := os.Getenv(hostileChildEnv)
	if base == "" {
		t.Skip("runs only as the child of TestHostileUnreadable")
	}
	var b strings.Builder
	hostileUnreadableReport(t, base, &b)
	os.Stdout.WriteString(b.String())
}

// hostileUnreadableReport writes "reader\tmessage" lines.
func hostileUnreadableReport(t *testing.T, base string, b *strings.Builder) {
	for rname, r := range hostileReaders {
		msg := readWithin(t, 5*time.Second, r, filepath.Join(base, strings.ReplaceAll(rname, " ", "_")))
		b.WriteString(rname + "\t" + strings.ReplaceAll(msg, "\n", " ") + "\n")
	}
}
