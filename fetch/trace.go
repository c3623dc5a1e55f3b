package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Trace is what one request met on its way: name lookup, connection,
// proxy tunnel, TLS handshake and the wait for the first byte. Durations
// are wall time measured by reqdoctor; zero when the step did not happen
// (an IP literal needs no lookup, a reused connection no connect).
type Trace struct {
	DNS     time.Duration
	Connect time.Duration
	TLS     time.Duration
	// TTFB is from the start of the request to the first response byte,
	// like curl's time_starttransfer; Wait is only the part after the
	// request was written: the server's (or proxy's) time to answer.
	TTFB time.Duration
	Wait time.Duration

	// Phase is the last step reached: "dns", "connect", "proxy" (waiting
	// for the proxy's answer to CONNECT), "tls", "send", "wait" (request
	// sent, no answer yet), "body" (headers received), "done". A timeout
	// happened in this phase.
	Phase string

	Host string // the host requested (of the last redirect hop)

	DNSHost string   // the name looked up (the proxy's name when one is used)
	Addrs   []string // the addresses it resolved to
	DNSErr  string

	ConnectAddr string // the address dialled last (the proxy's when one is used)
	ConnectErr  string
	// ConnectProblem classifies ConnectErr: "refused", "timeout",
	// "unreachable", "other"; "" when connecting worked.
	ConnectProblem string

	RemoteAddr string // the peer of the connection used
	Reused     bool   // an idle connection from an earlier request was reused

	// ProxyStatus is the status of the proxy's answer to CONNECT (https
	// through a proxy); 0 when no tunnel was asked for or no answer came.
	ProxyStatus int
	// ProxyAuthenticate is the proxy's Proxy-Authenticate challenge
	// (e.g. "Basic realm=corp", "Negotiate"), sanitised.
	ProxyAuthenticate string

	TLSVersion string    // e.g. "TLS 1.3"
	Cert       *CertInfo // the leaf the server presented, also when it was rejected
	TLSErr     string
	// TLSProblem classifies TLSErr: "unknown_authority", "expired",
	// "name_mismatch", "not_tls" (the port does not speak TLS), "other".
	TLSProblem string
}

// CertInfo describes a certificate for display.
type CertInfo struct {
	Subject  string
	Issuer   string
	NotAfter time.Time
	DNSNames []string
}

func certInfo(c *x509.Certificate) *CertInfo {
	if c == nil {
		return nil
	}
	ci := &CertInfo{
		Subject:  Sanitize(c.Subject.String(), 300),
		Issuer:   Sanitize(c.Issuer.String(), 300),
		NotAfter: c.NotAfter,
	}
	for i, n := range c.DNSNames {
		if i == 20 {
			ci.DNSNames = append(ci.DNSNames, fmt.Sprintf("… %d more", len(c.DNSNames)-i))
			break
		}
		ci.DNSNames = append(ci.DNSNames, Sanitize(n, 100))
	}
	for _, ip := range c.IPAddresses {
		if len(ci.DNSNames) > 20 {
			break
		}
		ci.DNSNames = append(ci.DNSNames, ip.String())
	}
	return ci
}

// reqTrace collects the httptrace events of one attempt (all its
// redirect hops). The transport calls back from its own goroutines, some
// of them after the request is over, hence the lock and the closed flag.
type reqTrace struct {
	mu     sync.Mutex
	closed bool
	start  time.Time
	https  bool // the first hop is https

	dnsStart, connStart, tlsStart, wrote time.Time

	t Trace

	proxy     *url.URL // the proxy the transport was told to use, last hop
	proxyUsed bool

	hops []hop // request lines and headers written, for Verbose
}

type hop struct {
	url    string
	header http.Header
}

type traceKey struct{}

func traceFrom(ctx context.Context) *reqTrace {
	rt, _ := ctx.Value(traceKey{}).(*reqTrace)
	return rt
}

func (rt *reqTrace) do(f func()) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if !rt.closed {
		f()
	}
}

// snapshot ends the collection and returns what was seen.
func (rt *reqTrace) snapshot() (Trace, []hop) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.closed = true
	t := rt.t
	t.Addrs = append([]string(nil), t.Addrs...)
	return t, rt.hops
}

// withTrace returns ctx carrying a fresh reqTrace and its httptrace hooks.
func withTrace(ctx context.Context, rawURL string) (context.Context, *reqTrace) {
	rt := &reqTrace{start: time.Now(), https: strings.HasPrefix(strings.ToLower(rawURL), "https:")}
	rt.t.Phase = "connect"
	if u, err := url.Parse(rawURL); err == nil {
		rt.t.Host = Sanitize(u.Hostname(), 200)
	}
	rt.hops = []hop{{url: rawURL, header: http.Header{}}}
	ct := &httptrace.ClientTrace{
		GetConn: func(string) {},
		DNSStart: func(i httptrace.DNSStartInfo) {
			rt.do(func() {
				rt.dnsStart = time.Now()
				rt.t.Phase = "dns"
				rt.t.DNSHost = Sanitize(i.Host, 200)
			})
		},
		DNSDone: func(i httptrace.DNSDoneInfo) {
			rt.do(func() {
				if !rt.dnsStart.IsZero() {
					rt.t.DNS = time.Since(rt.dnsStart)
				}
				rt.t.Addrs = rt.t.Addrs[:0]
				for _, a := range i.Addrs {
					rt.t.Addrs = append(rt.t.Addrs, a.String())
				}
				if i.Err != nil {
					rt.t.DNSErr = Sanitize(i.Err.Error(), 300)
				} else {
					rt.t.Phase = "connect"
				}
			})
		},
		ConnectStart: func(_, addr string) {
			rt.do(func() {
				if rt.connStart.IsZero() {
					rt.connStart = time.Now()
				}
				rt.t.Phase = "connect"
				rt.t.ConnectAddr = addr
			})
		},
		ConnectDone: func(_, addr string, err error) {
			rt.do(func() {
				rt.t.ConnectAddr = addr
				if err != nil {
					rt.t.ConnectErr = Sanitize(err.Error(), 300)
					rt.t.ConnectProblem = connectProblem(err)
					return
				}
				rt.t.ConnectErr, rt.t.ConnectProblem = "", ""
				if !rt.connStart.IsZero() {
					rt.t.Connect = time.Since(rt.connStart)
				}
				switch {
				case rt.proxyUsed && rt.https:
					rt.t.Phase = "proxy"
				case rt.https:
					rt.t.Phase = "tls"
				default:
					rt.t.Phase = "send"
				}
			})
		},
		TLSHandshakeStart: func() {
			rt.do(func() {
				rt.tlsStart = time.Now()
				rt.t.Phase = "tls"
			})
		},
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			rt.do(func() {
				if !rt.tlsStart.IsZero() {
					rt.t.TLS = time.Since(rt.tlsStart)
				}
				if err != nil {
					rt.noteTLSErr(err)
					return
				}
				rt.t.Phase = "send"
				rt.t.TLSVersion = tls.VersionName(cs.Version)
				if len(cs.PeerCertificates) > 0 {
					rt.t.Cert = certInfo(cs.PeerCertificates[0])
				}
			})
		},
		GotConn: func(i httptrace.GotConnInfo) {
			rt.do(func() {
				rt.t.Phase = "send"
				rt.t.Reused = i.Reused
				if i.Conn != nil {
					rt.t.RemoteAddr = i.Conn.RemoteAddr().String()
					if tc, ok := i.Conn.(*tls.Conn); ok && rt.t.TLSVersion == "" {
						cs := tc.ConnectionState()
						rt.t.TLSVersion = tls.VersionName(cs.Version)
						if len(cs.PeerCertificates) > 0 {
							rt.t.Cert = certInfo(cs.PeerCertificates[0])
						}
					}
				}
			})
		},
		WroteHeaderField: func(k string, v []string) {
			rt.do(func() {
				h := rt.hops[len(rt.hops)-1].header
				for _, s := range v {
					h.Add(k, s)
				}
			})
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			rt.do(func() {
				rt.wrote = time.Now()
				rt.t.Phase = "wait"
			})
		},
		GotFirstResponseByte: func() {
			rt.do(func() {
				now := time.Now()
				rt.t.TTFB = now.Sub(rt.start)
				if !rt.wrote.IsZero() {
					rt.t.Wait = now.Sub(rt.wrote)
				}
				rt.t.Phase = "body"
			})
		},
	}
	ctx = context.WithValue(ctx, traceKey{}, rt)
	return httptrace.WithClientTrace(ctx, ct), rt
}

// redirected starts a new hop (a redirect being followed).
func (rt *reqTrace) redirected(u *url.URL) {
	rt.do(func() {
		rt.hops = append(rt.hops, hop{url: u.String(), header: http.Header{}})
		rt.dnsStart, rt.connStart, rt.tlsStart, rt.wrote = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		rt.https = u.Scheme == "https"
		rt.t.Phase = "connect"
		rt.t.Host = Sanitize(u.Hostname(), 200)
	})
}

func (rt *reqTrace) setProxy(u *url.URL) {
	rt.do(func() {
		rt.proxy = u
		rt.proxyUsed = u != nil
	})
}

// noteTLSErr records a failed handshake and, from the error, the
// certificate the server presented, even though it was rejected.
func (rt *reqTrace) noteTLSErr(err error) {
	rt.t.TLSErr = Sanitize(err.Error(), 300)
	rt.t.TLSProblem = tlsProblem(err)
	if c := presentedCert(err); c != nil {
		rt.t.Cert = certInfo(c)
	}
}

// noteErr fills what the trace hooks may have missed from the error the
// client returned (the hooks do not see everything, e.g. with a caller's
// own transport, or the answer to CONNECT).
func (rt *reqTrace) noteErr(err error) {
	rt.do(func() {
		var pe *proxyConnectError
		if errors.As(err, &pe) {
			rt.t.ProxyStatus = pe.status
			rt.t.ProxyAuthenticate = pe.challenge
			rt.t.Phase = "proxy"
		}
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && rt.t.DNSErr == "" {
			rt.t.DNSErr = Sanitize(dnsErr.Error(), 300)
			rt.t.Phase = "dns"
		}
		if p := tlsProblem(err); p != "other" && rt.t.TLSErr == "" {
			rt.noteTLSErr(err)
		}
		var op *net.OpError
		if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") && rt.t.ConnectErr == "" && pe == nil && dnsErr == nil {
			rt.t.ConnectErr = Sanitize(op.Error(), 300)
			rt.t.ConnectProblem = connectProblem(err)
		}
	})
}

func connectProblem(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "unreachable"
	}
	return "other"
}

// tlsProblem classifies a TLS error; "other" when err is none of the
// known kinds (or not a TLS error at all).
func tlsProblem(err error) string {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &ua):
		return "unknown_authority"
	case errors.As(err, &hn):
		return "name_mismatch"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "expired"
	case errors.As(err, &rh):
		return "not_tls"
	}
	return "other"
}

// presentedCert digs the server's leaf certificate out of a failed
// verification.
func presentedCert(err error) *x509.Certificate {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) && len(cv.UnverifiedCertificates) > 0 {
		return cv.UnverifiedCertificates[0]
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) && ua.Cert != nil {
		return ua.Cert
	}
	var hn x509.HostnameError
	if errors.As(err, &hn) && hn.Certificate != nil {
		return hn.Certificate
	}
	var ci x509.CertificateInvalidError
	if errors.As(err, &ci) && ci.Cert != nil {
		return ci.Cert
	}
	return nil
}

// proxyConnectError is a proxy's refusal to open a tunnel (its answer to
// CONNECT was not 200).
type proxyConnectError struct {
	status    int
	text      string
	challenge string
}

func (e *proxyConnectError) Error() string {
	return fmt.Sprintf("the proxy answered CONNECT with HTTP %d %s", e.status, e.text)
}

// onProxyConnectResponse turns a refused CONNECT into a proxyConnectError
// so the status survives to the attempt record.
func onProxyConnectResponse(_ context.Context, _ *url.URL, _ *http.Request, res *http.Response) error {
	if res.StatusCode == http.StatusOK {
		return nil
	}
	_, text, _ := strings.Cut(res.Status, " ")
	return &proxyConnectError{
		status:    res.StatusCode,
		text:      Sanitize(strings.TrimSpace(text), 100),
		challenge: Sanitize(strings.Join(res.Header.Values("Proxy-Authenticate"), ", "), 200),
	}
}

// maxVerboseBody is the most of a body Verbose shows.
const maxVerboseBody = 8 << 10

// noteTrace copies the trace of the request that just ended onto a and
// writes the Verbose account of it.
func (f *fetcher) noteTrace(a *Attempt, rt *reqTrace, resp *http.Response, body []byte) {
	t, hops := rt.snapshot()
	rt.mu.Lock()
	proxy, used := rt.proxy, rt.proxyUsed
	rt.mu.Unlock()
	if a.Class == "ok" {
		t.Phase = "done"
	}
	a.Trace = &t
	if f.ownTransport {
		a.Proxy, a.ProxyUsed = displayProxy(proxy), used
		if f.customProxy {
			a.ProxyWhy = "chosen by the caller"
		} else if u, err := url.Parse(f.o.URL); err == nil {
			_, a.ProxyWhy = proxyForURL(u, f.getenv)
		}
	}
	if f.o.Verbose != nil {
		f.writeVerbose(a, &t, hops, resp, body)
	}
}

// writeVerbose writes one request's account: route, request headers,
// response headers and a body excerpt, all redacted and sanitised.
func (f *fetcher) writeVerbose(a *Attempt, t *Trace, hops []hop, resp *http.Response, body []byte) {
	var b strings.Builder
	fmt.Fprintf(&b, "* request %d (attempt %d): GET %s\n", a.N, a.Try, Sanitize(f.redact(f.o.URL), 500))
	if f.ownTransport {
		p := a.Proxy
		if p == "" {
			p = "none"
		}
		fmt.Fprintf(&b, "* proxy: %s (%s)\n", p, a.ProxyWhy)
	}
	if t.DNSHost != "" {
		fmt.Fprintf(&b, "* DNS %s → %s in %s", t.DNSHost, strings.Join(t.Addrs, ", "), t.DNS.Round(time.Microsecond))
		if t.DNSErr != "" {
			fmt.Fprintf(&b, ": %s", t.DNSErr)
		}
		b.WriteString("\n")
	}
	if t.ConnectAddr != "" {
		fmt.Fprintf(&b, "* connect %s in %s", t.ConnectAddr, t.Connect.Round(time.Microsecond))
		if t.ConnectErr != "" {
			fmt.Fprintf(&b, ": %s", t.ConnectErr)
		}
		b.WriteString("\n")
	}
	if t.Reused {
		fmt.Fprintf(&b, "* reused the connection to %s\n", t.RemoteAddr)
	}
	if t.ProxyStatus != 0 {
		fmt.Fprintf(&b, "* proxy answered CONNECT with HTTP %d", t.ProxyStatus)
		if t.ProxyAuthenticate != "" {
			fmt.Fprintf(&b, " (Proxy-Authenticate: %s)", t.ProxyAuthenticate)
		}
		b.WriteString("\n")
	}
	switch {
	case t.TLSErr != "":
		fmt.Fprintf(&b, "* TLS handshake failed after %s: %s\n", t.TLS.Round(time.Microsecond), t.TLSErr)
	case t.TLSVersion != "":
		fmt.Fprintf(&b, "* TLS handshake (%s) in %s\n", t.TLSVersion, t.TLS.Round(time.Microsecond))
	}
	if c := t.Cert; c != nil {
		fmt.Fprintf(&b, "* certificate %s issued by %s, valid until %s, names %s\n",
			c.Subject, c.Issuer, c.NotAfter.UTC().Format(time.RFC3339), strings.Join(c.DNSNames, ", "))
	}
	for i, h := range hops {
		if len(h.header) == 0 {
			continue
		}
		if i > 0 {
			fmt.Fprintf(&b, "* redirected to %s\n", Sanitize(f.redact(h.url), 500))
		}
		fmt.Fprintf(&b, "> GET %s\n", Sanitize(f.redact(h.url), 500))
		writeHeaders(&b, "> ", h.header)
	}
	if resp != nil {
		fmt.Fprintf(&b, "< %s %s\n", Sanitize(resp.Proto, 20), Sanitize(f.redact(resp.Status), 200))
		writeHeaders(&b, "< ", resp.Header)
		if len(body) > 0 {
			b.WriteString("<\n")
			b.WriteString(Sanitize(string(f.redactBytes(body[:min(len(body), maxVerboseBody+len(longestSecret(f.secrets)))])), maxVerboseBody))
			b.WriteString("\n")
		}
	}
	if t.TTFB > 0 {
		fmt.Fprintf(&b, "* first byte after %s (server wait %s)\n", t.TTFB.Round(time.Microsecond), t.Wait.Round(time.Microsecond))
	}
	fmt.Fprintf(&b, "* result: %s", a.Class)
	if a.Err != "" {
		fmt.Fprintf(&b, " — %s", a.Err)
	}
	b.WriteString("\n\n")
	_, _ = io.WriteString(f.o.Verbose, f.redact(b.String()))
}

func longestSecret(ss []string) string {
	l := ""
	for _, s := range ss {
		if len(s) > len(l) {
			l = s
		}
	}
	return l
}
