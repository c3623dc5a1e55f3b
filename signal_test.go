package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptExits130: ctrl+c (SIGINT) during a hung fetch ends plain and
// JSON runs with exit 130, promptly.
func TestInterruptExits130(t *testing.T) {
	for _, mode := range []string{"--plain", "--json"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(binary, "--demo=timeout", "--timeout", "30s", mode)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Interrupt once the fetch is under way.
			time.Sleep(700 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 130 {
					t.Fatalf("exit %v, want 130\n%s", err, out.String())
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 10 s after SIGINT\n%s", out.String())
			}
			if strings.Contains(out.String(), "goroutine ") {
				t.Errorf("a stack trace reached the terminal:\n%s", out.String())
			}
		})
	}
}
