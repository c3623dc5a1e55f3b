package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/reqdoctor/reqdoctor/model"
)

// Paths the fake backend serves, for both protocol generations and both
// path styles of codex-behavior.md §1.
const (
	PathWhamRequirements  = "/backend-api/wham/config/requirements"
	PathWhamBundle        = "/backend-api/wham/config/bundle"
	PathCodexRequirements = "/api/codex/config/requirements"
	PathCodexBundle       = "/api/codex/config/bundle"
)

// Reply is how the fake backend answers one request.
type Reply struct {
	Status      int    // 0 → 200
	Body        string // sent as is
	ContentType string // "" → application/json
	// Delay holds the answer back; it ends early when the client goes away
	// or the backend closes.
	Delay time.Duration
	// Hang never answers until the client goes away or the backend closes.
	Hang bool
}

// RecordedRequest is one request the fake backend received.
type RecordedRequest struct {
	Method string
	Path   string
	Header http.Header // a copy
	At     time.Time
}

// FakeBackend is a real HTTP server on 127.0.0.1 speaking Codex's cloud
// requirements protocols. It serves the four config paths; any other path
// gets 404. Every request is recorded, including those to other paths.
type FakeBackend struct {
	// URL is the base a config.toml would carry as chatgpt_base_url,
	// e.g. http://127.0.0.1:PORT/backend-api/.
	URL string
	// Root is the server root without a path, e.g. http://127.0.0.1:PORT;
	// Root + "/api/codex/config/bundle" is the other path style.
	Root string

	replies func(n int, r *http.Request) Reply
	srv     *http.Server
	done    chan struct{} // closed by Close; releases hanging handlers
	serving chan struct{} // closed when Serve returns
	active  sync.WaitGroup

	mu       sync.Mutex
	requests []RecordedRequest
	closed   bool
}

// StartFakeBackend starts a fake backend on a free loopback port. replies
// decides each answer; n is the 1-based position of the request among all
// requests received (so n == len(Requests()) inside replies). A nil replies
// answers 200 with an empty bundle.
func StartFakeBackend(replies func(n int, r *http.Request) Reply) (*FakeBackend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake backend: listen on 127.0.0.1: %w", err)
	}
	if replies == nil {
		replies = func(int, *http.Request) Reply { return Reply{Body: BundleBody(nil, nil)} }
	}
	root := "http://" + ln.Addr().String()
	b := &FakeBackend{
		URL:     root + "/backend-api/",
		Root:    root,
		replies: replies,
		done:    make(chan struct{}),
		serving: make(chan struct{}),
	}
	b.srv = &http.Server{
		Handler:           http.HandlerFunc(b.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		defer close(b.serving)
		_ = b.srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return b, nil
}

// IsConfigPath reports whether path is one of the four config paths.
func IsConfigPath(path string) bool {
	switch path {
	case PathWhamRequirements, PathWhamBundle, PathCodexRequirements, PathCodexBundle:
		return true
	}
	return false
}

// IsBundlePath reports whether path asks for the bundle generation.
func IsBundlePath(path string) bool {
	return path == PathWhamBundle || path == PathCodexBundle
}

func (b *FakeBackend) serveHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		http.Error(w, "fake backend closed", http.StatusServiceUnavailable)
		return
	}
	b.active.Add(1)
	b.requests = append(b.requests, RecordedRequest{
		Method: r.Method,
		Path:   r.URL.Path,
		Header: r.Header.Clone(),
		At:     time.Now(),
	})
	n := len(b.requests)
	b.mu.Unlock()
	defer b.active.Done()

	if r.Method != http.MethodGet || !IsConfigPath(r.URL.Path) {
		writeReply(w, Reply{Status: http.StatusNotFound, Body: `{"detail":"Not Found"}`})
		return
	}
	rep := b.replies(n, r)
	if rep.Hang {
		b.wait(r.Context(), nil)
		return
	}
	if rep.Delay > 0 {
		t := time.NewTimer(rep.Delay)
		defer t.Stop()
		if !b.wait(r.Context(), t.C) {
			return
		}
	}
	writeReply(w, rep)
}

// wait blocks until elapsed fires (true), or the client goes away or the
// backend closes (false). A nil elapsed waits only for the latter.
func (b *FakeBackend) wait(ctx context.Context, elapsed <-chan time.Time) bool {
	select {
	case <-elapsed:
		return true
	case <-ctx.Done():
	case <-b.done:
	}
	return false
}

func writeReply(w http.ResponseWriter, rep Reply) {
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	ct := rep.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(rep.Body))
}

// Requests returns a copy of the requests received so far, in order.
func (b *FakeBackend) Requests() []RecordedRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]RecordedRequest, len(b.requests))
	for i, r := range b.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Close stops the server. Hanging or delayed handlers are released at
// once, so Close never waits on them for long. Close is idempotent.
func (b *FakeBackend) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.done)
	b.mu.Unlock()
	// Close, not Shutdown: Shutdown would wait for idle keep-alive clients.
	_ = b.srv.Close()
	<-b.serving
	b.active.Wait()
}

// demoUpdatedAt is the fixed updated_at of RequirementsBody, so bodies are
// reproducible.
const demoUpdatedAt = "2025-11-03T09:41:00Z"

// RequirementsBody is a requirements-generation response body:
// {"contents": …, "sha256", "updated_at", "updated_by_user_id"}. A nil
// contents gives {"contents": null}, Codex's "no requirements".
func RequirementsBody(contents *string) string {
	type body struct {
		Contents        *string `json:"contents"`
		SHA256          string  `json:"sha256,omitempty"`
		UpdatedAt       string  `json:"updated_at,omitempty"`
		UpdatedByUserID string  `json:"updated_by_user_id,omitempty"`
	}
	v := body{Contents: contents}
	if contents != nil {
		sum := sha256.Sum256([]byte(*contents))
		v.SHA256 = hex.EncodeToString(sum[:])
		v.UpdatedAt = demoUpdatedAt
		v.UpdatedByUserID = "user-admin-0001"
	}
	return encodeJSON(v)
}

// bundleJSON is the bundle generation's response, also the "bundle" of its
// cache, with Codex's field order.
type bundleJSON struct {
	ConfigTOML       fragmentList `json:"config_toml"`
	RequirementsTOML fragmentList `json:"requirements_toml"`
}

type fragmentList struct {
	EnterpriseManaged []model.Fragment `json:"enterprise_managed"`
}

func newBundleJSON(reqFrags, cfgFrags []model.Fragment) bundleJSON {
	// Empty lists, never null: Codex sends and caches [] for "none".
	if reqFrags == nil {
		reqFrags = []model.Fragment{}
	}
	if cfgFrags == nil {
		cfgFrags = []model.Fragment{}
	}
	return bundleJSON{
		ConfigTOML:       fragmentList{EnterpriseManaged: cfgFrags},
		RequirementsTOML: fragmentList{EnterpriseManaged: reqFrags},
	}
}

// BundleBody is a bundle-generation response body:
// {"config_toml": {"enterprise_managed": cfgFrags}, "requirements_toml":
// {"enterprise_managed": reqFrags}}. Nil lists are sent as [].
func BundleBody(reqFrags, cfgFrags []model.Fragment) string {
	return encodeJSON(newBundleJSON(reqFrags, cfgFrags))
}

// encodeJSON renders v compactly without HTML escaping, as Codex's
// serde_json does.
func encodeJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // cannot fail: only strings, slices and structs of them
	return strings.TrimSuffix(buf.String(), "\n")
}
