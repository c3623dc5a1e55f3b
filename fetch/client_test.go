package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reqdoctor/reqdoctor/model"
)

const (
	testToken  = "eyJ-test-access-token-SECRET-1"
	testToken2 = "eyJ-test-access-token-SECRET-2"
	testUA     = "codex_cli_rs/0.171.0 (Debian 12.0.0; x86_64) xterm-256color"
)

// fakeClock advances only when slept on; Sleep returns at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// seen is what a test server received.
type seen struct {
	Method, Path string
	Header       http.Header
}

// server runs handle(n, w, r) for the n-th request (1-based) on a real
// loopback server and records every request.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newServer(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.Header.Clone()})
		n := len(s.reqs)
		s.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func jsonReply(status int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// hang answers nothing until the client goes away.
func hang(_ int, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func testOptions(url string, p model.Protocol) (Options, *fakeClock) {
	c := newFakeClock()
	return Options{
		URL:      url,
		Protocol: p,
		Identity: Identity{AccessToken: testToken, AccountID: "acct-123", UserAgent: testUA},
		Clock:    c,
		Jitter:   func() float64 { return 1 },
	}, c
}

// setHeaderWait shortens (or lengthens) the bundle first-request wait.
func setHeaderWait(t *testing.T, d time.Duration) {
	old := firstHeadersWait
	firstHeadersWait = d
	t.Cleanup(func() { firstHeadersWait = old })
}

func classes(as []Attempt) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Class)
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func ms(v ...float64) []time.Duration {
	var out []time.Duration
	for _, x := range v {
		out = append(out, time.Duration(x*float64(time.Millisecond)))
	}
	return out
}

// checkNoToken asserts no display text of the result holds a token.
func checkNoToken(t *testing.T, r Result, tokens ...string) {
	t.Helper()
	texts := []string{r.URL}
	if r.Err != nil {
		texts = append(texts, r.Err.Message, r.Err.Error())
	}
	for _, a := range r.Attempts {
		texts = append(texts, a.Err, a.Body, a.Location, a.ContentType, a.Note)
	}
	for _, tok := range tokens {
		for _, s := range texts {
			if strings.Contains(s, tok) || strings.Contains(s, tok[len(tok)-10:]) {
				t.Fatalf("token shown in %q", s)
			}
		}
	}
}

func TestDoSuccess(t *testing.T) {
	tests := []struct {
		name    string
		proto   model.Protocol
		prefix  string // base URL path
		account string
		fixture string
		path    string
	}{
		{"bundle wham", model.ProtocolBundle, "/backend-api/", "acct-123", "bundle_full.json", "/backend-api/wham/config/bundle"},
		{"bundle api/codex no account", model.ProtocolBundle, "", "", "bundle_empty.json", "/api/codex/config/bundle"},
		{"requirements wham", model.ProtocolRequirements, "/backend-api", "acct-123", "requirements_ok.json", "/backend-api/wham/config/requirements"},
		{"requirements api/codex no account", model.ProtocolRequirements, "/", "", "requirements_null.json", "/api/codex/config/requirements"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := readFixture(t, "decode", tc.fixture)
			srv := newServer(t, jsonReply(200, string(body)))
			o, clock := testOptions(EndpointURL(srv.URL+tc.prefix, tc.proto), tc.proto)
			o.Identity.AccountID = tc.account
			res := Do(context.Background(), o)

			if res.Err != nil {
				t.Fatalf("Err = %v; attempts %+v", res.Err, res.Attempts)
			}
			want, _ := Decode(tc.proto, body)
			if !reflect.DeepEqual(res.Payload, want) {
				t.Fatalf("Payload = %+v, want %+v", res.Payload, want)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != tc.path {
				t.Errorf("request %s %s, want GET %s", r.Method, r.Path, tc.path)
			}
			wantHeaders := map[string][]string{
				"Authorization": {"Bearer " + testToken},
				"User-Agent":    {testUA},
				"Accept":        {"application/json"},
				"Originator":    {"codex_cli_rs"},
			}
			if tc.account != "" {
				wantHeaders["Chatgpt-Account-Id"] = []string{tc.account}
			}
			for k, v := range wantHeaders {
				if got := r.Header.Values(k); !reflect.DeepEqual(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.account == "" && len(r.Header.Values("ChatGPT-Account-Id")) != 0 {
				t.Errorf("ChatGPT-Account-Id sent: %q", r.Header.Values("ChatGPT-Account-Id"))
			}
			if len(res.Attempts) != 1 {
				t.Fatalf("attempts = %+v", res.Attempts)
			}
			a := res.Attempts[0]
			if a.N != 1 || a.Try != 1 || a.Class != "ok" || a.Status != 200 || a.Err != "" || a.Body != "" ||
				a.ContentType != "application/json" || a.Backoff != 0 {
				t.Errorf("attempt = %+v", a)
			}
			if len(clock.Sleeps()) != 0 {
				t.Errorf("slept %v", clock.Sleeps())
			}
			if res.URL != o.URL || res.Timeout != BundleTimeout && tc.proto == model.ProtocolBundle {
				t.Errorf("URL %q timeout %v", res.URL, res.Timeout)
			}
		})
	}
}

func TestDoDefaultsTimeoutPerProtocol(t *testing.T) {
	srv := newServer(t, jsonReply(200, `{}`))
	for p, want := range map[model.Protocol]time.Duration{model.ProtocolBundle: 20 * time.Second, model.ProtocolRequirements: 15 * time.Second} {
		o, _ := testOptions(EndpointURL(srv.URL, p), p)
		if got := Do(context.Background(), o).Timeout; got != want {
			t.Errorf("%s: Timeout = %v, want %v", p, got, want)
		}
	}
}

func TestDoRetriedStatuses(t *testing.T) {
	tests := []struct {
		status int
		proto  model.Protocol
	}{
		{400, model.ProtocolRequirements}, {403, model.ProtocolRequirements}, {404, model.ProtocolRequirements},
		{429, model.ProtocolRequirements}, {500, model.ProtocolRequirements}, {502, model.ProtocolRequirements},
		{503, model.ProtocolRequirements}, {500, model.ProtocolBundle}, {404, model.ProtocolBundle},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d", tc.proto, tc.status), func(t *testing.T) {
			srv := newServer(t, jsonReply(tc.status, `{"error":"nope"}`))
			o, clock := testOptions(EndpointURL(srv.URL, tc.proto), tc.proto)
			res := Do(context.Background(), o)

			if n := len(srv.requests()); n != 5 {
				t.Fatalf("%d requests, want 5", n)
			}
			wantMsg := "Failed to load cloud config bundle (workspace-managed policies)."
			if tc.proto == model.ProtocolRequirements {
				wantMsg = "Failed to load cloud requirements (workspace-managed policies)."
			}
			want := &Error{Code: CodeRequestFailed, Message: wantMsg, StatusCode: tc.status}
			if !reflect.DeepEqual(res.Err, want) || res.Payload != nil {
				t.Fatalf("Err = %+v, Payload %+v; want %+v", res.Err, res.Payload, want)
			}
			if got := classes(res.Attempts); !reflect.DeepEqual(got, repeat("http_status", 5)) {
				t.Fatalf("classes = %v", got)
			}
			wantErr := fmt.Sprintf("HTTP %d %s", tc.status, http.StatusText(tc.status))
			for i, a := range res.Attempts {
				if a.N != i+1 || a.Try != i+1 || a.Status != tc.status || a.Err != wantErr || a.Body != `{"error":"nope"}` {
					t.Errorf("attempt %d = %+v", i+1, a)
				}
			}
			if got, want := clock.Sleeps(), ms(200, 400, 800, 1600); !reflect.DeepEqual(got, want) {
				t.Errorf("sleeps = %v, want %v", got, want)
			}
		})
	}
}

func TestDoBackoffScheduleAndEvents(t *testing.T) {
	srv := newServer(t, jsonReply(500, `oops`))
	o, clock := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	o.Jitter = func() float64 { return 1.05 }
	var events []Event
	o.OnEvent = func(e Event) { events = append(events, e) }
	res := Do(context.Background(), o)

	wantSleeps := ms(210, 420, 840, 1680)
	if got := clock.Sleeps(); !reflect.DeepEqual(got, wantSleeps) {
		t.Fatalf("sleeps = %v, want %v", got, wantSleeps)
	}
	wantStarts := ms(0, 210, 630, 1470, 3150)
	for i, a := range res.Attempts {
		wantBackoff := time.Duration(0)
		if i < 4 {
			wantBackoff = wantSleeps[i]
		}
		if a.Start != wantStarts[i] || a.Backoff != wantBackoff {
			t.Errorf("attempt %d: start %v backoff %v, want %v %v", i+1, a.Start, a.Backoff, wantStarts[i], wantBackoff)
		}
	}
	if res.Elapsed != 3150*time.Millisecond {
		t.Errorf("Elapsed = %v", res.Elapsed)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, [...]string{"start", "finish", "backoff"}[e.Kind])
		if e.Kind == BackoffStarted && e.Wait != e.Attempt.Backoff {
			t.Errorf("backoff event wait %v, attempt backoff %v", e.Wait, e.Attempt.Backoff)
		}
	}
	want := strings.Repeat("start finish backoff ", 4) + "start finish"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("events = %s\nwant     %s", got, want)
	}
	if events[0].Attempt.N != 1 || events[len(events)-1].Attempt.N != 5 || events[len(events)-1].Attempt.Status != 500 {
		t.Errorf("events carry the wrong attempts: %+v", events)
	}
}

func TestDoMaxAttemptsOption(t *testing.T) {
	srv := newServer(t, jsonReply(502, ``))
	o, clock := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	o.MaxAttempts = 2
	res := Do(context.Background(), o)
	if len(srv.requests()) != 2 || len(clock.Sleeps()) != 1 || res.Err == nil || res.Err.StatusCode != 502 {
		t.Fatalf("requests %d sleeps %v err %+v", len(srv.requests()), clock.Sleeps(), res.Err)
	}
}

func TestDo5xxThenSuccess(t *testing.T) {
	body := readFixture(t, "decode", "bundle_full.json")
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			w.WriteHeader(500)
		case 2:
			w.WriteHeader(502)
		default:
			w.Write(body)
		}
	})
	o, clock := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	res := Do(context.Background(), o)
	if res.Err != nil || res.Payload == nil || len(res.Payload.RequirementsFragments) != 2 {
		t.Fatalf("Err %v Payload %+v", res.Err, res.Payload)
	}
	if got := classes(res.Attempts); !reflect.DeepEqual(got, []string{"http_status", "http_status", "ok"}) {
		t.Fatalf("classes = %v", got)
	}
	if got := clock.Sleeps(); !reflect.DeepEqual(got, ms(200, 400)) {
		t.Fatalf("sleeps = %v", got)
	}
}

func TestDoUnauthorized(t *testing.T) {
	ok := string(readFixture(t, "decode", "requirements_ok.json"))
	tests := []struct {
		name      string
		handle    func(n int, w http.ResponseWriter, r *http.Request)
		reload    func() (Identity, error)
		requests  int
		tokens    []string // Authorization token per request
		classes   []string
		wantErr   *Error
		errSuffix string
	}{
		{
			name:     "401 reload 401",
			handle:   jsonReply(401, `{"detail":"token expired"}`),
			reload:   func() (Identity, error) { return Identity{AccessToken: testToken2, AccountID: "acct-123"}, nil },
			requests: 2, tokens: []string{testToken, testToken2},
			classes: []string{"unauthorized", "unauthorized"},
			wantErr: &Error{Code: CodeAuth, StatusCode: 401, Message: "Your authentication session could not be refreshed automatically. Please log out and sign in again."},
		},
		{
			name: "401 then 200 after reload",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer "+testToken2 {
					w.WriteHeader(401)
					return
				}
				fmt.Fprint(w, ok)
			},
			reload:   func() (Identity, error) { return Identity{AccessToken: testToken2, AccountID: "acct-123"}, nil },
			requests: 2, tokens: []string{testToken, testToken2},
			classes: []string{"unauthorized", "ok"},
		},
		{
			name: "no reload", handle: jsonReply(401, ``), requests: 1, tokens: []string{testToken},
			classes: []string{"unauthorized"},
			wantErr: &Error{Code: CodeAuth, StatusCode: 401, Message: "Your authentication session could not be refreshed automatically. Please log out and sign in again."},
		},
		{
			name: "reload fails", handle: jsonReply(401, ``), requests: 1, tokens: []string{testToken},
			reload: func() (Identity, error) {
				return Identity{}, errors.New("open /home/u/.codex/auth.json: permission denied")
			},
			classes:   []string{"unauthorized"},
			wantErr:   &Error{Code: CodeAuth, StatusCode: 401, Message: "Your authentication session could not be refreshed automatically. Please log out and sign in again."},
			errSuffix: "; reloading auth.json failed: open /home/u/.codex/auth.json: permission denied",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.handle)
			o, clock := testOptions(EndpointURL(srv.URL, model.ProtocolRequirements), model.ProtocolRequirements)
			reloads := 0
			if tc.reload != nil {
				o.Reload = func() (Identity, error) { reloads++; return tc.reload() }
			}
			res := Do(context.Background(), o)

			reqs := srv.requests()
			if len(reqs) != tc.requests {
				t.Fatalf("%d requests, want %d", len(reqs), tc.requests)
			}
			for i, r := range reqs {
				if got := r.Header.Get("Authorization"); got != "Bearer "+tc.tokens[i] {
					t.Errorf("request %d Authorization = %q", i+1, got)
				}
				if got := r.Header.Get("User-Agent"); got != testUA {
					t.Errorf("request %d User-Agent = %q", i+1, got)
				}
			}
			if tc.reload != nil && reloads != 1 {
				t.Errorf("Reload called %d times, want 1", reloads)
			}
			if !reflect.DeepEqual(res.Err, tc.wantErr) {
				t.Fatalf("Err = %+v, want %+v", res.Err, tc.wantErr)
			}
			if tc.wantErr == nil && res.Payload == nil {
				t.Fatal("no payload")
			}
			if got := classes(res.Attempts); !reflect.DeepEqual(got, tc.classes) {
				t.Fatalf("classes = %v, want %v", got, tc.classes)
			}
			for i, a := range res.Attempts {
				if a.Try != 1 || a.N != i+1 || a.Retry401 != (i == 1) {
					t.Errorf("attempt %+v", a)
				}
				if i == 1 && !strings.HasPrefix(a.Note, "re-sent after reloading auth.json") {
					t.Errorf("note = %q", a.Note)
				}
			}
			last := res.Attempts[len(res.Attempts)-1]
			if tc.wantErr != nil && (last.Status != 401 || last.Err != "HTTP 401 Unauthorized"+tc.errSuffix || !strings.Contains(last.Note, "token refresh")) {
				t.Errorf("last attempt = %+v", last)
			}
			if len(clock.Sleeps()) != 0 {
				t.Errorf("slept %v after a 401", clock.Sleeps())
			}
			checkNoToken(t, res, testToken, testToken2)
		})
	}
}

func TestDoTimeoutHang(t *testing.T) {
	srv := newServer(t, hang)
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolRequirements), model.ProtocolRequirements)
	o.Clock = nil // real time: Elapsed must reflect the deadline
	o.Timeout = 300 * time.Millisecond
	start := time.Now()
	res := Do(context.Background(), o)
	elapsed := time.Since(start)

	if elapsed < o.Timeout || elapsed > o.Timeout+3*time.Second {
		t.Fatalf("Do returned after %v, timeout %v", elapsed, o.Timeout)
	}
	want := &Error{Code: CodeTimeout, Message: "timed out waiting for cloud requirements after 0s"}
	if !reflect.DeepEqual(res.Err, want) {
		t.Fatalf("Err = %+v, want %+v", res.Err, want)
	}
	if len(res.Attempts) != 1 || res.Attempts[0].Class != "timeout" || res.Attempts[0].Status != 0 ||
		!strings.Contains(res.Attempts[0].Err, "no response before the overall deadline (300ms)") {
		t.Fatalf("attempts = %+v", res.Attempts)
	}
	if res.Elapsed < o.Timeout {
		t.Errorf("Elapsed = %v", res.Elapsed)
	}
}

func TestDoTimeoutWholeSeconds(t *testing.T) {
	setHeaderWait(t, time.Minute)
	srv := newServer(t, hang)
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	o.Timeout = 1100 * time.Millisecond
	res := Do(context.Background(), o)
	if res.Err == nil || res.Err.Message != "timed out waiting for cloud config bundle after 1s" {
		t.Fatalf("Err = %+v", res.Err)
	}
}

func TestDoTimeoutDuringBackoff(t *testing.T) {
	srv := newServer(t, jsonReply(500, ``))
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolRequirements), model.ProtocolRequirements)
	o.Clock = nil
	o.Timeout = 300 * time.Millisecond
	o.Jitter = func() float64 { return 1 } // sleeps 200 then 400 ms: the second outlasts the deadline
	start := time.Now()
	res := Do(context.Background(), o)
	if elapsed := time.Since(start); elapsed > o.Timeout+3*time.Second {
		t.Fatalf("Do returned after %v", elapsed)
	}
	if res.Err == nil || res.Err.Code != CodeTimeout || len(res.Attempts) != 2 {
		t.Fatalf("Err %+v attempts %+v", res.Err, res.Attempts)
	}
}

func TestDoBodyDripPastDeadline(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		fmt.Fprint(w, `{"contents": "`)
		for {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
				fmt.Fprint(w, "x")
			}
		}
	})
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolRequirements), model.ProtocolRequirements)
	o.Timeout = 300 * time.Millisecond
	start := time.Now()
	res := Do(context.Background(), o)
	if elapsed := time.Since(start); elapsed > o.Timeout+3*time.Second {
		t.Fatalf("Do returned after %v", elapsed)
	}
	if res.Err == nil || res.Err.Code != CodeTimeout {
		t.Fatalf("Err = %+v", res.Err)
	}
	a := res.Attempts[0]
	if len(res.Attempts) != 1 || a.Class != "timeout" || a.Status != 200 || !strings.Contains(a.Err, "response body still incomplete") {
		t.Fatalf("attempts = %+v", res.Attempts)
	}
}

func TestDoSlowHeadersNoPerRequestLimit(t *testing.T) {
	setHeaderWait(t, 100*time.Millisecond) // must not apply to the requirements generation
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		fmt.Fprint(w, `{"contents": "enforce_residency = \"us\""}`)
	})
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolRequirements), model.ProtocolRequirements)
	o.Timeout = 5 * time.Second
	res := Do(context.Background(), o)
	if res.Err != nil || res.Payload == nil || res.Payload.Contents == nil || len(srv.requests()) != 1 {
		t.Fatalf("Err %+v payload %+v requests %d", res.Err, res.Payload, len(srv.requests()))
	}
}

func TestDoBundleFirstRequestResent(t *testing.T) {
	setHeaderWait(t, 150*time.Millisecond)
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-r.Context().Done()
			return
		}
		time.Sleep(300 * time.Millisecond) // later requests have no per-request limit
		fmt.Fprint(w, `{"requirements_toml": {"enterprise_managed": [{"id": "a", "name": "b", "contents": ""}]}}`)
	})
	o, clock := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	o.Timeout = 5 * time.Second
	res := Do(context.Background(), o)

	if res.Err != nil || res.Payload == nil || len(res.Payload.RequirementsFragments) != 1 {
		t.Fatalf("Err %+v payload %+v attempts %+v", res.Err, res.Payload, res.Attempts)
	}
	if len(srv.requests()) != 2 || len(clock.Sleeps()) != 0 {
		t.Fatalf("requests %d sleeps %v", len(srv.requests()), clock.Sleeps())
	}
	first, second := res.Attempts[0], res.Attempts[1]
	if !first.Resend || first.Class != "no_headers" || first.Try != 1 || first.Status != 0 ||
		first.Err != "no response headers after 150ms; Codex re-sends the request" {
		t.Errorf("first = %+v", first)
	}
	if second.Resend || second.Class != "ok" || second.Try != 1 || second.N != 2 || second.Note == "" {
		t.Errorf("second = %+v", second)
	}
}

func TestDoBundleHangResendsThenTimesOut(t *testing.T) {
	setHeaderWait(t, 100*time.Millisecond)
	srv := newServer(t, hang)
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	o.Timeout = 400 * time.Millisecond
	start := time.Now()
	res := Do(context.Background(), o)
	if elapsed := time.Since(start); elapsed > o.Timeout+3*time.Second {
		t.Fatalf("Do returned after %v", elapsed)
	}
	if got := classes(res.Attempts); !reflect.DeepEqual(got, []string{"no_headers", "timeout"}) {
		t.Fatalf("classes = %v", got)
	}
	if res.Err == nil || res.Err.Code != CodeTimeout || len(srv.requests()) != 2 {
		t.Fatalf("Err %+v requests %d", res.Err, len(srv.requests()))
	}
}

func TestDoBadBodiesRetried(t *testing.T) {
	html := string(readFixture(t, "decode", "html_page.html"))
	tests := []struct {
		name, ctype, body string
		status            int
		proto             model.Protocol
		class, errHas     string
		bodyHas           string
	}{
		{"malformed", "application/json", `{"contents": `, 200, model.ProtocolRequirements, "bad_json", "HTTP 200 OK but body is not JSON", `{"contents": `},
		{"wrong type requirements", "application/json", `{"contents": 5}`, 200, model.ProtocolRequirements, "wrong_shape", "`contents` is a number", ""},
		{"wrong type bundle", "application/json", `{"requirements_toml": {"enterprise_managed": [{"id": 1}]}}`, 200, model.ProtocolBundle, "wrong_shape", "enterprise_managed[0].id` is a number", ""},
		{"HTML 200", "text/html; charset=utf-8", html, 200, model.ProtocolBundle, "bad_json", "invalid character '<'", "HTML page: Just a moment..."},
		{"HTML 403", "text/html", html, 403, model.ProtocolBundle, "http_status", "HTTP 403 Forbidden", "HTML page: Just a moment..."},
		{"escape codes in body", "text/plain", "\x1b]52;c;cHduZWQ=\x07\x1b[2J", 500, model.ProtocolBundle, "http_status", "HTTP 500", `\x1b]52;c;cHduZWQ=\x07\x1b[2J`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			o, clock := testOptions(EndpointURL(srv.URL, tc.proto), tc.proto)
			res := Do(context.Background(), o)
			if len(srv.requests()) != 5 || len(clock.Sleeps()) != 4 {
				t.Fatalf("requests %d sleeps %d", len(srv.requests()), len(clock.Sleeps()))
			}
			// Codex reports a status only for non-2xx answers; a 2xx body it
			// cannot decode leaves none.
			wantStatus := tc.status
			if tc.status/100 == 2 {
				wantStatus = 0
			}
			if res.Err == nil || res.Err.Code != CodeRequestFailed || res.Err.StatusCode != wantStatus {
				t.Fatalf("Err = %+v, want status %d", res.Err, wantStatus)
			}
			for _, a := range res.Attempts {
				if a.Class != tc.class || !strings.Contains(a.Err, tc.errHas) || !strings.Contains(a.Body, tc.bodyHas) ||
					a.ContentType != tc.ctype || len(a.Body) > 300 {
					t.Fatalf("attempt = %+v", a)
				}
				checkSafe(t, a.Body, 300)
				checkSafe(t, a.Err, 0)
			}
		})
	}
}

func TestDoBadJSONThenSuccess(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			fmt.Fprint(w, `not json`)
			return
		}
		fmt.Fprint(w, `{"contents": null}`)
	})
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolRequirements), model.ProtocolRequirements)
	res := Do(context.Background(), o)
	if res.Err != nil || res.Payload == nil || res.Payload.Contents != nil {
		t.Fatalf("Err %+v Payload %+v", res.Err, res.Payload)
	}
	if got := classes(res.Attempts); !reflect.DeepEqual(got, []string{"bad_json", "ok"}) {
		t.Fatalf("classes = %v", got)
	}
}

func TestDoBodyCap(t *testing.T) {
	body := func(n int) string { // valid JSON of exactly n bytes
		prefix, suffix := `{"contents": "`, `"}`
		return prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix
	}
	for _, tc := range []struct {
		size  int
		class string
	}{{1024, "ok"}, {1025, "body_too_large"}, {100000, "body_too_large"}} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			srv := newServer(t, jsonReply(200, body(tc.size)))
			o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolRequirements), model.ProtocolRequirements)
			o.MaxBody = 1024
			res := Do(context.Background(), o)
			last := res.Attempts[len(res.Attempts)-1]
			if last.Class != tc.class {
				t.Fatalf("class = %s, attempts %+v", last.Class, res.Attempts)
			}
			if tc.class == "ok" {
				return
			}
			if len(res.Attempts) != 5 || res.Err == nil || res.Err.Code != CodeRequestFailed ||
				!strings.Contains(last.Err, "larger than 1024 bytes") || !strings.HasPrefix(last.Body, `{"contents": "xxx`) {
				t.Fatalf("Err %+v last %+v", res.Err, last)
			}
		})
	}
}

func TestDoLegacyShape(t *testing.T) {
	srv := newServer(t, jsonReply(200, string(readFixture(t, "decode", "bundle_legacy.json"))))
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	res := Do(context.Background(), o)
	want := &Payload{LegacyShape: true}
	if res.Err != nil || !reflect.DeepEqual(res.Payload, want) {
		t.Fatalf("Err %+v Payload %+v", res.Err, res.Payload)
	}
}

// TestDoRedirectLikeCodex: Codex's client follows redirects but leaves the
// credentials behind when a hop goes to another host or port.
func TestDoRedirectLikeCodex(t *testing.T) {
	for _, callerClient := range []*http.Client{nil, {}} {
		t.Run(fmt.Sprintf("client=%v", callerClient != nil), func(t *testing.T) {
			target := newServer(t, jsonReply(200, `{}`))
			src := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/login?next=1", http.StatusFound)
			})
			o, _ := testOptions(EndpointURL(src.URL, model.ProtocolBundle), model.ProtocolBundle)
			o.Client = callerClient
			res := Do(context.Background(), o)

			reqs := target.requests()
			if len(reqs) != 1 {
				t.Fatalf("redirect target got %d requests, want 1", len(reqs))
			}
			for _, h := range []string{"Authorization", "ChatGPT-Account-Id"} {
				if v := reqs[0].Header.Get(h); v != "" {
					t.Errorf("%s forwarded to another port: %q", h, v)
				}
			}
			if callerClient != nil && callerClient.CheckRedirect != nil {
				t.Error("Do changed the caller's client")
			}
			if res.Err != nil || len(res.Attempts) != 1 {
				t.Fatalf("Err %+v attempts %d", res.Err, len(res.Attempts))
			}
			a := res.Attempts[0]
			if a.Location != target.URL+"/login?next=1" || !strings.Contains(a.Note, "Authorization not sent") {
				t.Fatalf("attempt = %+v", a)
			}
		})
	}
}

func TestDoRedirectSameHostKeepsCredentials(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	})
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	res := Do(context.Background(), o)
	reqs := srv.requests()
	if res.Err != nil || len(reqs) != 2 {
		t.Fatalf("Err %+v, %d requests", res.Err, len(reqs))
	}
	if reqs[1].Header.Get("Authorization") == "" {
		t.Error("same-origin redirect lost the Authorization header")
	}
}

func TestDoTooManyRedirects(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	o.MaxAttempts = 1
	res := Do(context.Background(), o)
	if res.Err == nil || res.Err.Code != CodeRequestFailed || !strings.Contains(res.Attempts[0].Err, "redirects") {
		t.Fatalf("Err %+v attempts %+v", res.Err, res.Attempts)
	}
}

func TestDoTokenNeverShown(t *testing.T) {
	echo := func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; token="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		w.Header().Set("Location", "https://elsewhere.example/?t="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "you sent %s", r.Header.Get("Authorization"))
	}
	srv := newServer(t, echo)
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	res := Do(context.Background(), o)
	checkNoToken(t, res, testToken)
	if !strings.Contains(res.Attempts[0].Body, "you sent Bearer [redacted]") || !strings.Contains(res.Attempts[0].ContentType, "token=[redacted]") {
		t.Fatalf("attempt = %+v", res.Attempts[0])
	}

	srv401 := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, "bad token %s", r.Header.Get("Authorization"))
	})
	o, _ = testOptions(EndpointURL(srv401.URL, model.ProtocolBundle), model.ProtocolBundle)
	o.Reload = func() (Identity, error) { return Identity{AccessToken: testToken2}, nil }
	res = Do(context.Background(), o)
	checkNoToken(t, res, testToken, testToken2)
}

func TestDoTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := EndpointURL(srv.URL, model.ProtocolBundle)
	srv.Close()
	o, clock := testOptions(url, model.ProtocolBundle)
	res := Do(context.Background(), o)
	if got := classes(res.Attempts); !reflect.DeepEqual(got, repeat("transport", 5)) {
		t.Fatalf("classes = %v (%+v)", got, res.Attempts)
	}
	if res.Err == nil || res.Err.Code != CodeRequestFailed || res.Err.StatusCode != 0 || len(clock.Sleeps()) != 4 {
		t.Fatalf("Err %+v sleeps %v", res.Err, clock.Sleeps())
	}
	if res.Attempts[0].Err == "" || res.Attempts[0].Status != 0 {
		t.Fatalf("attempt = %+v", res.Attempts[0])
	}
}

func TestDoParentCancelled(t *testing.T) {
	setHeaderWait(t, time.Minute)
	srv := newServer(t, hang)
	o, _ := testOptions(EndpointURL(srv.URL, model.ProtocolBundle), model.ProtocolBundle)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := Do(ctx, o)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("Do returned after %v", elapsed)
	}
	if res.Err == nil || res.Err.Code != CodeInternal || res.Attempts[0].Class != "canceled" {
		t.Fatalf("Err %+v attempts %+v", res.Err, res.Attempts)
	}
}

func TestRealClockSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (RealClock{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled ctx = %v", err)
	}
	if err := (RealClock{}).Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v", err)
	}
}

func TestDoTransportErrorsSayWhatHappened(t *testing.T) {
	closer := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	// A port that was just free: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct{ base, want string }{
		{closer.URL, "the server closed the connection without a complete answer"},
		{refused, "connection refused (nothing listens there)"},
	} {
		o, _ := testOptions(EndpointURL(tc.base, model.ProtocolBundle), model.ProtocolBundle)
		o.MaxAttempts = 1
		res := Do(context.Background(), o)
		a := res.Attempts[0]
		if a.Class != "transport" || !strings.HasPrefix(a.Err, tc.want) || strings.Contains(a.Err, "Get \"") {
			t.Errorf("%s: attempt %+v, want %q first", tc.base, a, tc.want)
		}
		if res.Err == nil || res.Err.Code != CodeRequestFailed || res.Err.StatusCode != 0 {
			t.Errorf("Err %+v", res.Err)
		}
	}
}
