package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reqdoctor/reqdoctor/model"
)

// get sends a plain GET and returns status, content type and body.
func get(t *testing.T, client *http.Client, url string, header map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func startBackend(t *testing.T, replies func(int, *http.Request) Reply) *FakeBackend {
	t.Helper()
	b, err := StartFakeBackend(replies)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestFakeBackendPathsRepliesAndRecords(t *testing.T) {
	var mu sync.Mutex
	var calls []int
	b := startBackend(t, func(n int, r *http.Request) Reply {
		mu.Lock()
		calls = append(calls, n)
		mu.Unlock()
		switch r.URL.Path {
		case PathWhamBundle:
			return Reply{Body: `{"n":"bundle"}`}
		case PathWhamRequirements:
			return Reply{Status: 503, Body: "busy", ContentType: "text/plain"}
		case PathCodexBundle:
			return Reply{Status: 401, Body: `{"e":1}`}
		default:
			return Reply{Status: 202, Body: "req"}
		}
	})
	if !strings.HasPrefix(b.URL, "http://127.0.0.1:") || !strings.HasSuffix(b.URL, "/backend-api/") {
		t.Fatalf("URL = %q, want http://127.0.0.1:PORT/backend-api/", b.URL)
	}
	if b.URL != b.Root+"/backend-api/" {
		t.Fatalf("URL %q and Root %q disagree", b.URL, b.Root)
	}
	tests := []struct {
		path       string
		wantStatus int
		wantCT     string
		wantBody   string
	}{
		{PathWhamBundle, 200, "application/json", `{"n":"bundle"}`},
		{PathWhamRequirements, 503, "text/plain", "busy"},
		{PathCodexBundle, 401, "application/json", `{"e":1}`},
		{PathCodexRequirements, 202, "application/json", "req"},
		{"/backend-api/wham/config/other", 404, "application/json", `{"detail":"Not Found"}`},
		{"/", 404, "application/json", `{"detail":"Not Found"}`},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for i, tt := range tests {
		status, ct, body := get(t, client, b.Root+tt.path, map[string]string{"X-Seq": string(rune('a' + i))})
		if status != tt.wantStatus || ct != tt.wantCT || body != tt.wantBody {
			t.Errorf("GET %s = %d %q %q, want %d %q %q", tt.path, status, ct, body, tt.wantStatus, tt.wantCT, tt.wantBody)
		}
	}
	// Unknown paths are recorded but never reach replies.
	mu.Lock()
	defer mu.Unlock()
	if want := []int{1, 2, 3, 4}; !slices.Equal(calls, want) {
		t.Errorf("replies saw n = %v, want %v", calls, want)
	}
	reqs := b.Requests()
	if len(reqs) != len(tests) {
		t.Fatalf("recorded %d requests, want %d", len(reqs), len(tests))
	}
	for i, r := range reqs {
		if r.Path != tests[i].path || r.Method != http.MethodGet {
			t.Errorf("request %d = %s %s, want GET %s", i+1, r.Method, r.Path, tests[i].path)
		}
		if got, want := r.Header.Get("X-Seq"), string(rune('a'+i)); got != want {
			t.Errorf("request %d header X-Seq = %q, want %q", i+1, got, want)
		}
		if i > 0 && r.At.Before(reqs[i-1].At) {
			t.Errorf("request %d recorded before request %d", i+1, i)
		}
	}
	// Requests returns copies: changing one must not change the record.
	reqs[0].Header.Set("X-Seq", "changed")
	if got := b.Requests()[0].Header.Get("X-Seq"); got != "a" {
		t.Errorf("record changed through a returned header: %q", got)
	}
}

func TestFakeBackendPostIsNotFound(t *testing.T) {
	b := startBackend(t, func(int, *http.Request) Reply { return Reply{Body: "{}"} })
	resp, err := http.Post(b.Root+PathWhamBundle, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST status = %d, want 404", resp.StatusCode)
	}
}

func TestFakeBackendDelay(t *testing.T) {
	const delay = 150 * time.Millisecond
	b := startBackend(t, func(int, *http.Request) Reply { return Reply{Body: "{}", Delay: delay} })
	start := time.Now()
	status, _, _ := get(t, &http.Client{Timeout: 5 * time.Second}, b.Root+PathWhamBundle, nil)
	if took := time.Since(start); took < delay {
		t.Errorf("answered after %v, want at least %v", took, delay)
	}
	if status != 200 {
		t.Errorf("status = %d, want 200", status)
	}
}

// waitRequests waits until the backend has recorded n requests.
func waitRequests(t *testing.T, b *FakeBackend, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(b.Requests()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("backend recorded %d requests, want %d", len(b.Requests()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFakeBackendHangEndsWhenServerCloses(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply Reply
	}{
		{"hang", Reply{Hang: true}},
		{"long delay", Reply{Delay: time.Hour, Body: "{}"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := StartFakeBackend(func(int, *http.Request) Reply { return tt.reply })
			if err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				resp, err := http.Get(b.Root + PathWhamBundle) // no client timeout
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil {
						err = errors.New("got a complete answer")
					}
				}
				errc <- err
			}()
			waitRequests(t, b, 1)
			select {
			case <-errc:
				t.Fatal("request ended before the server closed")
			case <-time.After(100 * time.Millisecond):
			}
			closed := make(chan struct{})
			go func() { b.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(2 * time.Second):
				t.Fatal("Close blocked on a hanging handler")
			}
			select {
			case err := <-errc:
				if err == nil {
					t.Fatal("want an error for the cut request")
				}
			case <-time.After(2 * time.Second):
				t.Fatal("client still waiting after Close")
			}
			b.Close() // idempotent
		})
	}
}

func TestFakeBackendHangEndsWhenClientGoesAway(t *testing.T) {
	b := startBackend(t, func(int, *http.Request) Reply { return Reply{Hang: true} })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.Root+PathWhamBundle, nil)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// The handler must have returned on its own: Close then waits for
	// nothing. Measure it.
	start := time.Now()
	b.Close()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v after the client went away", took)
	}
}

func TestFakeBackendClosedRefusesConnections(t *testing.T) {
	b, err := StartFakeBackend(nil)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := get(t, &http.Client{Timeout: 5 * time.Second}, b.Root+PathWhamBundle, nil)
	if status != 200 || body != BundleBody(nil, nil) {
		t.Errorf("nil replies: got %d %q, want 200 and an empty bundle", status, body)
	}
	b.Close()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	if resp, err := client.Get(b.Root + PathWhamBundle); err == nil {
		resp.Body.Close()
		t.Fatalf("GET after Close answered %d, want a connection error", resp.StatusCode)
	}
}

func TestBundleBody(t *testing.T) {
	tricky := "# <admin> & \"quotes\" — ünïcode\r\nallowed_sandbox_modes = [\"read-only\"]\n\ttab \\ backslash \u2028"
	tests := []struct {
		name     string
		req, cfg []model.Fragment
		want     string
	}{
		{"nil lists are empty lists", nil, nil,
			`{"config_toml":{"enterprise_managed":[]},"requirements_toml":{"enterprise_managed":[]}}`},
		{"one requirement", []model.Fragment{{ID: "a", Name: "A", Contents: "x = 1\n"}}, nil,
			`{"config_toml":{"enterprise_managed":[]},"requirements_toml":{"enterprise_managed":[{"id":"a","name":"A","contents":"x = 1\n"}]}}`},
		{"config only", nil, []model.Fragment{{ID: "c", Name: "C", Contents: ""}},
			`{"config_toml":{"enterprise_managed":[{"id":"c","name":"C","contents":""}]},"requirements_toml":{"enterprise_managed":[]}}`},
		{"no HTML escaping", []model.Fragment{{ID: "<1>", Name: "a&b", Contents: "<>"}}, nil,
			`{"config_toml":{"enterprise_managed":[]},"requirements_toml":{"enterprise_managed":[{"id":"<1>","name":"a&b","contents":"<>"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BundleBody(tt.req, tt.cfg); got != tt.want {
				t.Errorf("BundleBody = %s\nwant         %s", got, tt.want)
			}
		})
	}
	t.Run("round trip", func(t *testing.T) {
		req := []model.Fragment{{ID: "r1", Name: "Policy \"one\"", Contents: tricky}, {ID: "r2", Name: "two", Contents: ""}}
		cfg := []model.Fragment{{ID: "c1", Name: "cfg", Contents: tricky + "\x00"}}
		var got bundleJSON
		if err := json.Unmarshal([]byte(BundleBody(req, cfg)), &got); err != nil {
			t.Fatalf("BundleBody is not JSON: %v", err)
		}
		if !slices.Equal(got.RequirementsTOML.EnterpriseManaged, req) || !slices.Equal(got.ConfigTOML.EnterpriseManaged, cfg) {
			t.Errorf("round trip changed the fragments: %+v", got)
		}
	})
}

func TestRequirementsBody(t *testing.T) {
	if got, want := RequirementsBody(nil), `{"contents":null}`; got != want {
		t.Errorf("RequirementsBody(nil) = %s, want %s", got, want)
	}
	for _, contents := range []string{"", "x = 1\n", "# <b> & \"q\"\n\\ \t ü"} {
		body := RequirementsBody(&contents)
		var got struct {
			Contents        *string `json:"contents"`
			SHA256          string  `json:"sha256"`
			UpdatedAt       string  `json:"updated_at"`
			UpdatedByUserID string  `json:"updated_by_user_id"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("RequirementsBody(%q) is not JSON: %v", contents, err)
		}
		if got.Contents == nil || *got.Contents != contents {
			t.Errorf("RequirementsBody(%q): contents = %v", contents, got.Contents)
		}
		sum := sha256.Sum256([]byte(contents))
		if got.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("RequirementsBody(%q): sha256 = %s", contents, got.SHA256)
		}
		if _, err := time.Parse(time.RFC3339, got.UpdatedAt); err != nil || got.UpdatedByUserID == "" {
			t.Errorf("RequirementsBody(%q): updated_at %q, updated_by_user_id %q", contents, got.UpdatedAt, got.UpdatedByUserID)
		}
		if strings.Contains(body, `\u003c`) {
			t.Errorf("RequirementsBody escapes HTML: %s", body)
		}
	}
}
