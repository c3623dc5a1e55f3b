package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives the real binary in a real terminal: tmux with a
// private socket, so a user's own tmux is never touched.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func newTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("REQDOCTOR_REQUIRE_TMUX") != "" {
			t.Fatal("tmux is required (REQDOCTOR_REQUIRE_TMUX is set) but not on PATH")
		}
		t.Skip("tmux not on PATH: skipping the real-terminal test (install tmux to run it; CI does)")
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("reqdoctor-test-%d", os.Getpid()), name: strings.ReplaceAll(t.Name(), "/", "-")}
	s.run("new-session", "-d", "-s", s.name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height),
		"env TERM=xterm-256color "+command+"; echo EXIT=$?; sleep 60")
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-session", "-t", s.name).Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", s.name) }

// waitFor polls the screen until it contains want; the limit only guards
// against a hang.
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := s.screen()
		if strings.Contains(scr, want) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q:\n%s", want, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTUIInTmux(t *testing.T) {
	s := newTmux(t, 100, 40, binary+" --demo")
	scr := s.waitFor("Codex would start with workspace policies")
	for _, want := range []string{"environment", "auth", "plan", "cache", "fetch", "parse", "allowed_approval_policies"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	s.run("send-keys", "-t", s.name, "Down")
	s.run("send-keys", "-t", s.name, "q")
	scr = s.waitFor("EXIT=")
	if !strings.Contains(scr, "EXIT=0") {
		t.Errorf("exit code not 0:\n%s", scr)
	}
	// The final frame stays in the scrollback, ending with a newline so
	// the shell's next line does not overwrite it.
	if !strings.Contains(scr, "Codex would start with workspace policies") {
		t.Errorf("final frame not left on screen:\n%s", scr)
	}
}

func TestTUIInTmuxTimeoutExit124(t *testing.T) {
	s := newTmux(t, 80, 30, binary+" --demo=timeout --timeout 1s")
	s.waitFor("timed out")
	s.run("send-keys", "-t", s.name, "q")
	scr := s.waitFor("EXIT=")
	if !strings.Contains(scr, "EXIT=124") {
		t.Fatalf("want EXIT=124, screen:\n%s", scr)
	}
}
