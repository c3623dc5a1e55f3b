package fetch

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reqdoctor/reqdoctor/model"
)

// netOptions are testOptions for one request with a hermetic environment.
func netOptions(rawURL string, env ...string) Options {
	o, _ := testOptions(rawURL, model.ProtocolRequirements)
	o.MaxAttempts = 1
	o.Timeout = 5 * time.Second
	o.Getenv = envOf(env...)
	return o
}

// writeCertPEM writes certs as a PEM bundle under dir.
func writeCertPEM(t *testing.T, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func tlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"contents": null}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// selfSigned makes a certificate for 127.0.0.1 valid from notBefore to
// notAfter, signed by itself.
func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Corp TLS Inspection"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"gateway.corp.example"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func TestDoSelfSignedThenTrustedViaCodexCA(t *testing.T) {
	srv := tlsServer(t)
	target := EndpointURL(srv.URL+"/backend-api", model.ProtocolRequirements)

	res := Do(context.Background(), netOptions(target))
	a := res.Attempts[0]
	if a.Class != "transport" || a.Kind != KindTLSUnknownAuthority {
		t.Fatalf("attempt %+v", a)
	}
	if a.Trace == nil || a.Trace.Cert == nil || !strings.Contains(a.Trace.Cert.Issuer, "Acme Co") || a.Trace.TLSProblem != "unknown_authority" {
		t.Fatalf("trace %+v", a.Trace)
	}
	for _, want := range []string{"Acme Co", "CODEX_CA_CERTIFICATE=/path/to/corp-ca.pem", "SSL_CERT_FILE", "TLS-inspecting proxy"} {
		if !strings.Contains(a.Hint, want) {
			t.Errorf("hint %q lacks %q", a.Hint, want)
		}
	}
	if res.CASource != SystemRootsSource || res.CAErr != "" {
		t.Errorf("CA source %q err %q", res.CASource, res.CAErr)
	}

	ca := writeCertPEM(t, t.TempDir(), "corp-ca.pem", srv.Certificate())
	res = Do(context.Background(), netOptions(target, "CODEX_CA_CERTIFICATE", ca, "SSL_CERT_FILE", "/nonexistent.pem"))
	a = res.Attempts[0]
	if a.Class != "ok" || a.Kind != KindOK || a.Hint != "" {
		t.Fatalf("with the CA trusted: %+v (CA %q %q)", a, res.CASource, res.CAErr)
	}
	if !strings.HasPrefix(res.CASource, "CODEX_CA_CERTIFICATE="+ca+" (1 certificate") {
		t.Errorf("CASource = %q", res.CASource)
	}
	tr := a.Trace
	if tr.TLSVersion != "TLS 1.3" || tr.Cert == nil || tr.Phase != "done" || tr.RemoteAddr == "" || tr.TTFB <= 0 || tr.Connect <= 0 || tr.TLS <= 0 {
		t.Errorf("trace %+v", tr)
	}
}

func TestDoBadCAFileFallsBackToSystemRoots(t *testing.T) {
	srv := newServer(t, jsonReply(200, `{}`))
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate\n"), 0o600)
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"CODEX_CA_CERTIFICATE", filepath.Join(dir, "missing.pem")}, "Failed to read CA certificate file " + filepath.Join(dir, "missing.pem") + " selected by CODEX_CA_CERTIFICATE"},
		{[]string{"SSL_CERT_FILE", junk}, "Failed to load CA certificates from " + junk + " selected by SSL_CERT_FILE: no certificates found in PEM file"},
	} {
		res := Do(context.Background(), netOptions(EndpointURL(srv.URL, model.ProtocolBundle), tc.env...))
		if res.Err != nil || !strings.HasPrefix(res.CAErr, tc.want) || !strings.HasPrefix(res.CASource, "system roots") {
			t.Errorf("Err %+v CAErr %q source %q; want the fetch to go on and %q", res.Err, res.CAErr, res.CASource, tc.want)
		}
	}
}

func TestDoTLSOtherProblems(t *testing.T) {
	now := time.Now()
	expired := selfSigned(t, "old.corp.example", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	expSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	expSrv.TLS = &tls.Config{Certificates: []tls.Certificate{expired}}
	expSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	expSrv.StartTLS()
	defer expSrv.Close()
	trustExpired := x509.NewCertPool()
	trustExpired.AddCert(expired.Leaf)

	good := tlsServer(t)
	trustGood := x509.NewCertPool()
	trustGood.AddCert(good.Certificate())
	_, port, _ := net.SplitHostPort(good.Listener.Addr().String())

	plain := newServer(t, jsonReply(200, `{}`))

	for _, tc := range []struct {
		name, url string
		pool      *x509.CertPool
		problem   string
		hint      []string
	}{
		{"expired", expSrv.URL + "/x", trustExpired, "expired", []string{"old.corp.example", "expired", "clock"}},
		{"name mismatch", "https://localhost:" + port + "/x", trustGood, "name_mismatch", []string{"example.com", "not for the host requested (localhost)"}},
		{"not TLS", strings.Replace(plain.URL, "http:", "https:", 1) + "/x", nil, "not_tls", []string{"does not speak TLS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := netOptions(tc.url)
			o.RootCAs, o.CASource = tc.pool, "test roots"
			res := Do(context.Background(), o)
			a := res.Attempts[0]
			if a.Kind != KindTLSOther || a.Trace.TLSProblem != tc.problem {
				t.Fatalf("kind %q problem %q (%+v)", a.Kind, a.Trace.TLSProblem, a)
			}
			for _, w := range tc.hint {
				if !strings.Contains(a.Hint, w) {
					t.Errorf("hint %q lacks %q", a.Hint, w)
				}
			}
			if tc.pool != nil && res.CASource != "test roots" {
				t.Errorf("CASource %q", res.CASource)
			}
		})
	}
}

// proxyServer is an HTTP proxy on loopback: decide picks the status for
// each request (CONNECT or absolute-URI); a CONNECT answered 200 is
// tunnelled for real.
type proxyServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newProxy(t *testing.T, decide func(r *http.Request) (int, http.Header)) *proxyServer {
	t.Helper()
	p := &proxyServer{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Clone(context.Background()))
		p.mu.Unlock()
		status, h := decide(r)
		if r.Method == http.MethodConnect && status == http.StatusOK {
			up, err := net.Dial("tcp", r.Host)
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			defer up.Close()
			c, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			go io.Copy(up, buf)
			io.Copy(c, up)
			return
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><title>Proxy says %d</title></html>", status)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *proxyServer) requests() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*http.Request(nil), p.seen...)
}

func fixedProxy(raw string) func(*http.Request) (*url.URL, error) {
	u, _ := url.Parse(raw)
	return func(*http.Request) (*url.URL, error) { return u, nil }
}

func TestDoProxyAnswers(t *testing.T) {
	basic := http.Header{"Proxy-Authenticate": {`Basic realm="corp"`}}
	for _, tc := range []struct {
		name, url   string
		status      int
		challenge   http.Header
		kind        string
		proxyStatus int
		hint        string
	}{
		{"407 to a plain request", "http://origin.reqdoctor-test.invalid/backend-api/wham/config/requirements", 407, basic, KindProxyAuth, 0, "HTTPS_PROXY=http://user:pass@host:port"},
		{"407 to CONNECT", "https://origin.reqdoctor-test.invalid/backend-api/wham/config/requirements", 407, basic, KindProxyAuth, 407, "HTTPS_PROXY=http://user:pass@host:port"},
		{"407 wanting Negotiate", "https://origin.reqdoctor-test.invalid/x", 407, http.Header{"Proxy-Authenticate": {"Negotiate"}}, KindProxyAuth, 407, "Negotiate authentication (HTTP 407), which Codex cannot do"},
		{"403 to CONNECT", "https://origin.reqdoctor-test.invalid/x", 403, nil, KindProxyConnect, 403, "refused to open a tunnel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t, func(*http.Request) (int, http.Header) { return tc.status, tc.challenge })
			o := netOptions(tc.url)
			o.Proxy = fixedProxy(p.URL)
			res := Do(context.Background(), o)
			a := res.Attempts[0]
			if a.Kind != tc.kind || a.Trace.ProxyStatus != tc.proxyStatus || !a.ProxyUsed || a.Proxy != p.URL {
				t.Fatalf("attempt %+v trace %+v", a, a.Trace)
			}
			if !strings.Contains(a.Hint, tc.hint) {
				t.Errorf("hint %q lacks %q", a.Hint, tc.hint)
			}
			if len(p.requests()) != 1 {
				t.Errorf("proxy saw %d requests", len(p.requests()))
			}
		})
	}
}

func TestDoThroughProxyFromEnvWithCodexCA(t *testing.T) {
	srv := tlsServer(t)
	ca := writeCertPEM(t, t.TempDir(), "ca.pem", srv.Certificate())
	p := newProxy(t, func(r *http.Request) (int, http.Header) {
		if r.Header.Get("Proxy-Authorization") != "Basic dXNlcjpzM2NyZXQ=" { // user:s3cret
			return 407, http.Header{"Proxy-Authenticate": {`Basic realm="corp"`}}
		}
		return 200, nil
	})
	withCreds := strings.Replace(p.URL, "http://", "http://user:s3cret@", 1)
	target := EndpointURL(srv.URL+"/backend-api", model.ProtocolRequirements)

	var verbose bytes.Buffer
	o := netOptions(target, "HTTPS_PROXY", withCreds, "CODEX_CA_CERTIFICATE", ca)
	o.Verbose = &verbose
	res := Do(context.Background(), o)
	a := res.Attempts[0]
	wantShown := strings.Replace(p.URL, "http://", "http://user@", 1)
	if a.Class != "ok" || !a.ProxyUsed || a.Proxy != wantShown || a.ProxyWhy != "HTTPS_PROXY="+wantShown+" applies" {
		t.Fatalf("attempt %+v", a)
	}
	if got := p.requests(); len(got) != 1 || got[0].Method != http.MethodConnect || got[0].Host != srv.Listener.Addr().String() {
		t.Fatalf("proxy saw %+v", got)
	}
	if a.Trace.ProxyStatus != 0 || a.Trace.TLSVersion == "" || a.Trace.Cert == nil {
		t.Errorf("trace %+v", a.Trace)
	}
	if s := fmt.Sprintf("%+v %+v %s", a, *a.Trace, verbose.String()); strings.Contains(s, "s3cret") || strings.Contains(s, "dXNlcjpzM2NyZXQ") {
		t.Fatalf("proxy password shown: %s", s)
	}

	// NO_PROXY sends the same request direct.
	o = netOptions(target, "HTTPS_PROXY", withCreds, "CODEX_CA_CERTIFICATE", ca, "NO_PROXY", "localhost,127.0.0.1")
	res = Do(context.Background(), o)
	a = res.Attempts[0]
	if a.Class != "ok" || a.ProxyUsed || a.Proxy != "" || !strings.Contains(a.ProxyWhy, "NO_PROXY contains 127.0.0.1") || len(p.requests()) != 1 {
		t.Fatalf("attempt %+v; proxy saw %d", a, len(p.requests()))
	}
}

func TestDoProxyUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	o := netOptions("https://chatgpt.com/backend-api/wham/config/requirements")
	o.Proxy = fixedProxy(dead)
	a := Do(context.Background(), o).Attempts[0]
	if a.Kind != KindProxyConnect || !strings.Contains(a.Hint, "cannot reach the proxy "+dead+" (refused)") {
		t.Fatalf("attempt %+v trace %+v", a, a.Trace)
	}
}

func TestDoRefusedAndUnresolvable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()

	a := Do(context.Background(), netOptions("http://"+addr+"/x")).Attempts[0]
	if a.Kind != KindRefused || a.Trace.ConnectProblem != "refused" || a.Trace.ConnectAddr != addr || !strings.Contains(a.Hint, "nothing listens there") {
		t.Fatalf("refused: %+v trace %+v", a, a.Trace)
	}

	o := netOptions("https://reqdoctor-test.invalid/backend-api/wham/config/requirements")
	o.Timeout = 3 * time.Second
	start := time.Now()
	a = Do(context.Background(), o).Attempts[0]
	if time.Since(start) > o.Timeout+2*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	if a.Kind != KindDNS || !strings.Contains(a.Hint, "reqdoctor-test.invalid") {
		t.Fatalf("unresolvable: %+v trace %+v", a, a.Trace)
	}
}

func TestDoHTMLPageShowsTitle(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>Access denied &ndash; Corp Web Gateway</title></head><body>Blocked</body></html>`
	for _, status := range []int{403, 200} {
		srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			io.WriteString(w, page)
		})
		a := Do(context.Background(), netOptions(EndpointURL(srv.URL, model.ProtocolRequirements))).Attempts[0]
		if a.Kind != KindHTML || !a.HTML || a.HTMLTitle != "Access denied – Corp Web Gateway" ||
			!strings.Contains(a.Hint, `"Access denied – Corp Web Gateway"`) || !strings.Contains(a.Hint, fmt.Sprintf("HTTP %d", status)) {
			t.Errorf("%d: attempt %+v", status, a)
		}
	}
}

func TestDoVerboseRedacts(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=abcdef123456")
		w.Header().Set("X-Api-Key", "sk-live-123456")
		w.WriteHeader(500)
		// A server that echoes the request back, token included.
		fmt.Fprintf(w, `{"error": "bad", "echo": %q}`, r.Header.Get("Authorization"))
	})
	var out bytes.Buffer
	o := netOptions(EndpointURL(srv.URL, model.ProtocolRequirements))
	o.Verbose = &out
	Do(context.Background(), o)
	v := out.String()
	for _, want := range []string{
		"> Authorization: Bearer <redacted>", "> Chatgpt-Account-Id: acct-123", "> Originator: codex_cli_rs",
		"< HTTP/1.1 500 Internal Server Error", "< Set-Cookie: <redacted>", "< X-Api-Key: <redacted>",
		`"echo": "Bearer [redacted]"`, "* result: http_status", "* proxy: none (no proxy variables set)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("verbose lacks %q:\n%s", want, v)
		}
	}
	for _, bad := range []string{testToken, testToken[len(testToken)-10:], "abcdef123456", "sk-live"} {
		if strings.Contains(v, bad) {
			t.Fatalf("verbose shows %q:\n%s", bad, v)
		}
	}
}

func TestVerboseBodyCapped(t *testing.T) {
	srv := newServer(t, jsonReply(200, `{"contents": "`+strings.Repeat("x", 100<<10)+`"}`))
	var out bytes.Buffer
	o := netOptions(EndpointURL(srv.URL, model.ProtocolRequirements))
	o.Verbose = &out
	if res := Do(context.Background(), o); res.Err != nil {
		t.Fatal(res.Err)
	}
	if n := strings.Count(out.String(), "x"); n > maxVerboseBody || n < maxVerboseBody-100 {
		t.Fatalf("verbose shows %d bytes of body", n)
	}
}

func TestRedactHeaders(t *testing.T) {
	h := http.Header{
		"Authorization":       {"Bearer eyJabc.def"},
		"Proxy-Authorization": {"Basic dXNlcjpwYXNz"},
		"Cookie":              {"a=b"},
		"Set-Cookie":          {"s=1", "t=2"},
		"X-Api-Key":           {"k"},
		"X-Auth-Token":        {"t"},
		"Client-Secret":       {"s"},
		"Proxy-Authenticate":  {"Basic realm=corp"},
		"Content-Type":        {"application/json"},
		"Weird":               {"nospace"},
	}
	got := RedactHeaders(h)
	want := http.Header{
		"Authorization":       {"Bearer <redacted>"},
		"Proxy-Authorization": {"Basic <redacted>"},
		"Cookie":              {"<redacted>"},
		"Set-Cookie":          {"<redacted>", "<redacted>"},
		"X-Api-Key":           {"<redacted>"},
		"X-Auth-Token":        {"<redacted>"},
		"Client-Secret":       {"<redacted>"},
		"Proxy-Authenticate":  {"Basic realm=corp"},
		"Content-Type":        {"application/json"},
		"Weird":               {"nospace"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("RedactHeaders =\n%v\nwant\n%v", got, want)
	}
	if h.Get("Authorization") != "Bearer eyJabc.def" {
		t.Fatal("RedactHeaders changed its input")
	}
	if RedactHeaders(http.Header{"Authorization": {"eyJonlytoken"}}).Get("Authorization") != "<redacted>" {
		t.Fatal("a bare credential must go entirely")
	}
}
