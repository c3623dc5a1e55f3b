package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Sources of the CODEX_HOME path, as returned by ResolveCodexHome.
const (
	HomeFromFlag    = "flag"
	HomeFromEnv     = "CODEX_HOME"
	HomeFromDefault = "default"
)

// ResolveCodexHome finds CODEX_HOME as Codex does: the --codex-home flag
// (reqdoctor's own), else the CODEX_HOME variable when non-empty, else
// ~/.codex. An explicit path must exist and be a directory, and the error
// uses Codex's wording. The default may be missing: it is returned without
// error and callers report the missing files. The path is absolute, with
// symlinks resolved when it exists (Codex canonicalises it).
func ResolveCodexHome(flag string, getenv func(string) string, userHome func() (string, error)) (path string, source string, err error) {
	if flag != "" {
		p, err := checkHomeDir(flag, "--codex-home")
		return p, HomeFromFlag, err
	}
	if getenv != nil {
		if v := getenv("CODEX_HOME"); v != "" {
			p, err := checkHomeDir(v, "CODEX_HOME")
			return p, HomeFromEnv, err
		}
	}
	if userHome == nil {
		userHome = os.UserHomeDir
	}
	home, err := userHome()
	if err != nil {
		return "", HomeFromDefault, fmt.Errorf("cannot find the home directory for ~/.codex: %w", err)
	}
	if home == "" {
		return "", HomeFromDefault, errors.New("cannot find the home directory for ~/.codex: it is empty")
	}
	p, err := filepath.Abs(filepath.Join(home, ".codex"))
	if err != nil {
		return "", HomeFromDefault, err
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p, HomeFromDefault, nil
}

func checkHomeDir(val, name string) (string, error) {
	// Codex prints the value with Rust's {:?}, a quoted string.
	q := strconv.Quote(val)
	info, err := os.Stat(val)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s points to %s, but that path does not exist", name, q)
		}
		return "", fmt.Errorf("failed to read %s %s: %v", name, q, unwrapPathErr(err))
	}
	if !info.IsDir() {
		return "", fmt.Errorf("%s points to %s, but that path is not a directory", name, q)
	}
	abs, err := filepath.Abs(val)
	if err != nil {
		return "", fmt.Errorf("failed to canonicalize %s %s: %v", name, q, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("failed to canonicalize %s %s: %v", name, q, unwrapPathErr(err))
	}
	return real, nil
}

// unwrapPathErr drops the path from an *fs.PathError, which callers name
// themselves.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
