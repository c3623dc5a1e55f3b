package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// TestRealCodexCacheMeansNoRequest: a CODEX_HOME holding the cache and
// login that Codex 0.171.0 wrote; within the hour Codex would use the
// cache and make no request.
func TestRealCodexCacheMeansNoRequest(t *testing.T) {
	home := t.TempDir()
	for _, f := range []string{"auth.json", "cloud-config-bundle-cache.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "model", "codex-0.171.0", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// No config.toml: the default base URL is never contacted, since the
	// cache decides and the live check is off.
	for _, tc := range []struct {
		now     string
		outcome Outcome
		usable  bool
		reason  string
	}{
		{"2026-12-03T17:00:00Z", OutcomeRequirements, true, "expires in 44 min"},
		{"2026-12-03T18:00:00Z", "", false, "expired 15 min ago"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		opts := Options{CodexHome: home, Protocol: "bundle", NoLive: true, Codex: noCodex, Now: func() time.Time { return now }}
		if !tc.usable {
			// An expired cache means a fetch: point it at a closed port so
			// it fails at once, on loopback.
			os.WriteFile(filepath.Join(home, "config.toml"), []byte("chatgpt_base_url = \"http://127.0.0.1:1/backend-api/\"\n"), 0o600)
			opts.Timeout = 2 * time.Second
		}
		rep := Run(context.Background(), opts, nil)
		if rep.Cache == nil || rep.Cache.Usable != tc.usable || !strings.Contains(rep.Cache.Reason, tc.reason) {
			t.Fatalf("at %s: cache %+v", tc.now, rep.Cache)
		}
		if tc.usable {
			if rep.Outcome != tc.outcome || rep.Fetch != nil || rep.ExitCode != ExitOK {
				t.Errorf("outcome %s fetch %v exit %d", rep.Outcome, rep.Fetch, rep.ExitCode)
			}
			if f := stage(t, rep, StageFetch); f.Status != StatusSkipped || !strings.Contains(f.Summary, "no request") {
				t.Errorf("fetch stage %+v", f)
			}
			if rep.Requirements == nil || rep.Requirements.Fields["mcp_servers"] == nil {
				t.Errorf("requirements from the cache: %+v", rep.Requirements)
			}
		} else if rep.Fetch == nil {
			t.Errorf("expired cache but no fetch")
		}
	}
}

// TestCacheVerdicts: each kind of unusable cache says why and Codex
// fetches.
func TestCacheVerdicts(t *testing.T) {
	now := time.Now()
	frags := []model.Fragment{{ID: "f1", Name: "cached", Contents: "enforce_residency = \"us\"\n"}}
	good := func(user, account string, expires time.Time) []byte {
		return model.SignCache(model.ProtocolBundle, model.BundleCachePayload(now.Add(-5*time.Minute), expires, user, account, frags, nil))
	}
	tampered := strings.Replace(string(good(fetch.DemoUserID, fetch.DemoAccountID, now.Add(time.Hour))), `\"us\"`, `\"eu\"`, 1)
	for _, tc := range []struct {
		name   string
		file   []byte
		reason string
		status Status
	}{
		{"tampered", []byte(tampered), "signature", StatusWarn},
		{"expired", good(fetch.DemoUserID, fetch.DemoAccountID, now.Add(-2*time.Hour)), "expired", StatusOK},
		{"other identity", good("user-someone-else", fetch.DemoAccountID, now.Add(time.Hour)), "", StatusOK},
		{"garbage", []byte("{not json"), "", StatusWarn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, _ := fetch.FindScenario("none")
			demo := startDemo(t, sc)
			if err := os.WriteFile(filepath.Join(demo.CodexHome, model.CacheFileName(model.ProtocolBundle)), tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
			c := stage(t, rep, StageCache)
			if rep.Cache == nil || rep.Cache.Usable || c.Status != tc.status || !strings.Contains(c.Summary, "Codex will fetch") ||
				!strings.Contains(c.Summary, tc.reason) {
				t.Errorf("cache stage %+v verdict %+v", c, rep.Cache)
			}
			failed := 0
			for _, ch := range rep.Cache.Checks {
				if !ch.OK {
					failed++
				}
			}
			if failed != 1 {
				t.Errorf("%d failed checks, want exactly the first failure: %+v", failed, rep.Cache.Checks)
			}
			if rep.Fetch == nil || len(demo.Backend.Requests()) != 1 || rep.Live != nil {
				t.Errorf("Codex would fetch: fetch %v, %d requests, live %v", rep.Fetch, len(demo.Backend.Requests()), rep.Live)
			}
		})
	}
}

func TestNoLiveSkipsOnlyTheComparison(t *testing.T) {
	sc, _ := fetch.FindScenario("valid-cache")
	demo := startDemo(t, sc)
	rep := Run(context.Background(), DemoOptions(Options{NoLive: true}, demo), nil)
	if len(demo.Backend.Requests()) != 0 || rep.Live != nil || rep.Outcome != OutcomeRequirements {
		t.Fatalf("%d requests, live %v, outcome %s", len(demo.Backend.Requests()), rep.Live, rep.Outcome)
	}
	if f := stage(t, rep, StageFetch); f.Status != StatusSkipped || !strings.Contains(f.Summary, "--no-live") {
		t.Errorf("fetch stage %+v", f)
	}
}

func TestLiveCheckFindsChangesAndOutages(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		same     bool
		err      bool
		warn     string
	}{
		{"valid-cache", true, false, ""},
		{"stale-cache", false, false, "changed since Codex cached it"},
		{"cache-hides-outage", false, true, "Codex will fail when this cache expires"},
	} {
		sc, _ := fetch.FindScenario(tc.scenario)
		demo := startDemo(t, sc)
		opts := DemoOptions(Options{}, demo)
		opts.Jitter = func() float64 { return 0.9 }
		rep := Run(context.Background(), opts, nil)
		if rep.Live == nil || rep.Live.Same != tc.same || (rep.Live.Err != nil) != tc.err {
			t.Fatalf("%s: live %+v", tc.scenario, rep.Live)
		}
		if rep.Outcome != OutcomeRequirements || rep.ExitCode != ExitOK || rep.Fetch != nil {
			t.Errorf("%s: the outcome must stay Codex's (cache): %s exit %d fetch %v", tc.scenario, rep.Outcome, rep.ExitCode, rep.Fetch)
		}
		if tc.warn != "" && !strings.Contains(strings.Join(rep.Warnings, "\n"), tc.warn) {
			t.Errorf("%s: warnings %q lack %q", tc.scenario, rep.Warnings, tc.warn)
		}
		if !tc.same && !tc.err && len(rep.Live.Diff) == 0 {
			t.Errorf("%s: no diff", tc.scenario)
		}
	}
}

// TestRequirementsCacheContents: Codex ≤ 0.136 fails from a cache whose
// contents break a rule (it caches before the rule checks), but reads
// contents that do not parse as no requirements.
func TestRequirementsCacheContents(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		contents string
		outcome  Outcome
		code     fetch.ErrorCode
	}{
		{"allowed_sandbox_modes = [\"workspace-write\"]\n", OutcomeError, fetch.CodeParse},
		{"enforce_residency = \"eu\"\n", OutcomeError, fetch.CodeParse},
		{"allowed_sandbox_modes = [\n", OutcomeNone, ""},
		{"allowed_sandbox_modes = [\"bogus\"]\n", OutcomeNone, ""},
		{"enforce_residency = \"us\"\n", OutcomeRequirements, ""},
	} {
		sc, _ := fetch.FindScenario("legacy-requirements")
		demo := startDemo(t, sc)
		c := tc.contents
		file := model.SignCache(model.ProtocolRequirements, model.RequirementsCachePayload(now.Add(-time.Minute), now.Add(29*time.Minute), fetch.DemoUserID, fetch.DemoAccountID, &c))
		if err := os.WriteFile(filepath.Join(demo.CodexHome, model.CacheFileName(model.ProtocolRequirements)), file, 0o600); err != nil {
			t.Fatal(err)
		}
		rep := Run(context.Background(), DemoOptions(Options{NoLive: true}, demo), nil)
		code := fetch.ErrorCode("")
		if rep.Err != nil {
			code = rep.Err.Code
		}
		if rep.Outcome != tc.outcome || code != tc.code || len(demo.Backend.Requests()) != 0 {
			t.Errorf("%q: outcome %s code %q requests %d", tc.contents, rep.Outcome, code, len(demo.Backend.Requests()))
		}
	}
}

// TestCacheIdentityUsesTokensAccountID: Codex's account id is
// tokens.account_id, not the id_token claim.
func TestCacheIdentityUsesTokensAccountID(t *testing.T) {
	sc, _ := fetch.FindScenario("valid-cache")
	demo := startDemo(t, sc)
	authPath := filepath.Join(demo.CodexHome, "auth.json")
	raw, err := os.ReadFile(authPath)
	if err != nil {
		t.Fatal(err)
	}
	// The file's account id now differs from the id_token claim (and the
	// cache, written for the claim's account).
	os.WriteFile(authPath, []byte(strings.Replace(string(raw), `"account_id": "acct-demo-0001"`, `"account_id": "acct-other"`, 1)), 0o600)
	if string(raw) == strings.Replace(string(raw), `"account_id": "acct-demo-0001"`, "", 1) {
		t.Fatalf("auth.json layout changed: %s", raw)
	}
	rep := Run(context.Background(), DemoOptions(Options{}, demo), nil)
	if rep.Cache == nil || rep.Cache.Usable || rep.Fetch == nil {
		t.Fatalf("cache %+v fetch %v: Codex compares tokens.account_id and fetches", rep.Cache, rep.Fetch)
	}
}
