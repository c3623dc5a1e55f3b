package model

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// KeyringService is the OS keyring service under which Codex keeps its
// login (codex-rs/login, KEYRING_SERVICE).
const KeyringService = "Codex Auth"

// KeyringTimeout bounds one keyring read: a hung D-Bus or an unanswered
// unlock prompt must not hang reqdoctor.
const KeyringTimeout = 3 * time.Second

// Statuses of KeyringResult.
const (
	KeyringFound           = "found"
	KeyringNotFound        = "not found"
	KeyringNoSecretService = "no secret service"
	KeyringLocked          = "locked"
	KeyringError           = "error"
)

// Credential stores a CredentialSource used.
const (
	UsedFile    = "file"
	UsedKeyring = "keyring"
)

// StoreEphemeral is a cli_auth_credentials_store value Codex accepts: the
// login lives only in the memory of the Codex process that made it.
const StoreEphemeral = "ephemeral"

// keyringChunkPrefix marks a secret that Codex's keyring store split over
// several entries: "CODEX_CHUNKED:<count>:<first part>", the other parts
// under "<account>:1" … "<account>:<count-1>". A JSON login never starts
// with it, so reading it is safe for every Codex version.
const keyringChunkPrefix = "CODEX_CHUNKED:"

// KeyringAccount is the keyring account under which Codex stores the login
// of codexHome: "cli|" and the first 16 hex digits of the SHA-256 of the
// canonical path (symlinks resolved, absolute, no trailing slash), hashed
// as UTF-8 with invalid bytes replaced as Rust's to_string_lossy does.
// Codex hashes the path as given when it cannot canonicalise it.
func KeyringAccount(codexHome string) string {
	p := codexHome
	if abs, err := filepath.Abs(codexHome); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	sum := sha256.Sum256([]byte(rustLossyUTF8(p)))
	return "cli|" + hex.EncodeToString(sum[:])[:16]
}

// KeyringLocation names a keyring entry in messages and as the source path
// given to ParseAuth.
func KeyringLocation(account string) string {
	return "keyring entry " + KeyringService + "/" + account
}

// KeyringResult is what reqdoctor found in the OS keyring. It never holds
// the secret other than inside Auth.
type KeyringResult struct {
	Account string
	// Found: an entry exists (its content may still be unusable; see
	// Status and Detail).
	Found bool
	Auth  *Auth
	// Status is one of KeyringFound, KeyringNotFound,
	// KeyringNoSecretService, KeyringLocked, KeyringError.
	Status string
	Detail string // what went wrong, sanitised; "" when found
	Hint   string // what the user can do
	// ParseErr is the *AuthError when the entry exists but is not a login
	// Codex can read.
	ParseErr error
}

// ReadKeyringAuth reads Codex's login for codexHome from the OS keyring
// (service KeyringService, account KeyringAccount) and parses it like
// auth.json. The read gives up after KeyringTimeout.
func ReadKeyringAuth(codexHome string, now time.Time) KeyringResult {
	account := KeyringAccount(codexHome)
	res := KeyringResult{Account: account}
	if reason := keyringUnreadable(); reason != "" {
		res.Status, res.Detail = KeyringError, reason
		res.Hint = "set cli_auth_credentials_store = \"file\" in config.toml and run `codex login` to let reqdoctor read the login"
		return res
	}
	if reason := noSessionBus(); reason != "" {
		res.Status, res.Detail, res.Hint = KeyringNoSecretService, reason, hintNoSecretService
		return res
	}
	secret, err := getWithTimeout(account, KeyringTimeout)
	if err != nil {
		res.Status, res.Detail, res.Hint = classifyKeyringErr(err)
		return res
	}
	res.Found = true
	auth, perr := ParseAuth([]byte(secret), KeyringLocation(account), now)
	if perr != nil {
		res.Status, res.ParseErr = KeyringError, perr
		res.Detail = "the entry is not a login Codex can read: " + sanitizeKeyringText(perr.Error())
		res.Hint = "run `codex logout`, then `codex login`, to replace the entry"
		return res
	}
	res.Status, res.Auth = KeyringFound, auth
	return res
}

var errKeyringTimeout = errors.New("keyring timeout")

// getWithTimeout reads the secret in a goroutine so that a hung keyring
// only costs the timeout; the goroutine is left behind, which is fine for
// a short-lived CLI.
func getWithTimeout(account string, timeout time.Duration) (string, error) {
	type result struct {
		secret string
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := getKeyringSecret(account)
		ch <- result{s, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.secret, r.err
	case <-t.C:
		return "", errKeyringTimeout
	}
}

// getKeyringSecret reads one entry and reassembles a chunked one. Errors
// never contain the secret.
func getKeyringSecret(account string) (string, error) {
	main, err := keyring.Get(KeyringService, account)
	if err != nil {
		return "", err
	}
	rest, ok := strings.CutPrefix(main, keyringChunkPrefix)
	if !ok {
		return main, nil
	}
	countStr, first, ok := strings.Cut(rest, ":")
	if !ok {
		return main, nil // Codex, too, returns such a value unchanged
	}
	count, err := strconv.Atoi(countStr)
	if err != nil || count < 1 || count > 1000 {
		return "", errors.New("the entry is split into parts but its part count is invalid")
	}
	var b strings.Builder
	b.WriteString(first)
	for i := 1; i < count; i++ {
		part, err := keyring.Get(KeyringService, fmt.Sprintf("%s:%d", account, i))
		if err != nil {
			if errors.Is(err, keyring.ErrNotFound) {
				return "", fmt.Errorf("the entry is split into %d parts but part %d (account %s:%d) is missing", count, i, account, i)
			}
			return "", err
		}
		b.WriteString(part)
	}
	return b.String(), nil
}

const hintNoSecretService = "start a Secret Service provider in this session (gnome-keyring-daemon, or KeePassXC with Secret Service integration), " +
	"or set cli_auth_credentials_store = \"file\" in config.toml and run `codex login`"

// classifyKeyringErr maps a keyring error to a status, a sanitised detail
// and a hint. go-keyring returns D-Bus errors as text only, hence the
// string matching.
func classifyKeyringErr(err error) (status, detail, hint string) {
	text := sanitizeKeyringText(err.Error())
	lower := strings.ToLower(text)
	var opErr *net.OpError
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return KeyringNotFound, "no entry " + strconv.Quote(KeyringService) + " for this CODEX_HOME in the OS keyring",
			"run `codex login` (with cli_auth_credentials_store = \"keyring\" Codex stores the login in the OS keyring)"
	case errors.Is(err, errKeyringTimeout):
		return KeyringError, fmt.Sprintf("the keyring did not answer within %d s", int(KeyringTimeout/time.Second)),
			"the keyring may be waiting for an unlock prompt or the D-Bus session may be hung; unlock the keyring and rerun reqdoctor"
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return KeyringError, "reqdoctor has no OS keyring support on " + runtime.GOOS,
			"set cli_auth_credentials_store = \"file\" in config.toml and run `codex login`"
	case strings.Contains(lower, "org.freedesktop.secrets") || strings.Contains(lower, "serviceunknown") ||
		strings.Contains(lower, "was not provided by any"):
		return KeyringNoSecretService, "no Secret Service on the D-Bus session bus (the name org.freedesktop.secrets is not provided): " + text, hintNoSecretService
	case strings.Contains(lower, "islocked") || strings.Contains(lower, "failed to unlock") ||
		strings.Contains(lower, "dismissed") || strings.Contains(lower, "is locked") ||
		strings.Contains(lower, "locked collection"):
		return KeyringLocked, "the keyring is locked and was not unlocked: " + text,
			"unlock your keyring (log in to the desktop session, or unlock it in Seahorse / Keychain Access), then rerun reqdoctor"
	case errors.As(err, &opErr) ||
		strings.Contains(lower, "dbus") || strings.Contains(lower, "session bus"):
		return KeyringNoSecretService, "cannot use the D-Bus session bus: " + text, hintNoSecretService
	}
	return KeyringError, text, "check that the OS keyring works, or set cli_auth_credentials_store = \"file\" in config.toml and run `codex login`"
}

// keyringUnreadable explains why reqdoctor cannot read Codex's keyring
// entries on this platform, or returns "".
func keyringUnreadable() string {
	if runtime.GOOS == "windows" {
		// Codex's keyring crate names a Windows credential
		// "<account>.<service>"; go-keyring looks for "<service>:<account>".
		return "reqdoctor cannot read Codex's Windows credentials (Codex names them \"<account>." + KeyringService +
			"\", and by default keeps a keyring login encrypted under CODEX_HOME\\secrets)"
	}
	return ""
}

// noSessionBus reports, on systems where the keyring is the Secret Service,
// that no D-Bus session bus can be found. It looks where godbus looks, so
// godbus never falls back to starting a bus with dbus-launch.
func noSessionBus() string {
	switch runtime.GOOS {
	case "darwin", "windows", "ios", "android", "plan9", "js", "wasip1":
		return ""
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return ""
	}
	dir := "/run/user/" + strconv.Itoa(os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return ""
		}
	}
	return "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and " + dir + "/bus does not exist, so there is no Secret Service to ask"
}

// sanitizeKeyringText makes an error text safe and short for display:
// control characters become spaces, runs of space collapse, at most 300
// bytes.
func sanitizeKeyringText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if b.Len()+utf8.RuneLen(r) > 297 {
			return strings.TrimSpace(b.String()) + "…"
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// rustLossyUTF8 converts s as Rust's String::from_utf8_lossy does: each
// maximal invalid subsequence becomes one U+FFFD.
func rustLossyUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size > 1 {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		i += invalidPrefixLen(s[i:])
		b.WriteRune(utf8.RuneError)
	}
	return b.String()
}

// invalidPrefixLen is the length of the maximal subpart of an ill-formed
// UTF-8 sequence at the start of s (Unicode §3.9): the longest prefix of a
// well-formed sequence, or 1.
func invalidPrefixLen(s string) int {
	c := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(s); k++ {
		b := s[n]
		if k == 0 && (b < lo || b > hi) || k > 0 && (b < 0x80 || b > 0xBF) {
			break
		}
		n++
	}
	return n
}

// CredentialSource is where Codex takes its login from, for a credential
// store setting, and why.
type CredentialSource struct {
	Store string // cli_auth_credentials_store as configured ("" means file)
	// Used is UsedFile or UsedKeyring when Codex gets a login from there;
	// "" when it ends up with none (see Err).
	Used string
	// Path is the auth.json path or the KeyringLocation that Auth or Err
	// come from.
	Path string
	Auth *Auth
	// Err is why there is no login, as an *AuthError (Kind AuthMissing,
	// AuthUnreadable or AuthInvalid) for the file and for the keyring alike.
	Err error
	// Keyring is the keyring read, when Codex consults the keyring.
	Keyring *KeyringResult
	// Notes explain the choice: which store was used and why the other was
	// not.
	Notes []string
}

// ResolveCredentials finds Codex's login as its credential store setting
// makes Codex look for it: "file" reads auth.json only, "keyring" the OS
// keyring only, "auto" the keyring first and auth.json when the keyring
// has no entry, cannot be reached or holds an entry Codex cannot read,
// "ephemeral" nothing that outlives a Codex process. Any other value is
// rejected by Codex's config loader; reqdoctor then reads auth.json and
// says so. It never writes anything.
func ResolveCredentials(codexHome, store string, now time.Time) CredentialSource {
	src := CredentialSource{Store: store}
	authPath := filepath.Join(codexHome, AuthFileName)
	switch store {
	case "", StoreFile:
		src.fromFile(authPath, now)
	case StoreKeyring:
		kr := ReadKeyringAuth(codexHome, now)
		src.Keyring = &kr
		src.Path = KeyringLocation(kr.Account)
		switch {
		case kr.Auth != nil:
			src.Used, src.Auth = UsedKeyring, kr.Auth
		case kr.ParseErr != nil:
			src.Err = kr.ParseErr
		case kr.Status == KeyringNotFound:
			src.Err = &AuthError{Path: src.Path, Kind: AuthMissing, Msg: "no such entry in the OS keyring"}
		default:
			src.Err = &AuthError{Path: src.Path, Kind: AuthUnreadable, Msg: kr.Detail}
		}
		if fileExists(authPath) {
			src.Notes = append(src.Notes, "cli_auth_credentials_store = \"keyring\": Codex reads only the OS keyring and ignores "+authPath)
		}
	case StoreAuto:
		kr := ReadKeyringAuth(codexHome, now)
		src.Keyring = &kr
		if kr.Auth != nil && !codexRejects(kr.Auth) {
			src.Used, src.Auth, src.Path = UsedKeyring, kr.Auth, KeyringLocation(kr.Account)
			note := "auto: the OS keyring has a login (" + src.Path + "), so Codex uses it"
			if fileExists(authPath) {
				note += " and ignores " + authPath
			}
			src.Notes = append(src.Notes, note)
			return src
		}
		var why string
		switch {
		case kr.Auth != nil:
			why = "the keyring entry is not a login Codex can read (" + rejectReason(kr.Auth) + "), so Codex falls back to auth.json"
		case kr.Status == KeyringNotFound:
			why = "the OS keyring has no entry for this CODEX_HOME, so Codex reads auth.json"
		case kr.ParseErr != nil:
			why = "the keyring entry is not a login Codex can read, so Codex falls back to auth.json"
		default:
			why = "the OS keyring is unavailable (" + kr.Status + ": " + kr.Detail + "), so Codex falls back to auth.json"
		}
		src.Notes = append(src.Notes, "auto: "+why)
		src.fromFile(authPath, now)
	case StoreEphemeral:
		src.Path = "memory of the Codex process (ephemeral store)"
		src.Err = &AuthError{Path: src.Path, Kind: AuthMissing,
			Msg: "cli_auth_credentials_store = \"ephemeral\" keeps the login only in the memory of the Codex process that made it; a new Codex process starts logged out"}
		src.Notes = append(src.Notes, "ephemeral: Codex neither reads nor writes auth.json or the OS keyring")
	default:
		src.Notes = append(src.Notes, fmt.Sprintf("cli_auth_credentials_store = %q is not a store Codex knows (file, keyring, auto, ephemeral): "+
			"Codex rejects config.toml and does not start; reqdoctor reads auth.json as for \"file\"", store))
		src.fromFile(authPath, now)
	}
	return src
}

func (src *CredentialSource) fromFile(path string, now time.Time) {
	src.Path = path
	src.Auth, src.Err = LoadAuth(path, now)
	if src.Err == nil {
		src.Used = UsedFile
	} else {
		src.Auth = nil
	}
}

// codexRejects reports whether Codex's deserialiser refuses this login
// (required token fields missing, id_token malformed), which in "auto"
// mode makes Codex fall back to auth.json.
func codexRejects(a *Auth) bool {
	return len(a.MissingTokenFields) > 0 || (a.HasTokens && a.IDErr != nil)
}

func rejectReason(a *Auth) string {
	if len(a.MissingTokenFields) > 0 {
		return "`tokens` lacks " + joinBackticked(a.MissingTokenFields)
	}
	return "malformed id_token: " + sanitizeKeyringText(a.IDErr.Error())
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
