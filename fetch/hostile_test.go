package fetch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/reqdoctor/reqdoctor/model"
)

// rawServer is a TCP server on loopback that answers with whatever
// handle writes, so a test can break HTTP on purpose. handle gets the
// connection after the request head was read; done closes when the test
// ends. It returns the base URL.
func rawServer(t *testing.T, handle func(c net.Conn, done <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				handle(c, done)
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// writeForever writes chunk until the client goes away.
func writeForever(c net.Conn, chunk []byte, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		default:
		}
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// peakHeap runs f and returns how far the heap grew above where it
// started, sampled every few milliseconds.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	stop, out := make(chan struct{}), make(chan uint64)
	go func() {
		peak := base
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		var s runtime.MemStats
		for {
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
				runtime.ReadMemStats(&s)
				peak = max(peak, s.HeapAlloc)
			}
		}
	}()
	f()
	close(stop)
	if p := <-out; p > base {
		return p - base
	}
	return 0
}

const memBound = 64 << 20

// hostileDo runs one fetch of the requirements protocol with a short
// deadline and checks it ended in time and shows nothing unsafe.
func hostileDo(t *testing.T, base string, timeout time.Duration, tweak func(*Options)) Result {
	t.Helper()
	o := netOptions(EndpointURL(base, model.ProtocolRequirements))
	o.Timeout = timeout
	if tweak != nil {
		tweak(&o)
	}
	start := time.Now()
	res := Do(context.Background(), o)
	if el := time.Since(start); el > timeout+2*time.Second {
		t.Fatalf("Do took %v with a deadline of %v", el, timeout)
	}
	checkDisplaySafe(t, res)
	return res
}

// checkDisplaySafe asserts every display string of res is valid UTF-8
// without terminal controls.
func checkDisplaySafe(t *testing.T, res Result) {
	t.Helper()
	var texts []string
	if res.Err != nil {
		texts = append(texts, res.Err.Message)
	}
	for _, a := range res.Attempts {
		texts = append(texts, a.Err, a.Body, a.ContentType, a.Location, a.Note, a.HTMLTitle, a.Hint, a.Proxy, a.ProxyWhy)
		if tr := a.Trace; tr != nil {
			texts = append(texts, tr.DNSErr, tr.ConnectErr, tr.TLSErr, tr.ProxyAuthenticate, tr.Host)
		}
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\x1b\x07\u009b\u202e\r") {
			t.Fatalf("unsafe display text %q", s)
		}
	}
}

func TestHostileNeverAnswers(t *testing.T) {
	base := rawServer(t, func(c net.Conn, done <-chan struct{}) { <-done })
	res := hostileDo(t, base, 1500*time.Millisecond, nil)
	a := res.Attempts[0]
	if res.Err == nil || res.Err.Code != CodeTimeout || a.Class != "timeout" || a.Kind != KindTimeout || a.Trace.Phase != "wait" {
		t.Fatalf("Err %+v attempt %+v trace %+v", res.Err, a, a.Trace)
	}
	if !strings.Contains(a.Hint, "no answer came before the deadline") {
		t.Errorf("hint %q", a.Hint)
	}
}

func TestHostileDripsBody(t *testing.T) {
	base := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	})
	res := hostileDo(t, base, 1500*time.Millisecond, nil)
	a := res.Attempts[0]
	if res.Err == nil || res.Err.Code != CodeTimeout || a.Kind != KindTimeout || a.Trace.Phase != "body" || a.Status != 200 {
		t.Fatalf("Err %+v attempt %+v trace %+v", res.Err, a, a.Trace)
	}
	if !strings.Contains(a.Hint, "body came too slowly") {
		t.Errorf("hint %q", a.Hint)
	}
}

func TestHostileResetsMidBody(t *testing.T) {
	base := rawServer(t, func(c net.Conn, _ <-chan struct{}) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"contents\": \"abc")
		time.Sleep(50 * time.Millisecond)
		c.(*net.TCPConn).SetLinger(0) // close with RST
	})
	res := hostileDo(t, base, 5*time.Second, nil)
	a := res.Attempts[0]
	if a.Class != "transport" || a.Kind != KindReset || !strings.Contains(a.Hint, "connection was cut") {
		t.Fatalf("attempt %+v trace %+v", a, a.Trace)
	}
}

func TestHostileEndlessBody(t *testing.T) {
	chunk := bytes.Repeat([]byte("A"), 32<<10)
	for _, tc := range []struct {
		name, head, class, kind string
	}{
		{"2xx close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n", "body_too_large", KindBadBody},
		{"2xx claims 1 GiB", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n", "body_too_large", KindBadBody},
		{"500 endless", "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n", "http_status", KindHTTPStatus},
		{"502 chunked endless", "HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n", "http_status", KindHTTPStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := chunk
			if strings.Contains(tc.head, "chunked") {
				data = []byte(fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk))
			}
			base := rawServer(t, func(c net.Conn, done <-chan struct{}) {
				io.WriteString(c, tc.head)
				writeForever(c, data, done)
			})
			var res Result
			grew := peakHeap(func() { res = hostileDo(t, base, 10*time.Second, nil) })
			a := res.Attempts[0]
			if a.Class != tc.class || a.Kind != tc.kind || len(a.Body) > maxExcerpt {
				t.Fatalf("attempt %+v", a)
			}
			if grew > memBound {
				t.Fatalf("heap grew by %d MiB", grew>>20)
			}
		})
	}
}

// gzipBomb is a gzip stream of about 1 MiB that inflates to 1 GiB: one
// member of 1 MiB of zeros, repeated (gzip readers read concatenated
// members as one stream).
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	return bytes.Repeat(one.Bytes(), 1024)
}

func TestHostileGzipBomb(t *testing.T) {
	bomb := gzipBomb(t)
	if len(bomb) > 4<<20 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	for _, status := range []int{200, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var sawGzip bool
			base := rawServer(t, func(c net.Conn, done <-chan struct{}) {
				fmt.Fprintf(c, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", status, len(bomb))
				c.Write(bomb)
			})
			var res Result
			grew := peakHeap(func() { res = hostileDo(t, base, 10*time.Second, nil) })
			a := res.Attempts[0]
			want := map[int]string{200: "body_too_large", 500: "http_status"}[status]
			if a.Class != want {
				t.Fatalf("attempt %+v", a)
			}
			// Go's transport asked for gzip itself, so it inflated the body;
			// the cap applied to the inflated bytes.
			if status == 200 {
				sawGzip = strings.Contains(a.Err, "larger than") && strings.HasPrefix(a.Body, `\x00`)
				if !sawGzip {
					t.Errorf("expected the inflated zeros to hit the cap: %+v", a)
				}
			}
			if grew > memBound {
				t.Fatalf("heap grew by %d MiB", grew>>20)
			}
		})
	}
}

func TestHostileInvalidUTF8AndControls(t *testing.T) {
	body := "\xff\xfe\x1b[2J\x1b]52;c;cHduZWQ=\x07 gateway error \u202eevil\u202c \x9b31m"
	for _, tc := range []struct {
		name, head string
	}{
		// obs-text (bytes ≥ 0x80) is allowed in header values.
		{"in body and header bytes", "HTTP/1.1 502 Bad \xffGateway\r\nContent-Type: text/plain; charset=\xff\xfe\r\nX-Note: caf\xe9\r\n"},
		// Control characters in a header make the response malformed.
		{"escape in header", "HTTP/1.1 200 OK\r\nContent-Type: application/json\x1b[31m\r\nX-Evil: \x1b]52;c;AAAA\x07\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := rawServer(t, func(c net.Conn, _ <-chan struct{}) {
				fmt.Fprintf(c, "%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", tc.head, len(body), body)
			})
			var v bytes.Buffer
			res := hostileDo(t, base, 5*time.Second, func(o *Options) { o.Verbose = &v })
			a := res.Attempts[0]
			if a.Class != "http_status" && a.Class != "transport" {
				t.Fatalf("attempt %+v", a)
			}
			if out := v.String(); !utf8.ValidString(out) || strings.ContainsAny(out, "\x1b\x07\u202e\u009b") {
				t.Fatalf("verbose output unsafe: %q", out)
			}
		})
	}
}

func TestHostileDeepJSON(t *testing.T) {
	for _, deep := range []string{
		strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
		`{"contents": ` + strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000) + "}",
	} {
		srv := newServer(t, jsonReply(200, deep))
		start := time.Now()
		res := hostileDo(t, srv.URL, 5*time.Second, nil)
		a := res.Attempts[0]
		if a.Class != "bad_json" || a.Kind != KindBadBody || !strings.Contains(a.Err, "exceeded max depth") {
			t.Fatalf("attempt %+v", a)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Fatalf("took %v", el)
		}
	}
}

func TestHostileRedirectToAnotherPort(t *testing.T) {
	other := newServer(t, jsonReply(200, `{"contents": null}`))
	first := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	})
	var v bytes.Buffer
	res := hostileDo(t, first.URL, 5*time.Second, func(o *Options) { o.Verbose = &v })
	a := res.Attempts[0]
	if a.Class != "ok" || a.Kind != KindOK || !strings.Contains(a.Note, "Authorization not sent there") {
		t.Fatalf("attempt %+v", a)
	}
	got := other.requests()
	if len(got) != 1 || got[0].Header.Get("Authorization") != "" || got[0].Header.Get("ChatGPT-Account-Id") != "" {
		t.Fatalf("the other port got %+v", got)
	}
	if first.requests()[0].Header.Get("Authorization") != "Bearer "+testToken {
		t.Fatal("the first hop must carry the token")
	}
	// Verbose shows both hops: the token only as <redacted>, and the
	// second without it.
	out := v.String()
	if !strings.Contains(out, "* redirected to "+other.URL) || strings.Count(out, "> Authorization: Bearer <redacted>") != 1 || strings.Contains(out, testToken) {
		t.Fatalf("verbose:\n%s", out)
	}
}

func TestHostileHTML200(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>Sign in \x1b[31m– Okta</title></head></html>")
	})
	a := hostileDo(t, srv.URL, 5*time.Second, nil).Attempts[0]
	if a.Class != "bad_json" || a.Kind != KindHTML || a.HTMLTitle != `Sign in \x1b[31m– Okta` {
		t.Fatalf("attempt %+v", a)
	}
}

func TestHostileHTTP10WithoutLength(t *testing.T) {
	base := rawServer(t, func(c net.Conn, _ <-chan struct{}) {
		io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"contents\": \"allowed_sandbox_modes = [\\\"read-only\\\"]\\n\"}")
	})
	res := hostileDo(t, base, 5*time.Second, nil)
	if res.Err != nil || res.Payload == nil || res.Payload.Contents == nil ||
		!reflect.DeepEqual(*res.Payload.Contents, "allowed_sandbox_modes = [\"read-only\"]\n") {
		t.Fatalf("Err %+v payload %+v attempts %+v", res.Err, res.Payload, res.Attempts)
	}
}
