package model

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateCacheFixtures = flag.Bool("update-cache-fixtures", false, "rewrite testdata/model/cache fixtures")

const (
	fixUser = "user-fixture-0001"
	fixAcct = "acct-fixture-0001"
)

var (
	fixCachedAt  = time.Date(2026, 12, 3, 10, 0, 0, 123_000_000, time.UTC)
	fixReqExpiry = fixCachedAt.Add(RequirementsCacheTTL)
	fixBunExpiry = fixCachedAt.Add(BundleCacheTTL)
	// Contents with the characters Go's encoder would escape, and non-ASCII,
	// to prove the signature is over the raw bytes.
	fixContents = "# <Acme & Co> — managed\nallowed_sandbox_modes = [\"read-only\"]\n"
	fixFrags    = []Fragment{{ID: "frag-1", Name: "Acme <base> & co", Contents: fixContents}}
	fixCfgFrags = []Fragment{{ID: "cfg-1", Name: "config", Contents: "model = \"o3\"\n"}}
)

func cacheDir(name string) string { return filepath.Join("..", "testdata", "model", "cache", name) }

// cacheFixtures are the signed fixture files, rebuilt with
// -update-cache-fixtures; TestCacheFixturesUpToDate checks they match.
func cacheFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	real, err := os.ReadFile(filepath.Join("..", "testdata", "model", "codex-0.171.0", BundleCacheFileName))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(real, []byte(`[\"untrusted\"]`), []byte(`[\"never\"]`), 1)
	if bytes.Equal(tampered, real) {
		t.Fatal("test setup: could not tamper with the real cache")
	}
	v2 := bytes.Replace(BundleCachePayload(fixCachedAt, fixBunExpiry, fixUser, fixAcct, fixFrags, nil), []byte(`"version":1`), []byte(`"version":2`), 1)
	contents := fixContents
	return map[string][]byte{
		"bundle-ok/" + BundleCacheFileName:               SignCache(ProtocolBundle, BundleCachePayload(fixCachedAt, fixBunExpiry, fixUser, fixAcct, fixFrags, fixCfgFrags)),
		"bundle-tampered/" + BundleCacheFileName:         tampered,
		"bundle-other-identity/" + BundleCacheFileName:   SignCache(ProtocolBundle, BundleCachePayload(fixCachedAt, fixBunExpiry, "user-someone-else", fixAcct, fixFrags, nil)),
		"bundle-no-identity/" + BundleCacheFileName:      SignCache(ProtocolBundle, BundleCachePayload(fixCachedAt, fixBunExpiry, "", "", fixFrags, nil)),
		"bundle-version2/" + BundleCacheFileName:         SignCache(ProtocolBundle, v2),
		"bundle-wrong-key/" + BundleCacheFileName:        SignCache(ProtocolRequirements, BundleCachePayload(fixCachedAt, fixBunExpiry, fixUser, fixAcct, fixFrags, nil)),
		"bundle-garbage/" + BundleCacheFileName:          []byte("this is not JSON {\n"),
		"bundle-wrong-type/" + BundleCacheFileName:       []byte("{\n  \"signed_payload\": {\n    \"version\": 1,\n    \"cached_at\": \"2026-12-03T10:00:00Z\",\n    \"expires_at\": 1796400000\n  },\n  \"signature\": \"AAAA\"\n}"),
		"requirements-ok/" + RequirementsCacheFileName:   SignCache(ProtocolRequirements, RequirementsCachePayload(fixCachedAt, fixReqExpiry, fixUser, fixAcct, &contents)),
		"requirements-null/" + RequirementsCacheFileName: SignCache(ProtocolRequirements, RequirementsCachePayload(fixCachedAt, fixReqExpiry, fixUser, fixAcct, nil)),
	}
}

func TestCacheFixturesUpToDate(t *testing.T) {
	for name, want := range cacheFixtures(t) {
		path := cacheDir(name)
		if *updateCacheFixtures {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./model/ -run TestCacheFixturesUpToDate -update-cache-fixtures)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run with -update-cache-fixtures", name)
		}
	}
}

func TestCheckCacheRealCodex(t *testing.T) {
	home := filepath.Join("..", "testdata", "model", "codex-0.171.0")
	allOK := []string{CheckIdentity, CheckReadable, CheckParses, CheckSignature, CheckVersion, CheckCachedIdentity, CheckIdentityMatch, CheckNotExpired}

	v := CheckCache(home, ProtocolBundle, "user-oracle-0001", "acct-oracle-0001", time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC))
	assertChecks(t, v, allOK, true)
	if !v.Usable || v.Reason != "expires in 44 min" {
		t.Errorf("Usable = %v, Reason = %q", v.Usable, v.Reason)
	}
	if v.ExpiresAt != time.Date(2026, 12, 3, 17, 44, 16, 471771553, time.UTC) || v.CachedAt != time.Date(2026, 12, 3, 16, 44, 16, 471771553, time.UTC) {
		t.Errorf("CachedAt %v, ExpiresAt %v", v.CachedAt, v.ExpiresAt)
	}
	if len(v.ConfigFragments) != 0 || len(v.RequirementsFragments) != 1 || v.RequirementsFragments[0].ID != "oracle-requirements-1" ||
		!strings.HasPrefix(v.RequirementsFragments[0].Contents, "allowed_approval_policies = [\"untrusted\"]\n") {
		t.Errorf("fragments = %+v / %+v", v.RequirementsFragments, v.ConfigFragments)
	}

	v = CheckCache(home, ProtocolBundle, "user-oracle-0001", "acct-oracle-0001", time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC))
	assertChecks(t, v, allOK, false)
	if v.Usable || v.Reason != "expired 15 min ago" {
		t.Errorf("Usable = %v, Reason = %q", v.Usable, v.Reason)
	}
	// The same file read as a requirements-generation cache: wrong name.
	v = CheckCache(home, ProtocolRequirements, "user-oracle-0001", "acct-oracle-0001", time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC))
	if v.Usable || v.Reason != "no cache file" {
		t.Errorf("requirements generation: %+v", v)
	}
}

func TestCheckCache(t *testing.T) {
	in := func(d time.Duration) time.Time { return fixCachedAt.Add(d) }
	tests := []struct {
		name      string
		dir       string
		p         Protocol
		user      string
		acct      string
		now       time.Time
		lastCheck string
		lastOK    bool
		reason    string
	}{
		{"bundle fresh", "bundle-ok", ProtocolBundle, fixUser, fixAcct, in(20 * time.Minute), CheckNotExpired, true, "expires in 40 min"},
		{"bundle expired", "bundle-ok", ProtocolBundle, fixUser, fixAcct, in(3 * time.Hour), CheckNotExpired, false, "expired 2 h ago"},
		{"bundle at expiry", "bundle-ok", ProtocolBundle, fixUser, fixAcct, fixBunExpiry, CheckNotExpired, false, "expired 0 s ago"},
		{"bundle cached in the future", "bundle-ok", ProtocolBundle, fixUser, fixAcct, in(-10 * time.Minute), CheckNotExpired, false, "cached_at lies 10 min in the future"},
		{"no user id", "bundle-ok", ProtocolBundle, "", fixAcct, in(time.Minute), CheckIdentity, false, "identity is incomplete (no user id)"},
		{"no account id", "bundle-ok", ProtocolBundle, fixUser, "", in(time.Minute), CheckIdentity, false, "identity is incomplete (no account id)"},
		{"missing", "does-not-exist", ProtocolBundle, fixUser, fixAcct, in(time.Minute), CheckReadable, false, "no cache file"},
		{"garbage", "bundle-garbage", ProtocolBundle, fixUser, fixAcct, in(time.Minute), CheckParses, false, "cannot be parsed: not valid JSON: invalid character 'h' in literal true"},
		{"wrong type", "bundle-wrong-type", ProtocolBundle, fixUser, fixAcct, in(time.Minute), CheckParses, false, "`signed_payload.expires_at` must be an RFC 3339 date-time string, got number"},
		{"tampered", "bundle-tampered", ProtocolBundle, "user-oracle-0001", "acct-oracle-0001", time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC), CheckSignature, false, "the signature does not match"},
		{"wrong key", "bundle-wrong-key", ProtocolBundle, fixUser, fixAcct, in(time.Minute), CheckSignature, false, "the signature does not match"},
		{"version 2", "bundle-version2", ProtocolBundle, fixUser, fixAcct, in(time.Minute), CheckVersion, false, "unsupported cache version 2"},
		{"no cached identity", "bundle-no-identity", ProtocolBundle, fixUser, fixAcct, in(time.Minute), CheckCachedIdentity, false, "does not record whose it is"},
		{"other identity", "bundle-other-identity", ProtocolBundle, fixUser, fixAcct, in(time.Minute), CheckIdentityMatch, false, "the cache belongs to another login"},
		{"requirements fresh", "requirements-ok", ProtocolRequirements, fixUser, fixAcct, in(7 * time.Minute), CheckNotExpired, true, "expires in 23 min"},
		{"requirements expired", "requirements-ok", ProtocolRequirements, fixUser, fixAcct, in(31 * time.Minute), CheckNotExpired, false, "expired 1 min ago"},
		// The requirements generation has no cached_at bound.
		{"requirements cached in the future", "requirements-ok", ProtocolRequirements, fixUser, fixAcct, in(-time.Hour), CheckNotExpired, true, "expires in 1 h 30 min"},
		{"requirements null contents", "requirements-null", ProtocolRequirements, fixUser, fixAcct, in(time.Minute), CheckNotExpired, true, "expires in 29 min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := CheckCache(cacheDir(tt.dir), tt.p, tt.user, tt.acct, tt.now)
			if len(v.Checks) == 0 {
				t.Fatal("no checks")
			}
			last := v.Checks[len(v.Checks)-1]
			if last.Name != tt.lastCheck || last.OK != tt.lastOK || v.Usable != tt.lastOK || !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("last check %q ok=%v (%s), usable=%v, reason %q; want %q ok=%v, reason containing %q",
					last.Name, last.OK, last.Detail, v.Usable, v.Reason, tt.lastCheck, tt.lastOK, tt.reason)
			}
			for _, c := range v.Checks[:len(v.Checks)-1] {
				if !c.OK {
					t.Errorf("check %q failed before the last one", c.Name)
				}
			}
			if v.Path != filepath.Join(cacheDir(tt.dir), CacheFileName(tt.p)) {
				t.Errorf("Path = %q", v.Path)
			}
		})
	}
}

func TestCheckCachePayload(t *testing.T) {
	v := CheckCache(cacheDir("requirements-ok"), ProtocolRequirements, fixUser, fixAcct, fixCachedAt.Add(time.Minute))
	if v.Contents == nil || *v.Contents != fixContents {
		t.Errorf("Contents = %v", v.Contents)
	}
	if !v.CachedAt.Equal(fixCachedAt) || !v.ExpiresAt.Equal(fixReqExpiry) || v.CachedUserID != fixUser || v.CachedAccountID != fixAcct {
		t.Errorf("verdict = %+v", v)
	}
	v = CheckCache(cacheDir("requirements-null"), ProtocolRequirements, fixUser, fixAcct, fixCachedAt.Add(time.Minute))
	if v.Contents != nil {
		t.Errorf("null contents = %q", *v.Contents)
	}
	v = CheckCache(cacheDir("bundle-ok"), ProtocolBundle, fixUser, fixAcct, fixCachedAt.Add(time.Minute))
	if len(v.RequirementsFragments) != 1 || v.RequirementsFragments[0] != fixFrags[0] || len(v.ConfigFragments) != 1 || v.ConfigFragments[0] != fixCfgFrags[0] || v.Version != 1 {
		t.Errorf("fragments = %+v / %+v", v.RequirementsFragments, v.ConfigFragments)
	}
}

func TestCheckCacheUnreadable(t *testing.T) {
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, BundleCacheFileName), 0o755); err != nil {
		t.Fatal(err)
	}
	v := CheckCache(home, ProtocolBundle, fixUser, fixAcct, fixCachedAt)
	if v.Usable || !strings.Contains(v.Reason, "cannot be read: is a directory") {
		t.Errorf("reason = %q", v.Reason)
	}
}

func TestSignCacheFormat(t *testing.T) {
	// SignCache writes what Codex writes: the real file's own payload
	// signs to the real signature.
	real, err := os.ReadFile(filepath.Join("..", "testdata", "model", "codex-0.171.0", BundleCacheFileName))
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(real, []byte(`"signed_payload": `)) + len(`"signed_payload": `)
	end := bytes.LastIndex(real, []byte(",\n  \"signature\""))
	got := SignCache(ProtocolBundle, real[start:end])
	if !bytes.Equal(got, real) {
		t.Errorf("SignCache did not reproduce the real file:\n%s\nwant:\n%s", got, real)
	}
	if SignCache(ProtocolBundle, []byte("{bad")) != nil {
		t.Error("SignCache accepted invalid JSON")
	}
	// chrono's time format: 0, 3, 6 or 9 fractional digits.
	p := string(RequirementsCachePayload(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 120_000_000, time.UTC), "", "a", nil))
	if want := `{"cached_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T03:04:05.120Z","chatgpt_user_id":null,"account_id":"a","contents":null}`; p != want {
		t.Errorf("payload = %s\nwant      %s", p, want)
	}
}

func TestCacheConstants(t *testing.T) {
	if CacheFileName(ProtocolBundle) != "cloud-config-bundle-cache.json" || CacheFileName(ProtocolRequirements) != "cloud-requirements-cache.json" {
		t.Error("cache file names")
	}
	if CacheTTL(ProtocolBundle) != time.Hour || CacheTTL(ProtocolRequirements) != 30*time.Minute {
		t.Error("cache TTLs")
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{42 * time.Second, "42 s"},
		{-23*time.Minute - 10*time.Second, "23 min"},
		{time.Hour, "1 h"},
		{2*time.Hour + 16*time.Minute, "2 h 16 min"},
		{14*time.Hour + 59*time.Minute, "14 h"},
		{75 * time.Hour, "3 d"},
	}
	for _, tt := range tests {
		if got := HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func assertChecks(t *testing.T, v CacheVerdict, names []string, lastOK bool) {
	t.Helper()
	if len(v.Checks) != len(names) {
		t.Fatalf("checks = %+v, want %v", v.Checks, names)
	}
	for i, c := range v.Checks {
		wantOK := i < len(names)-1 || lastOK
		if c.Name != names[i] || c.OK != wantOK {
			t.Errorf("check %d = %+v, want %q ok=%v", i, c, names[i], wantOK)
		}
	}
}
