package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// Options configures a run. The zero value diagnoses the real machine with
// Codex's defaults; tests and --demo replace the boundaries.
type Options struct {
	CodexHome string        // --codex-home; "" → CODEX_HOME, then ~/.codex
	Protocol  string        // "auto" (default), "bundle" or "requirements"
	Timeout   time.Duration // 0 → Codex's budget for the protocol
	// NoLive skips reqdoctor's comparison fetch when Codex would use a
	// valid cache; Codex itself makes no request then.
	NoLive bool
	// SystemConfigDir holds requirements.toml and managed_config.toml;
	// "" → Codex's default (/etc/codex on Unix).
	SystemConfigDir string
	Demo            string // demo scenario name; "" for a real diagnosis

	protocolFromDemo bool // Protocol was set by DemoOptions, not the user

	Getenv   func(string) string             // nil → os.Getenv
	UserHome func() (string, error)          // nil → os.UserHomeDir
	Now      func() time.Time                // nil → time.Now
	Codex    func(context.Context) CodexInfo // nil → look for codex on PATH

	// Verbose, when set, receives each request's and response's headers
	// (secrets redacted): -v.
	Verbose io.Writer
	// Proxy overrides Codex's proxy rules (the demo talks to its own
	// loopback backend directly); nil → the rules of fetch.ProxyFor.
	Proxy func(*http.Request) (*url.URL, error)

	// Fetch boundaries (nil → real ones).
	HTTPClient *http.Client
	Clock      fetch.Clock
	Jitter     func() float64
}

// CodexInfo is what reqdoctor found out about the codex binary on PATH.
type CodexInfo struct {
	Path    string // "" when not found
	Version string // e.g. "0.136.0"; "" when unknown
	Err     error  // why the version could not be read
}

// state carries what earlier stages found to later ones.
type state struct {
	opts     Options
	now      func() time.Time
	emit     func(Event)
	home     string
	config   model.Config
	codex    CodexInfo
	protocol model.Protocol
	url      string
	auth     *model.Auth
	// reload reads the login again from its store, as Codex does on a 401.
	reload func() (*model.Auth, error)

	rep *Report
	// stop is set by a stage that decides the outcome; later stages are
	// skipped with this reason.
	stop string

	// cached is the valid cache's payload when Codex would use it.
	cached         *fetch.Payload
	fromCache      bool
	credentialsBad bool
}

// Run diagnoses how Codex would load its cloud requirements. emit (may be
// nil) receives live progress; the final report is also sent as Finished.
func Run(ctx context.Context, opts Options, emit func(Event)) *Report {
	if emit == nil {
		emit = func(Event) {}
	}
	st := &state{opts: opts, emit: emit, rep: &Report{}}
	st.now = opts.Now
	if st.now == nil {
		st.now = time.Now
	}
	stages := []struct {
		id StageID
		fn func(context.Context, *state) StageResult
	}{
		{StageEnvironment, stageEnvironment},
		{StageAuth, stageAuth},
		{StagePlan, stagePlan},
		{StageCache, stageCache},
		{StageFetch, stageFetch},
		{StageParse, stageParse},
		{StageLocal, stageLocal},
		{StageUserConfig, stageUserConfig},
	}
	for i, s := range stages {
		if i == len(StageOrder) {
			// The cloud load is decided; the local sources and the user's
			// config are read whatever it was.
			st.stop = ""
		}
		if s.id == StageUserConfig && st.home == "" {
			st.stop = "CODEX_HOME is unusable"
		}
		var res StageResult
		if st.stop != "" {
			res = StageResult{ID: s.id, Status: StatusSkipped, Summary: st.stop}
		} else {
			emit(StageStarted{ID: s.id})
			start := st.now()
			res = runStage(ctx, st, s.id, s.fn)
			res.Duration = st.now().Sub(start)
		}
		res.ID = s.id
		st.rep.Stages = append(st.rep.Stages, res)
		emit(StageFinished{Result: res})
	}
	st.finish()
	emit(Finished{Report: st.rep})
	return st.rep
}

// runStage contains a panic in a stage to that stage, so one bug shows as a
// crashed stage instead of a stack trace over the user's terminal.
func runStage(ctx context.Context, st *state, id StageID, fn func(context.Context, *state) StageResult) (res StageResult) {
	defer func() {
		if p := recover(); p != nil {
			msg := fetch.Sanitize(fmt.Sprint(p), 300)
			hint := "this is a reqdoctor bug; please report it"
			if path := SaveCrash(fmt.Sprintf("stage %s: %v", id, p)); path != "" {
				hint += " with the trace saved in " + path
			}
			res = StageResult{ID: id, Status: StatusFail, Summary: "crashed: " + msg, Hint: hint}
			st.setError(fetch.CodeInternal, fmt.Sprintf("reqdoctor stage %s crashed: %s", id, msg), 0)
			st.stop = "an earlier stage crashed"
		}
	}()
	return fn(ctx, st)
}

// SaveCrash writes what and the current goroutine's stack to a new file in
// the temp folder and returns its path ("" when it cannot), so a crash
// shows one line on the terminal, not a stack trace.
func SaveCrash(what string) string {
	f, err := os.CreateTemp("", "reqdoctor-crash-*.txt")
	if err != nil {
		return ""
	}
	defer f.Close()
	fmt.Fprintf(f, "reqdoctor crashed: %s\n\n%s", what, debug.Stack())
	return f.Name()
}

func (st *state) getenv(k string) string {
	if st.opts.Getenv != nil {
		return st.opts.Getenv(k)
	}
	return os.Getenv(k)
}

func (st *state) setError(code fetch.ErrorCode, msg string, status int) {
	st.rep.Err = &fetch.Error{Code: code, Message: msg, StatusCode: status}
	st.rep.Outcome = OutcomeError
}

func (st *state) warn(format string, a ...any) {
	st.rep.Warnings = append(st.rep.Warnings, fmt.Sprintf(format, a...))
}

// finish derives the exit code from the outcome, as design.md's table says.
func (st *state) finish() {
	r := st.rep
	if r.Outcome == "" {
		r.Outcome = OutcomeNone
	}
	r.ExitCode = ExitCodeFor(r.Outcome, r.Err, st.credentialsBad)
}

// ExitCodeFor maps an outcome to reqdoctor's exit code.
func ExitCodeFor(o Outcome, err *fetch.Error, credentialsBad bool) int {
	switch o {
	case OutcomeRequirements, OutcomeNone:
		return ExitOK
	case OutcomeNotApplicable:
		if credentialsBad {
			return ExitCredentials
		}
		return ExitOK
	}
	if err == nil {
		return ExitRefuse
	}
	switch err.Code {
	case fetch.CodeAuth:
		return ExitCredentials
	case fetch.CodeTimeout:
		return ExitTimeout
	}
	return ExitRefuse
}

// ---- environment ----

func stageEnvironment(ctx context.Context, st *state) StageResult {
	res := StageResult{Status: StatusOK}
	userHome := st.opts.UserHome
	if userHome == nil {
		userHome = os.UserHomeDir
	}
	home, source, err := model.ResolveCodexHome(st.opts.CodexHome, st.getenv, userHome)
	if err != nil {
		st.setError(fetch.CodeInternal, err.Error(), 0)
		st.stop = "CODEX_HOME is unusable; Codex stops before loading requirements"
		hint := "point CODEX_HOME at an existing directory, or unset it to use ~/.codex"
		if source == model.HomeFromFlag {
			hint = "pass an existing directory to --codex-home"
		}
		return StageResult{Status: StatusFail, Summary: err.Error(), Hint: hint,
			Details: []Detail{{Key: "CODEX_HOME", ID: "codexHome", Value: home}}}
	}
	st.home = home
	label := sourceLabel(source)
	if st.opts.Demo != "" {
		label = "throw-away demo home, removed at exit"
	}
	if _, err := os.Stat(home); err != nil {
		// Only the default may be missing; Codex creates it at login.
		label += "; does not exist yet"
	}
	res.Details = append(res.Details, Detail{Key: "CODEX_HOME", ID: "codexHome", Value: home + " (" + label + ")"})

	st.config = model.LoadConfig(home)
	cfgLine := "not found (Codex defaults apply)"
	if st.config.Found {
		cfgLine = st.config.Path
	}
	if st.config.Err != nil {
		cfgLine = st.config.Err.Error()
		res.Status = StatusFail
		res.Summary = "config.toml is invalid"
		res.Hint = "fix " + st.config.Err.Error() + "; Codex refuses to start until config.toml parses"
		st.warn("config.toml is invalid (%s); reqdoctor continues with Codex's defaults, but Codex itself will not start", st.config.Err.Error())
	}
	res.Details = append(res.Details, Detail{Key: "config.toml", ID: "configToml", Value: cfgLine})

	base := st.config.BaseURL
	baseNote := base
	if base == "" {
		base = model.DefaultBaseURL
		baseNote = base + " (default)"
	}
	res.Details = append(res.Details,
		Detail{Key: "chatgpt_base_url", ID: "chatgptBaseUrl", Value: baseNote},
		Detail{Key: "credential store", ID: "credentialStore", Value: st.config.CredentialsStore})

	st.protocol, st.codex = chooseProtocol(ctx, st)
	codexLine := "not found on PATH"
	if st.codex.Path != "" {
		codexLine = st.codex.Path
		if st.codex.Version != "" {
			codexLine = "codex " + st.codex.Version + " at " + st.codex.Path
		} else if st.codex.Err != nil {
			codexLine += " (version unknown: " + fetch.Sanitize(st.codex.Err.Error(), 200) + ")"
		}
	}
	res.Details = append(res.Details,
		Detail{Key: "codex", ID: "codex", Value: codexLine},
		Detail{Key: "protocol", ID: "protocol", Value: string(st.protocol) + " — " + protocolReason(st)})
	st.rep.Protocol = st.protocol
	st.url = fetch.EndpointURL(fetch.NormalizeBaseURL(base), st.protocol)
	res.Details = append(res.Details, Detail{Key: "endpoint", ID: "endpoint", Value: st.url})
	if res.Summary == "" {
		res.Summary = fmt.Sprintf("%s protocol (%s), server %s", st.protocol, codexRange(st.protocol), hostOf(st.url))
	}
	return res
}

func codexRange(p model.Protocol) string {
	if p == model.ProtocolRequirements {
		return "Codex ≤ 0.136"
	}
	return "Codex ≥ 0.137"
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

func sourceLabel(source string) string {
	switch source {
	case model.HomeFromFlag:
		return "from --codex-home"
	case model.HomeFromEnv:
		return "from $CODEX_HOME"
	}
	return "default"
}

func chooseProtocol(ctx context.Context, st *state) (model.Protocol, CodexInfo) {
	switch st.opts.Protocol {
	case string(model.ProtocolBundle):
		return model.ProtocolBundle, CodexInfo{}
	case string(model.ProtocolRequirements):
		return model.ProtocolRequirements, CodexInfo{}
	}
	find := st.opts.Codex
	if find == nil {
		find = FindCodex
	}
	info := find(ctx)
	if info.Version != "" && VersionAtMost(info.Version, 0, 136) {
		return model.ProtocolRequirements, info
	}
	return model.ProtocolBundle, info
}

func protocolReason(st *state) string {
	switch {
	case st.opts.protocolFromDemo:
		return "the demo scenario " + st.opts.Demo + " speaks this generation"
	case st.opts.Protocol == string(model.ProtocolBundle) || st.opts.Protocol == string(model.ProtocolRequirements):
		return "set by --protocol"
	case st.codex.Path == "":
		return "no codex on PATH; assuming a current Codex (≥ 0.137)"
	case st.codex.Version == "":
		return "codex version unknown; assuming a current Codex (≥ 0.137)"
	case st.protocol == model.ProtocolRequirements:
		return "codex " + st.codex.Version + " is ≤ 0.136"
	}
	return "codex " + st.codex.Version + " is ≥ 0.137"
}

// ---- auth ----

func stageAuth(ctx context.Context, st *state) StageResult {
	now := st.now()
	cred := model.ResolveCredentials(st.home, st.config.CredentialsStore, now)
	store := st.config.CredentialsStore
	if store == "" {
		store = model.StoreFile
	}
	details := []Detail{{Key: "store", ID: "store", Value: store + " (cli_auth_credentials_store)"}}
	if kr := cred.Keyring; kr != nil {
		v := kr.Status
		if kr.Detail != "" {
			v += ": " + kr.Detail
		}
		details = append(details, Detail{Key: "keyring", ID: "keyring", Value: fetch.Sanitize(model.KeyringLocation(kr.Account)+" — "+v, 400)})
	}
	for i, n := range cred.Notes {
		details = append(details, Detail{Key: "note", ID: fmt.Sprintf("note.%d", i+1), Value: fetch.Sanitize(n, 400)})
	}
	if cred.Err != nil || cred.Auth == nil {
		st.credentialsBad = true
		st.rep.Outcome = OutcomeNotApplicable
		st.stop = "Codex has no usable login, so it makes no request"
		err := cred.Err
		if err == nil {
			err = errors.New("no login found")
		}
		var ae *model.AuthError
		summary := fetch.Sanitize(err.Error(), 300)
		hint := "run `codex login` and sign in with your ChatGPT workspace account"
		switch {
		case cred.Keyring != nil && cred.Keyring.Hint != "" && cred.Used == "":
			hint = cred.Keyring.Hint
		case errors.As(err, &ae) && ae.Kind == model.AuthMissing && cred.Keyring == nil:
			summary = "not logged in: no auth.json in " + st.home
		case errors.As(err, &ae) && ae.Kind == model.AuthMissing:
			summary = "not logged in: " + summary
		default:
			hint = "Codex cannot read this login and treats you as logged out; run `codex logout` then `codex login`"
		}
		if cred.Path != "" {
			details = append(details, Detail{Key: "source", ID: "source", Value: cred.Path})
		}
		return StageResult{Status: StatusFail, Summary: summary, Hint: hint, Details: details}
	}
	auth := cred.Auth
	st.reload = func() (*model.Auth, error) {
		c := model.ResolveCredentials(st.home, st.config.CredentialsStore, st.now())
		return c.Auth, c.Err
	}
	st.auth = auth
	source := cred.Path
	if cred.Used == model.UsedFile {
		source = "file " + cred.Path
	}
	details = append(details,
		Detail{Key: "source", ID: "source", Value: source},
		Detail{Key: "mode", ID: "mode", Value: modeLabel(auth)})
	for _, k := range []string{"OPENAI_API_KEY", "CODEX_API_KEY"} {
		if st.getenv(k) != "" {
			details = append(details, Detail{Key: "env", ID: "env" + k, Value: "$" + k + " is set; it does not affect cloud requirements"})
		}
	}
	if auth.Mode == model.AuthModeAPIKey {
		st.rep.Outcome = OutcomeNotApplicable
		st.stop = "API-key login: Codex makes no request"
		if auth.HasAPIKey {
			details = append(details, Detail{Key: "API key", ID: "apiKey", Value: model.MaskSecret(auth.APIKey)})
		}
		return StageResult{Status: StatusWarn, Details: details,
			Summary: "signed in with an API key: cloud requirements apply only to ChatGPT sign-in",
			Hint:    "to get your workspace policies, run `codex login` and sign in with ChatGPT"}
	}
	if auth.Mode != model.AuthModeChatGPT && auth.Mode != model.AuthModeChatGPTTokens {
		st.rep.Outcome = OutcomeNotApplicable
		st.stop = "not a ChatGPT login: Codex makes no request"
		return StageResult{Status: StatusWarn, Details: details,
			Summary: "auth mode " + string(auth.Mode) + " is not a ChatGPT sign-in; cloud requirements do not apply",
			Hint:    "run `codex login` and sign in with ChatGPT to get your workspace policies"}
	}
	if uerr := auth.Usable(); uerr != nil {
		st.credentialsBad = true
		st.rep.Outcome = OutcomeNotApplicable
		st.stop = "Codex has no usable login, so it makes no request"
		return StageResult{Status: StatusFail, Details: details,
			Summary: fetch.Sanitize(uerr.Error(), 300),
			Hint:    "Codex cannot use this login and treats you as logged out; run `codex logout` then `codex login`"}
	}
	id := auth.ID
	details = append(details,
		Detail{Key: "email", ID: "email", Value: orNone(id.Email)},
		Detail{Key: "user id", ID: "userId", Value: orNone(id.UserID)},
		Detail{Key: "account id", ID: "accountId", Value: accountLine(auth)},
		Detail{Key: "access token", ID: "accessToken", Value: tokenLine(auth, now)})
	if auth.LastRefresh != nil {
		details = append(details, Detail{Key: "last refresh", ID: "lastRefresh", Value: model.HumanDuration(now.Sub(*auth.LastRefresh)) + " ago (" + auth.LastRefresh.UTC().Format(time.RFC3339) + ")"})
	}
	res := StageResult{Status: StatusOK, Details: details,
		Summary: "ChatGPT login" + emailSuffix(id.Email)}
	if auth.AccessExp != nil && !auth.AccessExp.After(now) {
		res.Status = StatusWarn
		res.Hint = "the access token has expired; Codex refreshes it on a 401 — if that fails, run `codex logout` then `codex login`"
	}
	if auth.AccountID == "" {
		res.Status = StatusWarn
		res.Hint = "auth.json has no tokens.account_id, so Codex sends no ChatGPT-Account-Id header; run `codex login` again"
	}
	return res
}

func modeLabel(a *model.Auth) string {
	if a.ModeExplicit {
		return string(a.Mode) + " (auth_mode)"
	}
	return string(a.Mode) + " (inferred: no auth_mode in auth.json)"
}

func accountLine(a *model.Auth) string {
	switch {
	case a.AccountID == "" && a.ID.AccountID == "":
		return "none"
	case a.AccountID == "":
		return a.ID.AccountID + " (id_token only: no tokens.account_id, so no ChatGPT-Account-Id header)"
	case a.ID.AccountID != "" && a.ID.AccountID != a.AccountID:
		return a.AccountID + " (id_token says " + a.ID.AccountID + ")"
	}
	return a.AccountID
}

func tokenLine(a *model.Auth, now time.Time) string {
	s := model.MaskSecret(a.AccessToken)
	switch {
	case a.AccessExp == nil:
		return s + " (no expiry claim)"
	case a.AccessExp.After(now):
		return s + " (expires in " + model.HumanDuration(a.AccessExp.Sub(now)) + ")"
	}
	return s + " (expired " + model.HumanDuration(now.Sub(*a.AccessExp)) + " ago)"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return fetch.Sanitize(s, 200)
}

func emailSuffix(email string) string {
	if email == "" {
		return ""
	}
	return " as " + fetch.Sanitize(email, 200)
}

// ---- plan ----

func stagePlan(ctx context.Context, st *state) StageResult {
	id := st.auth.ID
	plan := fetch.Sanitize(id.PlanType, 100)
	ok, reason := model.PlanEligibility(st.protocol, id.PlanType, id.HasPlan)
	details := []Detail{
		{Key: "plan", ID: "plan", Value: orNone(plan)},
		{Key: "eligible plans", ID: "eligiblePlans", Value: strings.Join(model.EligiblePlans(st.protocol), ", ") + " (" + string(st.protocol) + " protocol)"},
	}
	if !ok {
		st.rep.Outcome = OutcomeNotApplicable
		st.stop = "Codex makes no request for this plan"
		return StageResult{Status: StatusWarn, Details: details,
			Summary: "not eligible: " + reason,
			Hint:    "Codex starts without workspace policies; if your workspace is Business or Enterprise, sign in to it: `codex logout` then `codex login`"}
	}
	return StageResult{Status: StatusOK, Details: details, Summary: "`" + plan + "` is eligible; Codex loads workspace policies"}
}

// ---- cache ----

func stageCache(ctx context.Context, st *state) StageResult {
	id := st.auth.ID
	// Codex's identity: the user id from the id_token, the account id
	// from tokens.account_id (not the id_token claim).
	v := model.CheckCache(st.home, st.protocol, id.UserID, st.auth.AccountID, st.now())
	st.rep.Cache = &v
	var details []Detail
	for _, c := range v.Checks {
		mark := "✓"
		if !c.OK {
			mark = "✗"
		}
		details = append(details, Detail{Key: c.Name, Value: mark + " " + fetch.Sanitize(c.Detail, 200)})
	}
	file := filepath.Join(st.home, model.CacheFileName(st.protocol))
	details = append([]Detail{{Key: "file", ID: "file", Value: file}}, details...)
	if !v.Usable {
		res := StageResult{Status: StatusOK, Details: details,
			Summary: "no usable cache (" + fetch.Sanitize(v.Reason, 200) + "); Codex will fetch"}
		if brokenCache(v) {
			// Codex wrote this file itself; a bad signature or garbage
			// means something else changed it.
			res.Status = StatusWarn
			res.Hint = "the cache file was changed outside Codex; Codex ignores it and fetches (deleting it is safe)"
		}
		return res
	}
	if st.protocol == model.ProtocolBundle {
		// Codex validates a cached bundle and refetches when it is invalid.
		if _, err := parseBundle(v.RequirementsFragments, v.ConfigFragments); err != nil {
			details = append(details, Detail{Key: "contents", Value: "✗ " + fetch.Sanitize(err.Error(), 300)})
			return StageResult{Status: StatusWarn, Details: details,
				Summary: "cached bundle is invalid; Codex ignores it and fetches"}
		}
	}
	st.cached = &fetch.Payload{Contents: v.Contents, RequirementsFragments: v.RequirementsFragments, ConfigFragments: v.ConfigFragments}
	st.fromCache = true
	return StageResult{Status: StatusOK, Details: details,
		Summary: "Codex would use this cache and make no request (expires in " + model.HumanDuration(v.ExpiresAt.Sub(st.now())) + ")"}
}

// brokenCache reports a cache that exists but fails the parse or signature
// checks, as opposed to a missing, expired or other-login one.
func brokenCache(v model.CacheVerdict) bool {
	for _, c := range v.Checks {
		if !c.OK {
			switch c.Name {
			case model.CheckParses, model.CheckSignature, model.CheckVersion:
				return true
			}
			return false
		}
	}
	return false
}

// ---- fetch ----

func stageFetch(ctx context.Context, st *state) StageResult {
	if st.fromCache {
		return liveCheck(ctx, st)
	}
	res := st.fetch(ctx)
	st.rep.Fetch = &res
	details := fetchDetails(st, res)
	if res.Err == nil {
		last := res.Attempts[len(res.Attempts)-1]
		return StageResult{Status: StatusOK, Details: details,
			Summary: fmt.Sprintf("HTTP %d after %d attempt%s in %s", last.Status, len(res.Attempts), plural(len(res.Attempts)), roundMs(res.Elapsed))}
	}
	details = append(details, lastAnswer(res.Attempts)...)
	st.rep.Err = res.Err
	st.rep.Outcome = OutcomeError
	st.stop = "the fetch failed, so there is nothing to parse"
	if ctx.Err() != nil && res.Err.Code != fetch.CodeTimeout {
		st.stop = "interrupted"
	}
	return StageResult{Status: StatusFail, Details: details,
		Summary: fetchFailSummary(res),
		Hint:    fetchHint(res, st)}
}

// fetch makes Codex's request, with its retries and deadline, relaying
// progress to the views.
func (st *state) fetch(ctx context.Context) fetch.Result {
	timeout := st.timeout()
	opts := fetch.Options{
		URL: st.url, Protocol: st.protocol, Identity: identityOf(st.auth, st.uaVersion()), Timeout: timeout,
		Client: st.opts.HTTPClient, Clock: st.opts.Clock, Jitter: st.opts.Jitter,
		Getenv: st.getenv, Proxy: st.opts.Proxy, Verbose: st.opts.Verbose,
		OnEvent: func(e fetch.Event) { st.emit(FetchProgress{Event: e, At: st.now()}) },
		// On a 401 Codex reloads the login from its store and re-sends.
		Reload: func() (fetch.Identity, error) {
			a, err := st.reload()
			if err != nil {
				return fetch.Identity{}, err
			}
			if a == nil {
				return fetch.Identity{}, errors.New("no login after reloading")
			}
			return identityOf(a, st.uaVersion()), nil
		},
	}
	st.emit(FetchStarted{URL: st.url, Deadline: st.now().Add(timeout), Timeout: timeout})
	return fetch.Do(ctx, opts)
}

func (st *state) timeout() time.Duration {
	if st.opts.Timeout > 0 {
		return st.opts.Timeout
	}
	if st.protocol == model.ProtocolRequirements {
		return fetch.RequirementsTimeout
	}
	return fetch.BundleTimeout
}

func fetchDetails(st *state, res fetch.Result) []Detail {
	budget := "Codex's budget for the " + string(st.protocol) + " protocol"
	if st.opts.Timeout > 0 {
		budget = "set by --timeout"
		if st.opts.Demo != "" {
			budget = "shortened for the demo"
		}
	}
	ds := []Detail{
		{Key: "url", ID: "url", Value: st.url},
		{Key: "deadline", ID: "deadline", Value: res.Timeout.String() + " (" + budget + ")"},
	}
	return append(ds, networkDetails(res, st.opts.Demo != "")...)
}

// networkDetails are the facts a support engineer asks for when the path
// breaks: the proxy in play, the CA roots, the TLS peer and the timings of
// the last attempt.
func networkDetails(res fetch.Result, demo bool) []Detail {
	var ds []Detail
	if len(res.Attempts) == 0 {
		return nil
	}
	a := res.Attempts[len(res.Attempts)-1]
	switch {
	case a.ProxyUsed:
		ds = append(ds, Detail{Key: "proxy", ID: "proxy", Value: a.Proxy + " — " + a.ProxyWhy})
	case demo:
		ds = append(ds, Detail{Key: "proxy", ID: "proxy", Value: "none — the demo's backend is on loopback"})
	case a.ProxyWhy != "":
		ds = append(ds, Detail{Key: "proxy", ID: "proxy", Value: "none — " + a.ProxyWhy})
	}
	if res.CASource != "" && strings.HasPrefix(res.URL, "https:") {
		ds = append(ds, Detail{Key: "CA roots", ID: "caRoots", Value: res.CASource})
	}
	if res.CAErr != "" {
		ds = append(ds, Detail{Key: "CA file", ID: "caError", Value: res.CAErr})
	}
	if t := a.Trace; t != nil {
		if t.TLSVersion != "" || t.Cert != nil {
			v := t.TLSVersion
			if c := t.Cert; c != nil {
				v += fmt.Sprintf(" · certificate %s, issued by %s, expires %s", c.Subject, c.Issuer, c.NotAfter.UTC().Format("2006-01-02"))
			}
			ds = append(ds, Detail{Key: "TLS", ID: "tls", Value: strings.TrimPrefix(v, " · ")})
		}
		if timing := traceTimings(t); timing != "" {
			ds = append(ds, Detail{Key: "timings", ID: "timings", Value: timing + " (last attempt)"})
		}
	}
	return ds
}

func traceTimings(t *fetch.Trace) string {
	var parts []string
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"DNS", t.DNS}, {"connect", t.Connect}, {"TLS", t.TLS}, {"first byte", t.TTFB}} {
		if p.d > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f ms", p.name, float64(p.d)/float64(time.Millisecond)))
		}
	}
	if t.RemoteAddr != "" {
		parts = append(parts, "peer "+t.RemoteAddr)
	}
	return strings.Join(parts, " · ")
}

// liveCheck runs when Codex would use the cache: Codex makes no request,
// but reqdoctor asks the server anyway (unless --no-live) to tell whether
// the cache is still what the workspace says, and whether Codex will fail
// once the cache expires.
func liveCheck(ctx context.Context, st *state) StageResult {
	const codexNote = "Codex uses the cached policies and makes no request"
	if st.opts.NoLive {
		return StageResult{Status: StatusSkipped, Summary: codexNote + " (live check off: --no-live)"}
	}
	res := st.fetch(ctx)
	lc := &LiveCheck{Fetch: res}
	st.rep.Live = lc
	details := append(fetchDetails(st, res), Detail{Key: "Codex", ID: "codex", Value: codexNote + "; this request is reqdoctor's own comparison"})
	expires := "when this cache expires in " + model.HumanDuration(st.rep.Cache.ExpiresAt.Sub(st.now()))
	if res.Err != nil {
		lc.Err = res.Err
		details = append(details, lastAnswer(res.Attempts)...)
		st.warn("the live fetch failed (%s: %s): Codex will fail %s", res.Err.Code, res.Err.Message, expires)
		return StageResult{Status: StatusWarn, Details: details,
			Summary: "Codex makes no request (valid cache); live check failed: " + fetchFailSummary(res),
			Hint:    "Codex starts today from the cache, but will fail " + expires + "; " + fetchHint(res, st)}
	}
	live, err := parsePayload(st.protocol, res.Payload)
	if err != nil {
		lc.Err = &fetch.Error{Code: invalidCode(st.protocol), Message: err.Error()}
		st.warn("the live policy is invalid (%s): Codex will fail %s", err.Error(), expires)
		return StageResult{Status: StatusWarn, Details: details,
			Summary: "Codex makes no request (valid cache); the live policy is invalid",
			Hint:    "Codex starts today from the cache, but will fail " + expires + "; send this to your workspace admin"}
	}
	cached, cerr := parsePayload(st.protocol, st.cached)
	if cerr != nil {
		cached = nil
	}
	lc.Diff = diffRequirements(cached, live)
	lc.Same = len(lc.Diff) == 0
	if lc.Same {
		return StageResult{Status: StatusOK, Details: details,
			Summary: "Codex makes no request (valid cache); live check: the server says the same"}
	}
	for i, d := range lc.Diff {
		details = append(details, Detail{Key: "changed", ID: fmt.Sprintf("changed.%d", i+1), Value: d})
	}
	st.warn("the workspace policy changed since Codex cached it; Codex keeps using the cached one until it expires (%s)", model.HumanDuration(st.rep.Cache.ExpiresAt.Sub(st.now())))
	return StageResult{Status: StatusWarn, Details: details,
		Summary: fmt.Sprintf("Codex makes no request (valid cache); live check: %d change%s since it was cached", len(lc.Diff), plural(len(lc.Diff))),
		Hint:    "Codex uses the cached policies until the cache expires " + strings.TrimPrefix(expires, "when this cache expires ") + "; to pick up the new ones now, delete " + st.rep.Cache.Path}
}

func invalidCode(p model.Protocol) fetch.ErrorCode {
	if p == model.ProtocolRequirements {
		return fetch.CodeParse
	}
	return fetch.CodeInvalidBundle
}

// parsePayload turns a response or cache payload into merged, validated
// requirements; nil (no error) when it holds none.
func parsePayload(p model.Protocol, pl *fetch.Payload) (*model.Requirements, error) {
	if pl == nil || pl.LegacyShape {
		return nil, nil
	}
	if p == model.ProtocolRequirements {
		if pl.Contents == nil {
			return nil, nil
		}
		return parseRequirementsContents(*pl.Contents)
	}
	return parseBundle(pl.RequirementsFragments, pl.ConfigFragments)
}

// diffRequirements lists the fields whose value or source differ.
func diffRequirements(a, b *model.Requirements) []string {
	av, bv := a.JSON(), b.JSON()
	var fields []string
	seen := map[string]bool{}
	for _, r := range []*model.Requirements{a, b} {
		if r == nil {
			continue
		}
		for _, f := range r.Order {
			if !seen[f] {
				seen[f] = true
				fields = append(fields, f)
			}
		}
	}
	var diff []string
	for _, f := range fields {
		x, inA := av[f]
		y, inB := bv[f]
		switch {
		case !inA:
			diff = append(diff, f+": not in the cache, now "+compact(y))
		case !inB:
			diff = append(diff, f+": cached "+compact(x)+", now unset")
		case compact(x) != compact(y):
			diff = append(diff, f+": cached "+compact(x)+", now "+compact(y))
		}
	}
	return diff
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return fetch.Sanitize(string(b), 200)
}

// lastAnswer describes the last attempt's answer: what a support engineer
// asks for first (status, content type, the start of the body).
func lastAnswer(attempts []fetch.Attempt) []Detail {
	if len(attempts) == 0 {
		return nil
	}
	a := attempts[len(attempts)-1]
	var ds []Detail
	if a.Err != "" {
		ds = append(ds, Detail{Key: "last error", ID: "lastError", Value: a.Err})
	}
	if a.ContentType != "" {
		ds = append(ds, Detail{Key: "content type", ID: "contentType", Value: a.ContentType})
	}
	if a.Body != "" {
		// The excerpt is already sanitised; one line reads better here.
		ds = append(ds, Detail{Key: "body", ID: "body", Value: strings.Join(strings.Fields(a.Body), " ")})
	}
	return ds
}

// uaVersion is the Codex version the User-Agent names: the codex on PATH,
// else a release of the protocol generation in use (the server sees a
// plausible Codex either way).
func (st *state) uaVersion() string {
	switch {
	case st.codex.Version != "":
		return st.codex.Version
	case st.protocol == model.ProtocolRequirements:
		return "0.136.0"
	}
	return "0.171.0"
}

func identityOf(a *model.Auth, codexVersion string) fetch.Identity {
	return fetch.Identity{AccessToken: a.AccessToken, AccountID: a.AccountID, UserAgent: fetch.UserAgent(codexVersion)}
}

func fetchFailSummary(r fetch.Result) string {
	e := r.Err
	s := string(e.Code) + ": " + e.Message
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (last HTTP status %d)", e.StatusCode)
	}
	return s
}

func fetchHint(r fetch.Result, st *state) string {
	e := r.Err
	switch e.Code {
	case fetch.CodeTimeout:
		return fmt.Sprintf("the server did not answer within %s; check your network, VPN or proxy — Codex fails the same way", r.Timeout)
	case fetch.CodeAuth:
		return "the server rejected your login (401); Codex would try a token refresh and then ask you to run `codex logout` and `codex login`"
	}
	last := fetch.Attempt{}
	if n := len(r.Attempts); n > 0 {
		last = r.Attempts[n-1]
	}
	switch {
	case last.Kind == fetch.KindHTTPStatus, last.Kind == fetch.KindOK, last.Kind == fetch.KindUnauthorized, last.Kind == "":
	case last.Kind == fetch.KindHTML && last.Status >= 500:
		// A server's own error page: the status says more than the HTML.
	default:
		// Where the network path broke says more than the status.
		if last.Hint != "" {
			return last.Hint
		}
	}
	switch {
	case e.StatusCode == 403:
		return "403 Forbidden: the workspace or a proxy refuses this account; check you signed in to the right workspace, or ask your admin"
	case e.StatusCode == 404:
		return "404 Not Found: check chatgpt_base_url in config.toml (" + st.url + ")"
	case e.StatusCode == 429:
		return "429 Too Many Requests: the server is rate limiting; wait a minute and retry"
	case e.StatusCode >= 500:
		return "the server failed (HTTP " + fmt.Sprint(e.StatusCode) + "); this is on the service side — retry later, and check the status page"
	case e.StatusCode >= 400:
		return fmt.Sprintf("the server refused the request (HTTP %d); check chatgpt_base_url and your login", e.StatusCode)
	case last.Class == "bad_json" || last.Class == "wrong_shape":
		return "the server answered, but not with Codex's JSON; a proxy or captive portal may be in the way"
	}
	return "no HTTP answer; check your network connection, VPN and proxy settings"
}

func roundMs(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ---- parse ----

func stageParse(ctx context.Context, st *state) StageResult {
	var payload *fetch.Payload
	switch {
	case st.fromCache:
		payload = st.cached
	case st.rep.Fetch != nil:
		payload = st.rep.Fetch.Payload
	}
	if payload == nil {
		return StageResult{Status: StatusSkipped, Summary: "nothing to parse"}
	}
	from := "the response"
	if st.fromCache {
		from = "the cache"
	}
	var (
		req     *model.Requirements
		err     error
		details []Detail
	)
	if st.protocol == model.ProtocolRequirements {
		if payload.Contents == nil {
			st.rep.Outcome = OutcomeNone
			return StageResult{Status: StatusOK, Summary: "no `contents` in " + from + ": no requirements"}
		}
		details = append(details, Detail{Key: "contents", ID: "contents", Value: fmt.Sprintf("%d bytes", len(*payload.Contents))})
		if st.fromCache {
			// Codex ≤ 0.136 reads cached contents that do not parse as no
			// requirements; only its rule checks fail from the cache.
			if _, perr := model.ParseRequirements(*payload.Contents, model.CloudRequirementsSource); perr != nil {
				st.rep.Outcome = OutcomeNone
				st.warn("the cached contents do not parse (%s); Codex ≤ 0.136 reads them as no requirements until the cache expires", fetch.Sanitize(perr.Error(), 300))
				return StageResult{Status: StatusWarn, Details: details,
					Summary: "cached contents do not parse: Codex reads them as no requirements",
					Hint:    "Codex did not write this cache; deleting " + st.rep.Cache.Path + " makes Codex fetch again"}
			}
		}
		req, err = parseRequirementsContents(*payload.Contents)
	} else {
		if payload.LegacyShape {
			st.rep.Outcome = OutcomeNone
			st.warn("the bundle endpoint answered with the old {\"contents\": …} shape; Codex ≥ 0.137 reads that as no requirements, silently")
			return StageResult{Status: StatusWarn,
				Summary: "old-style {\"contents\"} response to a bundle request: Codex reads no requirements",
				Hint:    "the server speaks the requirements protocol (Codex ≤ 0.136); ask your admin, or check chatgpt_base_url"}
		}
		details = append(details, Detail{Key: "fragments", ID: "fragments",
			Value: fmt.Sprintf("%d requirements, %d config", len(payload.RequirementsFragments), len(payload.ConfigFragments))})
		for i, f := range payload.RequirementsFragments {
			details = append(details, Detail{Key: fmt.Sprintf("fragment %d", i+1), Value: fetch.Sanitize(f.Name+" ("+f.ID+")", 200)})
		}
		req, err = parseBundle(payload.RequirementsFragments, payload.ConfigFragments)
	}
	if err != nil {
		code, msg := fetch.CodeInvalidBundle, "invalid cloud config bundle: "+err.Error()
		if st.protocol == model.ProtocolRequirements {
			code = fetch.CodeParse
			msg = "Cloud requirements (workspace-managed policies) are invalid and could not be parsed. Please contact your workspace admin.\n\nDetails:\n" + err.Error()
		}
		st.setError(code, msg, 0)
		return StageResult{Status: StatusFail, Details: details,
			Summary: string(code) + ": " + fetch.Sanitize(err.Error(), 500),
			Hint:    "the policy is broken on the workspace side; send this to your workspace admin (Codex refuses to start until it is fixed)"}
	}
	for _, w := range req.Warnings {
		st.warn("%s", w)
	}
	if req.Empty() {
		st.rep.Outcome = OutcomeNone
		s := StageResult{Status: StatusOK, Details: details, Summary: "no requirements are set: Codex starts without workspace policies"}
		if len(req.Warnings) > 0 {
			s.Status = StatusWarn
			s.Hint = "only keys Codex ignores are set; check their spelling"
		}
		return s
	}
	details = append(details, shadowDetails(req, payload.RequirementsFragments)...)
	st.rep.CloudRequirements = req
	st.rep.Outcome = OutcomeRequirements
	s := StageResult{Status: StatusOK, Details: details,
		Summary: fmt.Sprintf("%d polic%s from %s", len(req.Order), pluralY(len(req.Order)), from)}
	if len(req.Warnings) > 0 {
		s.Status = StatusWarn
		s.Hint = fmt.Sprintf("%d key%s ignored or not interpreted; see warnings", len(req.Warnings), plural(len(req.Warnings)))
	}
	return s
}

// shadowDetails says which fields later fragments also set: Codex keeps the
// first and drops the rest without a word, a classic admin surprise.
func shadowDetails(req *model.Requirements, frags []model.Fragment) []Detail {
	label := map[string]string{}
	for i, f := range frags {
		label[model.FragmentSource(f)] = fmt.Sprintf("fragment %d", i+1)
	}
	name := func(src string) string {
		if l, ok := label[src]; ok {
			return l
		}
		return src
	}
	var ds []Detail
	for _, field := range req.Order {
		losers := req.Shadowed[field]
		if len(losers) == 0 {
			continue
		}
		names := make([]string, len(losers))
		for i, l := range losers {
			names[i] = name(l)
		}
		ds = append(ds, Detail{Key: field, ID: "overridden." + field,
			Value: fetch.Sanitize(name(req.Sources[field])+" wins; also set by "+strings.Join(names, ", ")+", ignored", 300)})
	}
	return ds
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

func parseRequirementsContents(contents string) (*model.Requirements, error) {
	layer, err := model.ParseRequirements(contents, model.CloudRequirementsSource)
	if err != nil {
		return nil, err
	}
	req := model.Merge(layer)
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return req, nil
}

// parseBundle parses every fragment, merges the requirements first-wins and
// validates the merge, as Codex does. Errors name the fragment.
func parseBundle(reqFrags, cfgFrags []model.Fragment) (*model.Requirements, error) {
	for _, f := range cfgFrags {
		if err := model.CheckConfigFragment(f); err != nil {
			return nil, err
		}
	}
	layers := make([]*model.Layer, 0, len(reqFrags))
	for _, f := range reqFrags {
		l, err := model.ParseRequirements(f.Contents, model.FragmentSource(f))
		if err != nil {
			return nil, fmt.Errorf("invalid requirements in %w", err)
		}
		layers = append(layers, l)
	}
	req := model.Merge(layers...)
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("invalid requirements in %w", err)
	}
	return req, nil
}
