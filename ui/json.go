package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// SchemaVersion is the version of the JSON contract in design.md.
const SchemaVersion = 1

// jsonReport is the --json document. Key names are a contract: add keys,
// never rename or remove one.
type jsonReport struct {
	SchemaVersion int               `json:"schemaVersion"`
	Tool          jsonTool          `json:"tool"`
	Protocol      string            `json:"protocol"`
	Outcome       string            `json:"outcome"`
	ExitCode      int               `json:"exitCode"`
	Stages        []jsonStage       `json:"stages"`
	Fetch         *jsonFetch        `json:"fetch"`
	Requirements  map[string]any    `json:"requirements"`
	Sources       map[string]string `json:"sources"`
	Warnings      []string          `json:"warnings"`
	Error         *jsonError        `json:"error"`
	// Added after the first contract: null when the stage did not run.
	Cache     *jsonCache     `json:"cache"`
	LiveCheck *jsonLiveCheck `json:"liveCheck"`
	// Layers are the requirement sources in Codex's merge order: the
	// cloud's, then this machine's; "requirements" and "sources" are
	// their merge.
	Layers     []jsonLayer     `json:"layers"`
	UserConfig *jsonUserConfig `json:"userConfig"`
	// Sections are the stages beyond the cloud load (local sources, the
	// user's config), in the stage shape.
	Sections []jsonStage `json:"sections"`
}

type jsonLayer struct {
	Origin string   `json:"origin"` // "cloud" or "local"
	Name   string   `json:"name"`
	Source string   `json:"source"` // as "sources" names it; "" when it sets nothing
	Path   string   `json:"path,omitempty"`
	Status string   `json:"status"` // found, not found, invalid, not applicable
	Detail string   `json:"detail,omitempty"`
	Fields []string `json:"fields"`
}

type jsonUserConfig struct {
	Path        string            `json:"path"`
	Found       bool              `json:"found"`
	Profile     string            `json:"profile"`
	Error       *string           `json:"error"`
	Checks      []jsonPolicyCheck `json:"checks"`
	IgnoredKeys []jsonIgnoredKey  `json:"ignoredKeys"`
}

type jsonPolicyCheck struct {
	Policy    string   `json:"policy"`
	ConfigKey string   `json:"configKey"`
	UserValue *string  `json:"userValue"` // null when unset
	From      string   `json:"from,omitempty"`
	Allowed   []string `json:"allowed"`
	SetBy     string   `json:"setBy"`
	Accepted  bool     `json:"accepted"`
	CodexUses string   `json:"codexUses"`
	Message   string   `json:"message"`
}

type jsonIgnoredKey struct {
	Key        string `json:"key"`
	Suggestion string `json:"suggestion,omitempty"`
	Line       int    `json:"line,omitempty"`
	Note       string `json:"note,omitempty"`
}

type jsonCache struct {
	Path      string            `json:"path"`
	Usable    bool              `json:"usable"`
	Reason    string            `json:"reason"`
	Checks    []jsonCacheCheck  `json:"checks"`
	CachedAt  *string           `json:"cachedAt"`
	ExpiresAt *string           `json:"expiresAt"`
	Identity  map[string]string `json:"identity,omitempty"`
}

type jsonCacheCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// jsonLiveCheck is reqdoctor's comparison fetch when Codex would use the
// cache; Codex itself makes no request, so this is not "fetch".
type jsonLiveCheck struct {
	Fetch *jsonFetch `json:"fetch"`
	Same  bool       `json:"same"`
	Diff  []string   `json:"diff"`
	Error *jsonError `json:"error"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonStage struct {
	ID         string            `json:"id"`
	Status     string            `json:"status"`
	Summary    string            `json:"summary"`
	Hint       string            `json:"hint"`
	Details    map[string]string `json:"details"`
	DurationMs int64             `json:"durationMs"`
}

type jsonFetch struct {
	URL       string        `json:"url"`
	TimeoutMs int64         `json:"timeoutMs"`
	ElapsedMs int64         `json:"elapsedMs"`
	Attempts  []jsonAttempt `json:"attempts"`
}

type jsonAttempt struct {
	N           int     `json:"n"`
	Status      int     `json:"status"`
	DurationMs  int64   `json:"durationMs"`
	Error       *string `json:"error"`
	StartMs     int64   `json:"startMs"`
	Class       string  `json:"class"`
	ContentType string  `json:"contentType,omitempty"`
	Body        string  `json:"body,omitempty"`
	BackoffMs   int64   `json:"backoffMs"`
	Resend      bool    `json:"resend,omitempty"`
}

type jsonError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	StatusCode int    `json:"statusCode"`
}

// WriteJSON writes the report as the JSON document of design.md.
func WriteJSON(w io.Writer, rep *doctor.Report, version string) error {
	doc := jsonReport{
		SchemaVersion: SchemaVersion,
		Tool:          jsonTool{Name: "reqdoctor", Version: version},
		Protocol:      string(rep.Protocol),
		Outcome:       string(rep.Outcome),
		ExitCode:      rep.ExitCode,
		Stages:        []jsonStage{},
		Sources:       map[string]string{},
		Warnings:      append([]string{}, rep.Warnings...),
	}
	for _, s := range rep.Stages {
		js := stageJSON(s)
		if slices.Contains(doctor.StageOrder, s.ID) {
			doc.Stages = append(doc.Stages, js)
		} else {
			doc.Sections = append(doc.Sections, js)
		}
	}
	doc.Layers = layersJSON(rep)
	if uc := rep.UserConfig; uc != nil {
		ju := &jsonUserConfig{Path: uc.Path, Found: uc.Found, Profile: uc.Profile,
			Checks: []jsonPolicyCheck{}, IgnoredKeys: []jsonIgnoredKey{}}
		for _, c := range rep.PolicyChecks {
			jc := jsonPolicyCheck{Policy: c.Policy, ConfigKey: c.ConfigKey, From: c.From, Allowed: append([]string{}, c.Allowed...),
				SetBy: c.SetBy, Accepted: c.Accepted, CodexUses: c.CodexUses, Message: c.Message}
			if c.UserValue != "" {
				v := c.UserValue
				jc.UserValue = &v
			}
			ju.Checks = append(ju.Checks, jc)
		}
		for _, k := range uc.IgnoredKeys {
			ju.IgnoredKeys = append(ju.IgnoredKeys, jsonIgnoredKey{Key: k.Key, Suggestion: k.Suggestion, Line: k.Line, Note: k.Note})
		}
		if uc.Err != nil {
			e := uc.Err.Error()
			ju.Error = &e
		}
		doc.UserConfig = ju
	}
	doc.Fetch = fetchJSON(rep.Fetch)
	if r := rep.Requirements; r != nil {
		doc.Requirements = r.JSON()
		for k, v := range r.Sources {
			doc.Sources[k] = v
		}
	}
	doc.Error = errorJSON(rep.Err)
	if c := rep.Cache; c != nil {
		jc := &jsonCache{Path: c.Path, Usable: c.Usable, Reason: c.Reason, Checks: []jsonCacheCheck{}}
		for _, ch := range c.Checks {
			jc.Checks = append(jc.Checks, jsonCacheCheck{Name: ch.Name, OK: ch.OK, Detail: ch.Detail})
		}
		jc.CachedAt, jc.ExpiresAt = timeJSON(c.CachedAt), timeJSON(c.ExpiresAt)
		if c.CachedUserID != "" || c.CachedAccountID != "" {
			jc.Identity = map[string]string{"chatgptUserId": c.CachedUserID, "accountId": c.CachedAccountID}
		}
		doc.Cache = jc
	}
	if l := rep.Live; l != nil {
		doc.LiveCheck = &jsonLiveCheck{Fetch: fetchJSON(&l.Fetch), Same: l.Same, Diff: append([]string{}, l.Diff...), Error: errorJSON(l.Err)}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := w.Write(escapeInvisible(buf.Bytes()))
	return err
}

// escapeInvisible writes, as \uXXXX escapes, the characters encoding/json
// leaves raw but a terminal would act on: C1 controls (U+009B is CSI) and
// bidi or invisible formatting characters. They only occur inside JSON
// strings, so the document means the same.
func escapeInvisible(b []byte) []byte {
	if !bytes.ContainsFunc(b, invisible) {
		return b
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		if invisible(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return out.Bytes()
}

func invisible(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) ||
		(r >= 0x2060 && r <= 0x2069) || r == 0xfeff
}

func fetchJSON(f *fetch.Result) *jsonFetch {
	if f == nil {
		return nil
	}
	jf := &jsonFetch{URL: f.URL, TimeoutMs: f.Timeout.Milliseconds(), ElapsedMs: f.Elapsed.Milliseconds(), Attempts: []jsonAttempt{}}
	for _, a := range f.Attempts {
		ja := jsonAttempt{N: a.N, Status: a.Status, DurationMs: a.Duration.Milliseconds(), StartMs: a.Start.Milliseconds(),
			Class: a.Class, ContentType: a.ContentType, Body: a.Body, BackoffMs: a.Backoff.Milliseconds(), Resend: a.Resend}
		if a.Err != "" {
			e := a.Err
			ja.Error = &e
		}
		jf.Attempts = append(jf.Attempts, ja)
	}
	return jf
}

func errorJSON(e *fetch.Error) *jsonError {
	if e == nil {
		return nil
	}
	return &jsonError{Code: string(e.Code), Message: e.Message, StatusCode: e.StatusCode}
}

func timeJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func stageJSON(s doctor.StageResult) jsonStage {
	js := jsonStage{ID: string(s.ID), Status: string(s.Status), Summary: s.Summary, Hint: s.Hint,
		Details: map[string]string{}, DurationMs: s.Duration.Milliseconds()}
	for _, d := range s.Details {
		key := d.ID
		if key == "" {
			key = camelKey(d.Key)
		}
		if prev, dup := js.Details[key]; dup {
			js.Details[key] = prev + "; " + d.Value
			continue
		}
		js.Details[key] = d.Value
	}
	return js
}

// layersJSON lists the layers in merge order: the cloud's as the cloud
// load delivered them, then every local source with its status.
func layersJSON(rep *doctor.Report) []jsonLayer {
	out := []jsonLayer{}
	if cr := rep.CloudRequirements; cr != nil {
		for _, l := range cr.Layers {
			out = append(out, jsonLayer{Origin: "cloud", Name: l.Source, Source: l.Source, Status: model.LocalFound,
				Fields: append([]string{}, l.Order...)})
		}
	}
	for _, src := range rep.Local {
		jl := jsonLayer{Origin: "local", Name: src.Name, Path: src.Path, Status: src.Status, Detail: src.Detail, Fields: []string{}}
		if src.Layer != nil {
			jl.Source = src.Layer.Source
			jl.Fields = append(jl.Fields, src.Layer.Order...)
		}
		out = append(out, jl)
	}
	return out
}

// camelKey turns a detail's label ("file readable", "fragment 1") into a
// JSON key in the report's style ("fileReadable", "fragment1").
func camelKey(label string) string {
	var b strings.Builder
	upper := false
	for _, r := range label {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if upper && b.Len() > 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			upper = false
		default:
			upper = true
		}
	}
	if b.Len() == 0 {
		return label
	}
	return b.String()
}
