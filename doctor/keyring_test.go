package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// keyringHome turns a demo home into one whose config.toml names store,
// moving the login into go-keyring's in-memory store when intoKeyring.
func keyringHome(t *testing.T, store string, intoKeyring bool) *fetch.Demo {
	t.Helper()
	// go-keyring's own test seam; the D-Bus pre-check must pass.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent-reqdoctor-bus")
	keyring.MockInit()
	sc, _ := fetch.FindScenario("success")
	demo := startDemo(t, sc)
	cfgPath := filepath.Join(demo.CodexHome, "config.toml")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = []byte(strings.Replace(string(cfg), `cli_auth_credentials_store = "file"`, `cli_auth_credentials_store = "`+store+`"`, 1))
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if intoKeyring {
		authPath := filepath.Join(demo.CodexHome, "auth.json")
		raw, err := os.ReadFile(authPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := keyring.Set(model.KeyringService, model.KeyringAccount(demo.CodexHome), string(raw)); err != nil {
			t.Fatal(err)
		}
		os.Remove(authPath)
	}
	return demo
}

func TestKeyringStore(t *testing.T) {
	demo := keyringHome(t, "keyring", true)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	if rep.Outcome != OutcomeRequirements || len(demo.Backend.Requests()) != 1 {
		t.Fatalf("outcome %s requests %d stages %+v", rep.Outcome, len(demo.Backend.Requests()), stage(t, rep, StageAuth))
	}
	a := stage(t, rep, StageAuth)
	src := ""
	for _, d := range a.Details {
		if d.ID == "source" {
			src = d.Value
		}
	}
	if !strings.Contains(src, "keyring entry Codex Auth/cli|") {
		t.Errorf("auth source %q", src)
	}
}

func TestKeyringStoreWithoutEntry(t *testing.T) {
	demo := keyringHome(t, "keyring", false)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	a := stage(t, rep, StageAuth)
	if rep.ExitCode != ExitCredentials || a.Status != StatusFail || !strings.Contains(a.Hint, "codex login") {
		t.Fatalf("exit %d auth %+v", rep.ExitCode, a)
	}
	// Codex ignores auth.json with the keyring store, and says so.
	if !strings.Contains(detailsText(a), "ignores") {
		t.Errorf("no note that auth.json is ignored: %+v", a.Details)
	}
}

func TestAutoStoreFallsBackToFile(t *testing.T) {
	demo := keyringHome(t, "auto", false)
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	a := stage(t, rep, StageAuth)
	if rep.Outcome != OutcomeRequirements || !strings.Contains(detailsText(a), "so Codex reads auth.json") {
		t.Fatalf("outcome %s auth %+v", rep.Outcome, a)
	}
}

func detailsText(s StageResult) string {
	var b strings.Builder
	for _, d := range s.Details {
		b.WriteString(d.Key + ": " + d.Value + "\n")
	}
	return b.String()
}
