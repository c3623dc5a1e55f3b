package model

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// Cache files, TTLs and HMAC keys of codex-behavior.md §4. The keys are
// public: they detect edits, they protect nothing.
const (
	RequirementsCacheFileName = "cloud-requirements-cache.json"
	BundleCacheFileName       = "cloud-config-bundle-cache.json"

	RequirementsCacheTTL = 30 * time.Minute
	BundleCacheTTL       = time.Hour

	RequirementsCacheHMACKey = "codex-cloud-requirements-cache-v3-064f8542-75b4-494c-a294-97d3ce597271"
	BundleCacheHMACKey       = "codex-cloud-config-bundle-cache-v1-6160ae70-bcfd-4ca8-a99b-40f73b3b072e"

	// BundleCacheVersion is the only signed_payload.version Codex accepts.
	BundleCacheVersion = 1
)

// Names of the cache checks, in the order Codex runs them.
const (
	CheckIdentity       = "identity complete"
	CheckReadable       = "file readable"
	CheckParses         = "parses"
	CheckSignature      = "signature verifies"
	CheckVersion        = "version is 1" // bundle only
	CheckCachedIdentity = "cached identity complete"
	CheckIdentityMatch  = "cached identity matches"
	CheckNotExpired     = "not expired"
)

// CacheFileName is the cache file Codex of generation p reads in CODEX_HOME.
func CacheFileName(p Protocol) string {
	if p == ProtocolRequirements {
		return RequirementsCacheFileName
	}
	return BundleCacheFileName
}

// CacheTTL is how long Codex of generation p keeps using a cache it wrote.
func CacheTTL(p Protocol) time.Duration {
	if p == ProtocolRequirements {
		return RequirementsCacheTTL
	}
	return BundleCacheTTL
}

// CacheHMACKey is the key Codex of generation p signs its cache with.
func CacheHMACKey(p Protocol) []byte {
	if p == ProtocolRequirements {
		return []byte(RequirementsCacheHMACKey)
	}
	return []byte(BundleCacheHMACKey)
}

// CacheCheck is one of Codex's cache checks and its result.
type CacheCheck struct {
	Name   string
	OK     bool
	Detail string
}

// CacheVerdict is what Codex would make of the cache file.
type CacheVerdict struct {
	Protocol Protocol
	Path     string
	// Checks are run in Codex's order and stop at the first failure.
	Checks []CacheCheck
	// Usable: Codex would use this cache and make no request.
	Usable bool
	// Reason is the first failure ("no cache file", "expired 2 h ago"), or
	// for a usable cache when it expires.
	Reason string

	// What the file says, once it parses; zero otherwise.
	CachedAt        time.Time
	ExpiresAt       time.Time
	CachedUserID    string
	CachedAccountID string
	Version         int // bundle only

	// Requirements generation: contents; nil when absent or null.
	Contents *string
	// Bundle generation.
	RequirementsFragments []Fragment
	ConfigFragments       []Fragment
}

// maxCacheFileSize bounds what reqdoctor reads; real caches are small.
const maxCacheFileSize = 64 << 20

// CheckCache runs Codex's cache checks (codex-behavior.md §4) for the login
// with the given ChatGPT user id and account id, at time now. It only
// reads.
func CheckCache(codexHome string, p Protocol, userID, accountID string, now time.Time) CacheVerdict {
	v := CacheVerdict{Protocol: p, Path: filepath.Join(codexHome, CacheFileName(p))}
	pass := func(name, detail string) {
		v.Checks = append(v.Checks, CacheCheck{Name: name, OK: true, Detail: detail})
	}
	fail := func(name, detail, reason string) CacheVerdict {
		v.Checks = append(v.Checks, CacheCheck{Name: name, Detail: detail})
		v.Reason = reason
		return v
	}

	switch {
	case userID == "" && accountID == "":
		return fail(CheckIdentity, "the login has no ChatGPT user id and no account id", "the login's identity is incomplete (no user id, no account id); Codex skips the cache")
	case userID == "":
		return fail(CheckIdentity, "the login has no ChatGPT user id (chatgpt_user_id or user_id claim)", "the login's identity is incomplete (no user id); Codex skips the cache")
	case accountID == "":
		return fail(CheckIdentity, "the login has no account id", "the login's identity is incomplete (no account id); Codex skips the cache")
	}
	pass(CheckIdentity, fmt.Sprintf("user %s, account %s", userID, accountID))

	data, err := readCacheFile(v.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail(CheckReadable, v.Path+" does not exist", "no cache file")
		}
		return fail(CheckReadable, "cannot read "+v.Path+": "+err.Error(), "the cache file cannot be read: "+err.Error())
	}
	pass(CheckReadable, fmt.Sprintf("%s (%d bytes)", v.Path, len(data)))

	pc, ferr := parseCache(v.Path, data, p)
	if ferr != nil {
		return fail(CheckParses, ferr.Error(), "the cache file cannot be parsed: "+ferr.Msg)
	}
	v.CachedAt, v.ExpiresAt = pc.cachedAt, pc.expiresAt
	v.CachedUserID, v.CachedAccountID = pc.userID, pc.accountID
	v.Version = pc.version
	v.Contents = pc.contents
	v.RequirementsFragments, v.ConfigFragments = pc.reqFrags, pc.cfgFrags
	pass(CheckParses, "signed_payload and signature present with the expected types")

	if !verifyCacheSignature(p, pc.signedPayload, pc.signature) {
		detail := "the HMAC-SHA256 of signed_payload does not match signature"
		// Say why a signature cannot even be compared: it is not one.
		if raw, err := base64.StdEncoding.Strict().DecodeString(pc.signature); err != nil {
			detail += " (signature is not valid standard base64)"
		} else if len(raw) != sha256.Size {
			detail += fmt.Sprintf(" (signature decodes to %d bytes; an HMAC-SHA256 has %d)", len(raw), sha256.Size)
		}
		return fail(CheckSignature, detail, "the signature does not match the contents: the file was edited, or written for another Codex generation")
	}
	pass(CheckSignature, "HMAC-SHA256 matches")

	if p == ProtocolBundle {
		if pc.version != BundleCacheVersion {
			return fail(CheckVersion, fmt.Sprintf("version is %d", pc.version), fmt.Sprintf("unsupported cache version %d", pc.version))
		}
		pass(CheckVersion, "version 1")
	}

	if !pc.hasUserID || !pc.hasAccountID {
		return fail(CheckCachedIdentity, "the cache records no user id or no account id", "the cache does not record whose it is (user id or account id missing)")
	}
	pass(CheckCachedIdentity, fmt.Sprintf("user %s, account %s", pc.userID, pc.accountID))

	if pc.userID != userID || pc.accountID != accountID {
		return fail(CheckIdentityMatch,
			fmt.Sprintf("cached for user %s, account %s; logged in as user %s, account %s", pc.userID, pc.accountID, userID, accountID),
			"the cache belongs to another login")
	}
	pass(CheckIdentityMatch, "same user and account as the login")

	if !pc.expiresAt.After(now) {
		d := HumanDuration(now.Sub(pc.expiresAt))
		return fail(CheckNotExpired, fmt.Sprintf("expires_at %s is %s before now", fmtCacheTime(pc.expiresAt), d), "expired "+d+" ago")
	}
	remaining := pc.expiresAt.Sub(now)
	if p == ProtocolBundle {
		// Codex ≥ 0.137 also bounds the age by its TTL, and an age below
		// zero (cached_at in the future) counts as expired.
		age := now.Sub(pc.cachedAt)
		if age < 0 {
			d := HumanDuration(-age)
			return fail(CheckNotExpired, fmt.Sprintf("cached_at %s lies %s in the future", fmtCacheTime(pc.cachedAt), d), "cached_at lies "+d+" in the future; Codex treats the cache as expired")
		}
		if age >= BundleCacheTTL {
			d := HumanDuration(age)
			return fail(CheckNotExpired, fmt.Sprintf("cached %s ago, the TTL is %s", d, HumanDuration(BundleCacheTTL)), fmt.Sprintf("expired: cached %s ago, past the %s TTL", d, HumanDuration(BundleCacheTTL)))
		}
		remaining = min(remaining, BundleCacheTTL-age)
	}
	r := "expires in " + HumanDuration(remaining)
	pass(CheckNotExpired, r)
	v.Usable = true
	v.Reason = r
	return v
}

func readCacheFile(path string) ([]byte, error) {
	data, err := readRegularFile(path, maxCacheFileSize)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("larger than %d MiB", maxCacheFileSize>>20)
	}
	return data, err
}

type parsedCache struct {
	signedPayload json.RawMessage
	signature     string
	version       int
	cachedAt      time.Time
	expiresAt     time.Time
	userID        string
	hasUserID     bool
	accountID     string
	hasAccountID  bool
	contents      *string
	reqFrags      []Fragment
	cfgFrags      []Fragment
}

// parseCache reads the cache file with the types of Codex's serde structs.
func parseCache(path string, data []byte, p Protocol) (*parsedCache, *FileError) {
	errAt := func(off int, format string, args ...any) *FileError {
		fe := &FileError{Path: path, Msg: fmt.Sprintf(format, args...)}
		if off >= 0 {
			fe.Line, fe.Column = offsetToLineCol(data, off+1)
		}
		return fe
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errAt(-1, "file is empty")
	}
	var probe json.RawMessage // validates without building the value
	if err := json.Unmarshal(data, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			fe := &FileError{Path: path, Msg: "not valid JSON: " + se.Error()}
			fe.Line, fe.Column = syntaxErrorPos(data, se)
			return nil, fe
		}
		return nil, errAt(-1, "not valid JSON: %v", err)
	}
	if trimmed[0] != '{' {
		return nil, errAt(bytes.Index(data, trimmed[:1]), "the cache must be a JSON object, got %s", jsonKind(trimmed))
	}
	outer, err := jsonObjectFields(data, 0)
	if err != nil {
		return nil, errAt(-1, "not valid JSON: %v", err)
	}
	pc := &parsedCache{}
	om, ferr := jsonFieldMap(outer, "", errAt)
	if ferr != nil {
		return nil, ferr
	}
	sp, ok := om["signed_payload"]
	if !ok {
		return nil, errAt(-1, "missing field `signed_payload`")
	}
	if k := jsonKind(sp.Raw); k != "object" {
		return nil, errAt(sp.Offset, "`signed_payload` must be an object, got %s", k)
	}
	sig, ok := om["signature"]
	if !ok {
		return nil, errAt(-1, "missing field `signature`")
	}
	if k := jsonKind(sig.Raw); k != "string" {
		return nil, errAt(sig.Offset, "`signature` must be a string, got %s", k)
	}
	_ = json.Unmarshal(sig.Raw, &pc.signature)
	pc.signedPayload = sp.Raw

	inner, err := jsonObjectFields(sp.Raw, sp.Offset)
	if err != nil {
		return nil, errAt(sp.Offset, "`signed_payload`: %v", err)
	}
	im, ferr := jsonFieldMap(inner, "signed_payload.", errAt)
	if ferr != nil {
		return nil, ferr
	}
	timeField := func(name string) (time.Time, *FileError) {
		f, ok := im[name]
		if !ok {
			return time.Time{}, errAt(sp.Offset, "missing field `signed_payload.%s`", name)
		}
		var s string
		if jsonKind(f.Raw) != "string" || json.Unmarshal(f.Raw, &s) != nil {
			return time.Time{}, errAt(f.Offset, "`signed_payload.%s` must be an RFC 3339 date-time string, got %s", name, jsonKind(f.Raw))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errAt(f.Offset, "`signed_payload.%s` is not an RFC 3339 date-time: %q", name, s)
		}
		return t.UTC(), nil
	}
	optStr := func(name string) (string, bool, *FileError) {
		f, ok := im[name]
		if !ok || jsonKind(f.Raw) == "null" {
			return "", false, nil
		}
		var s string
		if jsonKind(f.Raw) != "string" || json.Unmarshal(f.Raw, &s) != nil {
			return "", false, errAt(f.Offset, "`signed_payload.%s` must be a string or null, got %s", name, jsonKind(f.Raw))
		}
		return s, true, nil
	}
	if p == ProtocolBundle {
		f, ok := im["version"]
		if !ok {
			return nil, errAt(sp.Offset, "missing field `signed_payload.version`")
		}
		var n uint32
		if jsonKind(f.Raw) != "number" || json.Unmarshal(f.Raw, &n) != nil {
			return nil, errAt(f.Offset, "`signed_payload.version` must be an unsigned integer, got %s", string(f.Raw))
		}
		pc.version = int(n)
	}
	if pc.cachedAt, ferr = timeField("cached_at"); ferr != nil {
		return nil, ferr
	}
	if pc.expiresAt, ferr = timeField("expires_at"); ferr != nil {
		return nil, ferr
	}
	if pc.userID, pc.hasUserID, ferr = optStr("chatgpt_user_id"); ferr != nil {
		return nil, ferr
	}
	if pc.accountID, pc.hasAccountID, ferr = optStr("account_id"); ferr != nil {
		return nil, ferr
	}
	if p == ProtocolRequirements {
		c, has, ferr := optStr("contents")
		if ferr != nil {
			return nil, ferr
		}
		if has {
			pc.contents = &c
		}
		return pc, nil
	}
	b, ok := im["bundle"]
	if !ok {
		return nil, errAt(sp.Offset, "missing field `signed_payload.bundle`")
	}
	var bundle struct {
		ConfigTOML *struct {
			EnterpriseManaged *[]Fragment `json:"enterprise_managed"`
		} `json:"config_toml"`
		RequirementsTOML *struct {
			EnterpriseManaged *[]Fragment `json:"enterprise_managed"`
		} `json:"requirements_toml"`
	}
	if err := json.Unmarshal(b.Raw, &bundle); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, errAt(b.Offset+int(te.Offset)-1, "`signed_payload.bundle.%s` must be %s, got %s", te.Field, jsonTypeName(te.Type.Kind().String()), te.Value)
		}
		return nil, errAt(b.Offset, "`signed_payload.bundle`: %v", err)
	}
	switch {
	case bundle.ConfigTOML == nil:
		return nil, errAt(b.Offset, "missing field `signed_payload.bundle.config_toml`")
	case bundle.RequirementsTOML == nil:
		return nil, errAt(b.Offset, "missing field `signed_payload.bundle.requirements_toml`")
	case bundle.ConfigTOML.EnterpriseManaged == nil:
		return nil, errAt(b.Offset, "missing field `signed_payload.bundle.config_toml.enterprise_managed`")
	case bundle.RequirementsTOML.EnterpriseManaged == nil:
		return nil, errAt(b.Offset, "missing field `signed_payload.bundle.requirements_toml.enterprise_managed`")
	}
	pc.cfgFrags = *bundle.ConfigTOML.EnterpriseManaged
	pc.reqFrags = *bundle.RequirementsTOML.EnterpriseManaged
	return pc, nil
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	case "string":
		return "a string"
	}
	return "a " + goKind
}

// jsonFieldMap indexes object members by name, rejecting a duplicate as
// Codex's serde does.
func jsonFieldMap(fields []jsonField, prefix string, errAt func(int, string, ...any) *FileError) (map[string]jsonField, *FileError) {
	m := make(map[string]jsonField, len(fields))
	for _, f := range fields {
		if _, dup := m[f.Name]; dup {
			return nil, errAt(f.Offset, "duplicate field `%s%s`", prefix, f.Name)
		}
		m[f.Name] = f
	}
	return m, nil
}

// cacheSignature is the std-base64 HMAC-SHA256 over the compact JSON of a
// signed_payload. Compacting the raw bytes reproduces what Codex signs for
// any file Codex wrote; re-encoding with encoding/json would not (it
// escapes <>& and formats times differently).
func cacheSignature(p Protocol, signedPayload []byte) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, signedPayload); err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, CacheHMACKey(p))
	mac.Write(buf.Bytes())
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

func verifyCacheSignature(p Protocol, signedPayload []byte, signature string) bool {
	got, err := base64.StdEncoding.Strict().DecodeString(signature)
	if err != nil {
		return false
	}
	want, err := cacheSignature(p, signedPayload)
	if err != nil {
		return false
	}
	wantRaw, _ := base64.StdEncoding.DecodeString(want)
	return hmac.Equal(got, wantRaw)
}

// SignCache returns the bytes of a cache file holding payload (a
// signed_payload JSON object) signed as Codex of generation p signs it,
// pretty-printed as Codex writes it. It returns nil when payload is not
// valid JSON. For tests and --demo; reqdoctor never writes to CODEX_HOME.
func SignCache(p Protocol, payload []byte) (fileBytes []byte) {
	sig, err := cacheSignature(p, payload)
	if err != nil {
		return nil
	}
	var compact, body bytes.Buffer
	_ = json.Compact(&compact, payload)
	if err := json.Indent(&body, compact.Bytes(), "  ", "  "); err != nil {
		return nil
	}
	sigJSON, _ := json.Marshal(sig)
	var out bytes.Buffer
	out.WriteString("{\n  \"signed_payload\": ")
	out.Write(body.Bytes())
	out.WriteString(",\n  \"signature\": ")
	out.Write(sigJSON)
	out.WriteString("\n}")
	return out.Bytes()
}

// chronoTime renders t as Codex's chrono serialises a DateTime<Utc>:
// RFC 3339, "Z", and 0, 3, 6 or 9 fractional digits.
type chronoTime time.Time

func (t chronoTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t).UTC()
	layout := "2006-01-02T15:04:05"
	switch ns := tt.Nanosecond(); {
	case ns == 0:
	case ns%1_000_000 == 0:
		layout += ".000"
	case ns%1_000 == 0:
		layout += ".000000"
	default:
		layout += ".000000000"
	}
	return json.Marshal(tt.Format(layout + "Z"))
}

func optJSONString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// encodeLikeSerde encodes v without Go's HTML escaping, as serde_json does.
func encodeLikeSerde(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// RequirementsCachePayload builds a requirements-generation signed_payload
// as Codex ≤ 0.136 serialises it. Empty ids become null; a nil contents is
// null. Pass it to SignCache.
func RequirementsCachePayload(cachedAt, expiresAt time.Time, userID, accountID string, contents *string) []byte {
	return encodeLikeSerde(struct {
		CachedAt  chronoTime `json:"cached_at"`
		ExpiresAt chronoTime `json:"expires_at"`
		UserID    *string    `json:"chatgpt_user_id"`
		AccountID *string    `json:"account_id"`
		Contents  *string    `json:"contents"`
	}{chronoTime(cachedAt), chronoTime(expiresAt), optJSONString(userID), optJSONString(accountID), contents})
}

// BundleCachePayload builds a bundle-generation signed_payload (version 1)
// as Codex ≥ 0.137 serialises it. Empty ids become null. Pass it to
// SignCache.
func BundleCachePayload(cachedAt, expiresAt time.Time, userID, accountID string, requirements, config []Fragment) []byte {
	type bucket struct {
		EnterpriseManaged []Fragment `json:"enterprise_managed"`
	}
	if requirements == nil {
		requirements = []Fragment{}
	}
	if config == nil {
		config = []Fragment{}
	}
	return encodeLikeSerde(struct {
		Version   int        `json:"version"`
		CachedAt  chronoTime `json:"cached_at"`
		ExpiresAt chronoTime `json:"expires_at"`
		UserID    *string    `json:"chatgpt_user_id"`
		AccountID *string    `json:"account_id"`
		Bundle    struct {
			ConfigTOML       bucket `json:"config_toml"`
			RequirementsTOML bucket `json:"requirements_toml"`
		} `json:"bundle"`
	}{
		Version: BundleCacheVersion, CachedAt: chronoTime(cachedAt), ExpiresAt: chronoTime(expiresAt),
		UserID: optJSONString(userID), AccountID: optJSONString(accountID),
		Bundle: struct {
			ConfigTOML       bucket `json:"config_toml"`
			RequirementsTOML bucket `json:"requirements_toml"`
		}{bucket{config}, bucket{requirements}},
	})
}

// HumanDuration renders a duration for reading: "40 s", "23 min",
// "2 h 5 min", "14 h", "3 d". Negative durations are rendered by their size.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 10*time.Hour:
		h, m := int(d/time.Hour), int((d%time.Hour)/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}

func fmtCacheTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
