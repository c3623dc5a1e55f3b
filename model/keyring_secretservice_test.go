package model

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeyringSecretService reads Codex-shaped entries from a real Secret
// Service: a private dbus-daemon and gnome-keyring-daemon that the test
// starts and stops itself, with their files under a temporary directory.
// It runs only with REQDOCTOR_SECRET_SERVICE=1 and needs dbus-daemon,
// gnome-keyring-daemon, secret-tool and dbus-send on PATH (Debian: dbus,
// dbus-daemon, gnome-keyring, libsecret-tools).
func TestKeyringSecretService(t *testing.T) {
	if os.Getenv("REQDOCTOR_SECRET_SERVICE") != "1" {
		t.Skip("set REQDOCTOR_SECRET_SERVICE=1 to run against a real Secret Service")
	}
	for _, tool := range []string{"dbus-daemon", "gnome-keyring-daemon", "secret-tool", "dbus-send"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("REQDOCTOR_SECRET_SERVICE=1 but %s is missing: %v", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "rdss") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"home", "data", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}

	// A bus without service activation: nothing provides
	// org.freedesktop.secrets until the test starts gnome-keyring.
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600); err != nil {
		t.Fatal(err)
	}
	bus := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	busOut, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Process.Kill(); _ = bus.Wait() })
	addrLine, err := bufio.NewReader(busOut).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	addr := strings.TrimSpace(addrLine)

	env := append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "HOME="+filepath.Join(dir, "home"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"))
	run := func(stdin string, name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	// store writes an entry the way Codex's keyring crate does (Secret
	// Service attributes service, username, target, application).
	store := func(account, secret string) {
		t.Helper()
		if err := run(secret, "secret-tool", "store", "--label=keyring-rs for target 'default', service 'Codex Auth', user '"+account+"'",
			"service", KeyringService, "username", account, "target", "default", "application", "rust-keyring"); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("no secret service", func(t *testing.T) {
		r := runRealKeyring(t, addr, t.TempDir())
		if r.Status != KeyringNoSecretService || !strings.Contains(r.Detail, "org.freedesktop.secrets is not provided") {
			t.Errorf("got %+v", r)
		}
	})

	gk := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	gk.Env = env
	gk.Stdin = strings.NewReader("reqdoctor-test-password")
	if err := gk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gk.Process.Kill(); _ = gk.Wait() })
	// Wait until gnome-keyring owns org.freedesktop.secrets and has made
	// its login collection.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := run("probe", "secret-tool", "store", "--label=probe", "reqdoctor-probe", "1")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gnome-keyring did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	home := t.TempDir()
	acct := KeyringAccount(home)
	store(acct, loginJSON(t, "chatgpt.json", "user-secret-service"))

	t.Run("found", func(t *testing.T) {
		r := runRealKeyring(t, addr, home)
		if r.Status != KeyringFound || r.User != "user-secret-service" {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("not found", func(t *testing.T) {
		r := runRealKeyring(t, addr, t.TempDir())
		if r.Status != KeyringNotFound {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		h := t.TempDir()
		a := KeyringAccount(h)
		secret := loginJSON(t, "chatgpt.json", "user-chunked")
		mid := len(secret) / 2
		store(a, "CODEX_CHUNKED:2:"+secret[:mid])
		store(a+":1", secret[mid:])
		r := runRealKeyring(t, addr, h)
		if r.Status != KeyringFound || r.User != "user-chunked" {
			t.Errorf("got %+v", r)
		}
	})
	t.Run("locked", func(t *testing.T) {
		// Lock the login collection; with no prompter to ask for the
		// password, gnome-keyring dismisses the unlock prompt.
		if err := run("", "dbus-send", "--session", "--dest=org.freedesktop.secrets", "--print-reply",
			"/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock",
			"array:objpath:/org/freedesktop/secrets/collection/login"); err != nil {
			t.Fatal(err)
		}
		r := runRealKeyring(t, addr, home)
		if r.Status != KeyringLocked || !strings.Contains(r.Detail, "failed to unlock") {
			t.Errorf("got %+v, want %q", r, KeyringLocked)
		}
	})
}
