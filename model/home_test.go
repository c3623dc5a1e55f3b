package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveCodexHome(t *testing.T) {
	root := t.TempDir()
	root, _ = filepath.EvalSymlinks(root)
	dir := filepath.Join(root, "codex")
	file := filepath.Join(root, "file")
	link := filepath.Join(root, "link")
	user := filepath.Join(root, "home")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(user, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "CODEX_HOME" {
				return v
			}
			return ""
		}
	}
	home := func() (string, error) { return user, nil }
	tests := []struct {
		name, flag, env string
		wantPath        string
		wantSource      string
		wantErr         string
	}{
		{"flag wins", dir, file, dir, "flag", ""},
		{"env", "", dir, dir, "CODEX_HOME", ""},
		{"env symlink resolved", "", link, dir, "CODEX_HOME", ""},
		{"env with trailing slash", "", dir + "/", dir, "CODEX_HOME", ""},
		{"env missing", "", filepath.Join(root, "nope"), "", "CODEX_HOME",
			`CODEX_HOME points to "` + filepath.Join(root, "nope") + `", but that path does not exist`},
		{"env is a file", "", file, "", "CODEX_HOME",
			`CODEX_HOME points to "` + file + `", but that path is not a directory`},
		{"flag missing", filepath.Join(root, "nope"), "", "", "flag", "--codex-home points to"},
		{"flag is a file", file, "", "", "flag", "but that path is not a directory"},
		{"default may be missing", "", "", filepath.Join(user, ".codex"), "default", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, source, err := ResolveCodexHome(tt.flag, env(tt.env), home)
			if source != tt.wantSource {
				t.Errorf("source = %q, want %q", source, tt.wantSource)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath {
				t.Errorf("path = %q, want %q", path, tt.wantPath)
			}
		})
	}

	t.Run("default existing symlink resolved", func(t *testing.T) {
		u := filepath.Join(root, "home2")
		if err := os.MkdirAll(u, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(dir, filepath.Join(u, ".codex")); err != nil {
			t.Fatal(err)
		}
		path, source, err := ResolveCodexHome("", env(""), func() (string, error) { return u, nil })
		if err != nil || path != dir || source != "default" {
			t.Errorf("got %q, %q, %v; want %q, default", path, source, err, dir)
		}
	})
	t.Run("relative env made absolute", func(t *testing.T) {
		t.Chdir(root)
		path, _, err := ResolveCodexHome("", env("codex"), home)
		if err != nil || path != dir {
			t.Errorf("got %q, %v; want %q", path, err, dir)
		}
	})
	t.Run("no home directory", func(t *testing.T) {
		_, _, err := ResolveCodexHome("", env(""), func() (string, error) { return "", errors.New("$HOME is not defined") })
		if err == nil || !strings.Contains(err.Error(), "$HOME is not defined") {
			t.Errorf("err = %v", err)
		}
	})
}
