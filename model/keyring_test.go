package model

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func TestKeyringAccountKnownValue(t *testing.T) {
	// The path does not exist, so it is hashed as given. The digest was
	// computed with `printf %s <path> | sha256sum`.
	const p = "/nonexistent-reqdoctor/home/.codex"
	if runtime.GOOS == "windows" {
		t.Skip("POSIX path")
	}
	if got, want := KeyringAccount(p), "cli|987265bd9d15ab33"; got != want {
		t.Errorf("KeyringAccount(%q) = %q, want %q", p, got, want)
	}
	if got, want := KeyringAccount(p+"/"), "cli|987265bd9d15ab33"; got != want {
		t.Errorf("with a trailing slash: %q, want %q", got, want)
	}
}

func TestKeyringAccountCanonical(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "codex-home")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	canon, err := filepath.EvalSymlinks(real) // the temp dir itself may sit behind a symlink
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(canon))
	want := "cli|" + hex.EncodeToString(sum[:])[:16]
	for _, p := range []string{real, link, link + string(filepath.Separator), filepath.Join(link, "..", "codex-home")} {
		if got := KeyringAccount(p); got != want {
			t.Errorf("KeyringAccount(%q) = %q, want %q (hash of %q)", p, got, want, canon)
		}
	}
	if len(want) != len("cli|")+16 {
		t.Errorf("account %q: want cli| and 16 hex digits", want)
	}
}

func TestRustLossyUTF8(t *testing.T) {
	const r = "\uFFFD"
	tests := []struct{ in, want string }{
		{"/home/ü/.codex", "/home/ü/.codex"},
		{"a\xffb", "a" + r + "b"},
		{"\xff\xfe", r + r},                 // two invalid bytes, two replacements
		{"x\xe2\x82", "x" + r},              // truncated 3-byte sequence: one
		{"\xe2\x82y", r + "y"},              // same, followed by ASCII
		{"\xed\xa0\x80", r + r + r},         // surrogate: ED is cut at A0
		{"\xf0\x9f\x98", r},                 // truncated 4-byte sequence
		{"\xf4\x90\x80\x80", r + r + r + r}, // above U+10FFFF
		{"\xc0\xaf", r + r},                 // overlong
	}
	for _, tt := range tests {
		if got := rustLossyUTF8(tt.in); got != tt.want {
			t.Errorf("rustLossyUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// mockKeyring swaps go-keyring to its in-memory store for the test and
// makes sure the D-Bus pre-check passes on systems that use D-Bus.
func mockKeyring(t *testing.T, err error) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("reqdoctor does not read Codex's Windows credentials")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent-reqdoctor-bus")
	if err != nil {
		keyring.MockInitWithError(err)
	} else {
		keyring.MockInit()
	}
}

func setKeyring(t *testing.T, account, secret string) {
	t.Helper()
	if err := keyring.Set(KeyringService, account, secret); err != nil {
		t.Fatal(err)
	}
}

// loginJSON is the chatgpt.json fixture for a user, so tests can tell
// logins apart.
func loginJSON(t *testing.T, fixture, userID string) string {
	t.Helper()
	idTok := makeJWT(t, idClaims("enterprise", userID, "acct-fixture-0001"))
	accessTok := makeJWT(t, map[string]any{"exp": authNow.Add(time.Hour).Unix()})
	return string(authFixture(t, fixture, idTok, accessTok))
}

const leakCanary = "sk-proj-CANARY-do-not-print-0123456789"

func TestReadKeyringAuthFound(t *testing.T) {
	mockKeyring(t, nil)
	home := t.TempDir()
	acct := KeyringAccount(home)
	secret := loginJSON(t, "chatgpt.json", "user-keyring")
	setKeyring(t, acct, secret)

	res := ReadKeyringAuth(home, authNow)
	if res.Status != KeyringFound || !res.Found || res.Auth == nil || res.Account != acct || res.Detail != "" {
		t.Fatalf("got %+v", res)
	}
	if res.Auth.ID.UserID != "user-keyring" || res.Auth.AccountID != "acct-fixture-0001" || res.Auth.ID.PlanType != "enterprise" {
		t.Errorf("auth = %+v", res.Auth)
	}
	if want := "keyring entry Codex Auth/" + acct; res.Auth.Path != want {
		t.Errorf("Auth.Path = %q, want %q", res.Auth.Path, want)
	}
}

func TestReadKeyringAuthNotFound(t *testing.T) {
	mockKeyring(t, nil)
	home := t.TempDir()
	// An entry for another CODEX_HOME must not be picked up.
	setKeyring(t, KeyringAccount(t.TempDir()), loginJSON(t, "chatgpt.json", "user-other"))
	res := ReadKeyringAuth(home, authNow)
	if res.Status != KeyringNotFound || res.Found || res.Auth != nil {
		t.Fatalf("got %+v", res)
	}
	if !strings.Contains(res.Hint, "codex login") || !strings.Contains(res.Hint, `cli_auth_credentials_store = "keyring"`) {
		t.Errorf("hint = %q", res.Hint)
	}
}

func TestReadKeyringAuthBadEntry(t *testing.T) {
	tests := []struct {
		name, secret, kind, detail string
	}{
		{"not json", `{"tokens": {"access_token": "` + leakCanary + `" oops}}`, AuthInvalid, "not valid JSON"},
		{"array", `["` + leakCanary + `"]`, AuthInvalid, "must be a JSON object"},
		{"empty", "", AuthInvalid, "empty"},
		{"tokens wrong type", `{"tokens": "` + leakCanary + `"}`, AuthInvalid, "`tokens` must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mockKeyring(t, nil)
			home := t.TempDir()
			setKeyring(t, KeyringAccount(home), tt.secret)
			res := ReadKeyringAuth(home, authNow)
			if res.Status != KeyringError || !res.Found || res.Auth != nil {
				t.Fatalf("got %+v", res)
			}
			wantKeyringAuthErr(t, res.ParseErr, tt.kind, tt.detail)
			if !strings.Contains(res.Detail, tt.detail) || !strings.Contains(res.Detail, "keyring entry Codex Auth/cli|") {
				t.Errorf("detail = %q, want it to name the entry and contain %q", res.Detail, tt.detail)
			}
			checkNoLeak(t, res)
		})
	}
}

func TestReadKeyringAuthErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status string
		detail string
		hint   string
	}{
		{"no secret service", errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
			KeyringNoSecretService, "org.freedesktop.secrets is not provided", "gnome-keyring"},
		{"no session bus", errors.New("dbus: couldn't determine address of session bus"),
			KeyringNoSecretService, "cannot use the D-Bus session bus: dbus: couldn't determine", `cli_auth_credentials_store = "file"`},
		{"bus socket gone", &net.OpError{Op: "dial", Net: "unix", Err: errors.New("connect: no such file or directory")},
			KeyringNoSecretService, "cannot use the D-Bus session bus: dial unix: connect", "Secret Service"},
		{"prompt dismissed", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
			KeyringLocked, "the keyring is locked", "unlock your keyring"},
		{"locked collection", errors.New("Cannot create an item in a locked collection"),
			KeyringLocked, "locked collection", "unlock your keyring"},
		{"unsupported", keyring.ErrUnsupportedPlatform, KeyringError, "no OS keyring support", `"file"`},
		{"other", errors.New("exit status 44:\x1b[31m\tweird\n\nline " + strings.Repeat("x", 400)),
			KeyringError, "exit status 44: [31m weird line xxx", "OS keyring works"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mockKeyring(t, tt.err)
			res := ReadKeyringAuth(t.TempDir(), authNow)
			if res.Status != tt.status || res.Found || res.Auth != nil {
				t.Fatalf("got %+v, want status %q", res, tt.status)
			}
			if !strings.Contains(res.Detail, tt.detail) || !strings.Contains(res.Hint, tt.hint) {
				t.Errorf("detail %q, hint %q; want %q, %q", res.Detail, res.Hint, tt.detail, tt.hint)
			}
			if len(res.Detail) > 400 || strings.ContainsAny(res.Detail, "\x1b\n\t") {
				t.Errorf("detail not sanitised (%d bytes): %q", len(res.Detail), res.Detail)
			}
		})
	}
}

func TestReadKeyringAuthChunked(t *testing.T) {
	secret := loginJSON(t, "chatgpt.json", "user-chunked")
	a, b := len(secret)/3, 2*len(secret)/3
	tests := []struct {
		name   string
		parts  map[int]string // account suffix → value; -1 is the main entry
		status string
		detail string
	}{
		{"three parts", map[int]string{-1: "CODEX_CHUNKED:3:" + secret[:a], 1: secret[a:b], 2: secret[b:]}, KeyringFound, ""},
		{"one part", map[int]string{-1: "CODEX_CHUNKED:1:" + secret}, KeyringFound, ""},
		{"missing part", map[int]string{-1: "CODEX_CHUNKED:3:" + secret[:a], 1: secret[a:b]}, KeyringError, "part 2"},
		{"bad count", map[int]string{-1: "CODEX_CHUNKED:x:" + leakCanary}, KeyringError, "part count is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mockKeyring(t, nil)
			home := t.TempDir()
			acct := KeyringAccount(home)
			for i, v := range tt.parts {
				if i < 0 {
					setKeyring(t, acct, v)
				} else {
					setKeyring(t, fmt.Sprintf("%s:%d", acct, i), v)
				}
			}
			res := ReadKeyringAuth(home, authNow)
			if res.Status != tt.status || !strings.Contains(res.Detail, tt.detail) {
				t.Fatalf("got %+v, want %q with %q", res, tt.status, tt.detail)
			}
			if tt.status == KeyringFound && (res.Auth == nil || res.Auth.ID.UserID != "user-chunked") {
				t.Errorf("auth = %+v", res.Auth)
			}
			checkNoLeak(t, res)
		})
	}
}

// wantKeyringAuthErr checks an *AuthError of a kind whose text names its
// path and contains msg.
func wantKeyringAuthErr(t *testing.T, err error, kind, msg string) {
	t.Helper()
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *AuthError", err, err)
	}
	if ae.Kind != kind || !strings.Contains(ae.Msg, msg) || !strings.HasPrefix(ae.Error(), ae.Path+":") {
		t.Errorf("got kind %q, %q; want %q containing %q", ae.Kind, ae.Error(), kind, msg)
	}
}

// checkNoLeak fails when a display string holds a secret.
func checkNoLeak(t *testing.T, res KeyringResult) {
	t.Helper()
	for _, s := range []string{res.Detail, res.Hint, res.Status} {
		if strings.Contains(s, leakCanary) || strings.Contains(s, "eyJ") || strings.Contains(s, "rt-fixture") {
			t.Errorf("secret in %q", s)
		}
	}
}

func TestResolveCredentials(t *testing.T) {
	type setup struct {
		file    string // fixture for auth.json; "" for none
		keyring string // fixture for the keyring entry; "" for none, "!garbage" for junk
		kerr    error  // keyring error for every call
	}
	errNoSS := errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	tests := []struct {
		name      string
		store     string
		setup     setup
		used      string
		user      string // id_token user of the login used
		errKind   string
		errInPath string // "file" or "keyring": where Err points
		consulted bool   // Keyring non-nil
		note      string
	}{
		{name: "file", store: "file", setup: setup{file: "chatgpt.json", keyring: "chatgpt.json"},
			used: UsedFile, user: "user-file"},
		{name: "unset means file", store: "", setup: setup{file: "chatgpt.json"}, used: UsedFile, user: "user-file"},
		{name: "file missing", store: "file", setup: setup{keyring: "chatgpt.json"},
			errKind: AuthMissing, errInPath: "file"},
		{name: "keyring", store: "keyring", setup: setup{file: "chatgpt.json", keyring: "chatgpt.json"},
			used: UsedKeyring, user: "user-keyring", consulted: true, note: "ignores"},
		{name: "keyring without entry ignores the file", store: "keyring", setup: setup{file: "chatgpt.json"},
			errKind: AuthMissing, errInPath: "keyring", consulted: true, note: "Codex reads only the OS keyring"},
		{name: "keyring unavailable", store: "keyring", setup: setup{file: "chatgpt.json", kerr: errNoSS},
			errKind: AuthUnreadable, errInPath: "keyring", consulted: true},
		{name: "keyring garbage", store: "keyring", setup: setup{keyring: "!garbage"},
			errKind: AuthInvalid, errInPath: "keyring", consulted: true},
		{name: "auto uses the keyring", store: "auto", setup: setup{file: "chatgpt.json", keyring: "chatgpt.json"},
			used: UsedKeyring, user: "user-keyring", consulted: true, note: "so Codex uses it and ignores"},
		{name: "auto falls back when no entry", store: "auto", setup: setup{file: "chatgpt.json"},
			used: UsedFile, user: "user-file", consulted: true, note: "has no entry for this CODEX_HOME"},
		{name: "auto falls back when unavailable", store: "auto", setup: setup{file: "chatgpt.json", kerr: errNoSS},
			used: UsedFile, user: "user-file", consulted: true, note: "unavailable (no secret service:"},
		{name: "auto falls back on garbage", store: "auto", setup: setup{file: "chatgpt.json", keyring: "!garbage"},
			used: UsedFile, user: "user-file", consulted: true, note: "not a login Codex can read"},
		{name: "auto falls back on missing token field", store: "auto", setup: setup{file: "chatgpt.json", keyring: "missing-refresh.json"},
			used: UsedFile, user: "user-file", consulted: true, note: "`tokens` lacks `refresh_token`"},
		{name: "auto with nothing", store: "auto", errKind: AuthMissing, errInPath: "file", consulted: true, note: "no entry"},
		{name: "auto with bad file", store: "auto", setup: setup{file: "not-json.json"},
			errKind: AuthInvalid, errInPath: "file", consulted: true},
		{name: "ephemeral", store: "ephemeral", setup: setup{file: "chatgpt.json", keyring: "chatgpt.json"},
			errKind: AuthMissing, note: "neither reads nor writes"},
		{name: "unknown store", store: "vault", setup: setup{file: "chatgpt.json", keyring: "chatgpt.json"},
			used: UsedFile, user: "user-file", note: `"vault" is not a store Codex knows`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mockKeyring(t, tt.setup.kerr)
			home := t.TempDir()
			authPath := filepath.Join(home, AuthFileName)
			if tt.setup.file != "" {
				if err := os.WriteFile(authPath, []byte(loginJSON(t, tt.setup.file, "user-file")), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			switch tt.setup.keyring {
			case "":
			case "!garbage":
				setKeyring(t, KeyringAccount(home), "{"+leakCanary)
			default:
				setKeyring(t, KeyringAccount(home), loginJSON(t, tt.setup.keyring, "user-keyring"))
			}

			src := ResolveCredentials(home, tt.store, authNow)
			if src.Store != tt.store || src.Used != tt.used {
				t.Errorf("Store %q Used %q, want %q %q", src.Store, src.Used, tt.store, tt.used)
			}
			if (src.Keyring != nil) != tt.consulted {
				t.Errorf("keyring consulted = %v, want %v", src.Keyring != nil, tt.consulted)
			}
			if tt.user != "" {
				if src.Auth == nil || src.Err != nil || src.Auth.ID.UserID != tt.user {
					t.Fatalf("Auth %+v Err %v, want the login of %s", src.Auth, src.Err, tt.user)
				}
				wantPath := authPath
				if tt.used == UsedKeyring {
					wantPath = KeyringLocation(KeyringAccount(home))
				}
				if src.Path != wantPath || src.Auth.Path != wantPath {
					t.Errorf("Path %q, Auth.Path %q, want %q", src.Path, src.Auth.Path, wantPath)
				}
			}
			if tt.errKind != "" {
				if src.Auth != nil {
					t.Errorf("Auth = %+v, want none", src.Auth)
				}
				wantKeyringAuthErr(t, src.Err, tt.errKind, "")
				var ae *AuthError
				errors.As(src.Err, &ae)
				switch tt.errInPath {
				case "file":
					if ae.Path != authPath || src.Path != authPath {
						t.Errorf("error path %q, Path %q, want %q", ae.Path, src.Path, authPath)
					}
				case "keyring":
					if want := KeyringLocation(KeyringAccount(home)); ae.Path != want || src.Path != want {
						t.Errorf("error path %q, Path %q, want %q", ae.Path, src.Path, want)
					}
				}
				if strings.Contains(src.Err.Error(), leakCanary) {
					t.Errorf("secret in error %q", src.Err)
				}
			}
			notes := strings.Join(src.Notes, "\n")
			if tt.note != "" && !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
			if strings.Contains(notes, leakCanary) || strings.Contains(notes, "eyJ") {
				t.Errorf("secret in notes %q", notes)
			}
		})
	}
}

// TestReadKeyringAuthNoSessionBus: without a session bus reqdoctor must not
// ask godbus, which would start one with dbus-launch.
func TestReadKeyringAuthNoSessionBus(t *testing.T) {
	switch runtime.GOOS {
	case "darwin", "windows":
		t.Skip("no D-Bus keyring here")
	}
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a session bus at /run/user/<uid>/bus")
	}
	mockKeyring(t, errors.New("keyring.Get must not be called"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	res := ReadKeyringAuth(t.TempDir(), authNow)
	if res.Status != KeyringNoSecretService || !strings.Contains(res.Detail, "DBUS_SESSION_BUS_ADDRESS is not set") ||
		!strings.Contains(res.Hint, "gnome-keyring") {
		t.Errorf("got %+v", res)
	}
}

const helperEnv = "REQDOCTOR_KEYRING_HELPER_HOME"

// TestKeyringHelperProcess runs ReadKeyringAuth with the real go-keyring
// provider, in a child process where no test has swapped in the mock.
func TestKeyringHelperProcess(t *testing.T) {
	home := os.Getenv(helperEnv)
	if home == "" {
		t.Skip("helper process only")
	}
	res := ReadKeyringAuth(home, authNow)
	user := ""
	if res.Auth != nil {
		user = res.Auth.ID.UserID
	}
	fmt.Printf("\nRESULT|%s|%s|%s\n", res.Status, user, res.Detail)
}

type realKeyringResult struct {
	Status, User, Detail string
	Took                 time.Duration
}

// runRealKeyring runs ReadKeyringAuth for home in a child process against
// the given session bus address.
func runRealKeyring(t *testing.T, busAddr, home string) realKeyringResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeyringHelperProcess$", "-test.count=1", "-test.v")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, helperEnv+"="+home, "DBUS_SESSION_BUS_ADDRESS="+busAddr)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "RESULT|"); ok {
			f := strings.SplitN(rest, "|", 3)
			if len(f) == 3 {
				return realKeyringResult{Status: f[0], User: f[1], Detail: f[2], Took: took}
			}
		}
	}
	t.Fatalf("no result from helper:\n%s", out)
	return realKeyringResult{}
}

func TestReadKeyringAuthRealBus(t *testing.T) {
	switch runtime.GOOS {
	case "darwin", "windows":
		t.Skip("no D-Bus keyring here")
	}
	dir, err := os.MkdirTemp("", "rdk") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	t.Run("bus socket missing", func(t *testing.T) {
		r := runRealKeyring(t, "unix:path="+filepath.Join(dir, "absent"), t.TempDir())
		if r.Status != KeyringNoSecretService || !strings.Contains(r.Detail, "cannot use the D-Bus session bus") {
			t.Errorf("got %+v", r)
		}
	})

	t.Run("bus never answers", func(t *testing.T) {
		sock := filepath.Join(dir, "silent")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Skip("cannot listen on a unix socket:", err)
		}
		defer ln.Close()
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c) // hold it open, say nothing
			}
		}()
		r := runRealKeyring(t, "unix:path="+sock, t.TempDir())
		if r.Status != KeyringError || r.Detail != "the keyring did not answer within 3 s" {
			t.Errorf("got %+v", r)
		}
		if r.Took < KeyringTimeout || r.Took > KeyringTimeout+20*time.Second {
			t.Errorf("took %v, want a little over %v", r.Took, KeyringTimeout)
		}
	})
}
