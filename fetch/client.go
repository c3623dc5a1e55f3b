package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/reqdoctor/reqdoctor/model"
)

// firstHeadersWait is how long the bundle generation waits for the first
// request's response headers before dropping it and re-sending (observed
// in Codex 0.171). A var so tests can shorten it.
var firstHeadersWait = 5 * time.Second

// maxErrorBody caps what is read of a non-2xx body: only an excerpt and
// an HTML title are shown.
const maxErrorBody = 64 << 10

var (
	errDeadline  = errors.New("overall deadline reached")
	errNoHeaders = errors.New("no response headers in time")
)

// Codex's messages.
const (
	msgAuth                = "Your authentication session could not be refreshed automatically. Please log out and sign in again."
	msgFailedRequirements  = "Failed to load cloud requirements (workspace-managed policies)."
	msgFailedBundle        = "Failed to load cloud config bundle (workspace-managed policies)."
	noteRetry401           = "re-sent after reloading auth.json"
	noteResentAfterNoHeads = "re-send of the request that got no response headers"
)

// Do fetches o.URL as Codex would: GET with Codex's headers, up to
// o.MaxAttempts attempts with Codex's backoff, all under one deadline of
// o.Timeout, recording every request. It never refreshes a token and never
// writes anything. It returns within moments of the deadline, however
// slowly the server answers.
func Do(ctx context.Context, o Options) Result {
	f := newFetcher(o)
	defer f.closeIdle()
	return f.run(ctx)
}

type fetcher struct {
	o         Options
	client    *http.Client
	closeIdle func()
	secrets   []string
	start     time.Time
	res       Result

	getenv       func(string) string
	ownTransport bool // reqdoctor's transport: proxy and roots are Codex's
	customProxy  bool // Options.Proxy was given
	caSource     string
	caErr        string
}

func newFetcher(o Options) *fetcher {
	if o.Protocol == "" {
		o.Protocol = model.ProtocolBundle
	}
	if o.Timeout <= 0 {
		o.Timeout = BundleTimeout
		if o.Protocol == model.ProtocolRequirements {
			o.Timeout = RequirementsTimeout
		}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = MaxAttempts
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Jitter == nil {
		o.Jitter = func() float64 { return 0.9 + 0.2*rand.Float64() }
	}
	if o.Identity.UserAgent == "" {
		o.Identity.UserAgent = UserAgent("")
	}
	f := &fetcher{o: o, closeIdle: func() {}, getenv: o.Getenv}
	if f.getenv == nil {
		f.getenv = os.Getenv
	}
	var c http.Client
	if o.Client != nil {
		c = *o.Client // a copy: the caller's client keeps its redirect policy
		f.caSource = "decided by the caller's HTTP client"
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		f.ownTransport = true
		pool := o.RootCAs
		if pool != nil {
			f.caSource = o.CASource
			if f.caSource == "" {
				f.caSource = "roots given by the caller"
			}
		} else {
			// The system pool costs ~20 ms; a plain http:// URL needs no
			// roots (an https redirect gets the system's), but a broken CA
			// file is still reported, as Codex warns about it either way.
			var err error
			pool, f.caSource, err = loadCAs(f.getenv, strings.HasPrefix(o.URL, "https:"))
			if err != nil {
				f.caErr = err.Error()
			}
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
		proxy := o.Proxy
		f.customProxy = proxy != nil
		if proxy == nil {
			proxy = ProxyFromEnv(f.getenv)
		}
		t.Proxy = func(r *http.Request) (*url.URL, error) {
			u, err := proxy(r)
			if rt := traceFrom(r.Context()); rt != nil {
				rt.setProxy(u)
			}
			return u, err
		}
		t.OnProxyConnectResponse = onProxyConnectResponse
		c.Transport = t
		f.closeIdle = t.CloseIdleConnections
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := followLikeCodex(req, via); err != nil {
			return err
		}
		if rt := traceFrom(req.Context()); rt != nil {
			rt.redirected(req.URL)
		}
		return nil
	}
	f.client = &c
	f.addSecret(o.Identity.AccessToken)
	return f
}

func (f *fetcher) addSecret(s string) {
	if len(s) >= 6 {
		f.secrets = append(f.secrets, s)
	}
}

// redact removes every known token from text meant for display (a server
// may echo the Authorization header back in its error page).
func (f *fetcher) redact(s string) string {
	for _, t := range f.secrets {
		s = strings.ReplaceAll(s, t, "[redacted]")
	}
	return s
}

func (f *fetcher) since(t time.Time) time.Duration { return f.o.Clock.Now().Sub(t) }

func (f *fetcher) emit(e Event) {
	if f.o.OnEvent != nil {
		f.o.OnEvent(e)
	}
}

func (f *fetcher) finish(a Attempt) {
	f.res.Attempts = append(f.res.Attempts, a)
	f.emit(Event{Kind: AttemptFinished, Attempt: a})
}

func (f *fetcher) run(parent context.Context) Result {
	o := f.o
	f.start = o.Clock.Now()
	f.res = Result{URL: o.URL, Timeout: o.Timeout, CASource: f.caSource, CAErr: f.caErr}
	ctx, cancel := context.WithTimeoutCause(parent, o.Timeout, errDeadline)
	defer cancel()

	id := o.Identity
	reloaded := false
	var pending Attempt // flags for the next request (a re-send)
	try := 1
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			return f.stopped(ctx)
		}
		a := pending
		pending = Attempt{}
		a.N, a.Try, a.Start = n, try, f.since(f.start)
		f.emit(Event{Kind: AttemptStarted, Attempt: a})

		var headerWait time.Duration
		if n == 1 && o.Protocol == model.ProtocolBundle {
			headerWait = firstHeadersWait
		}
		payload := f.send(ctx, &a, id, headerWait)

		switch a.Class {
		case "ok":
			f.finish(a)
			f.res.Payload = payload
			return f.done()
		case "timeout", "canceled":
			f.finish(a)
			return f.stopped(ctx)
		case "no_headers":
			// Codex drops the request and sends it again at once; this does
			// not count as an attempt.
			f.finish(a)
			pending = Attempt{Note: noteResentAfterNoHeads}
			continue
		case "unauthorized":
			if !reloaded && o.Reload != nil {
				newID, err := o.Reload()
				if err == nil {
					reloaded = true
					if newID.UserAgent == "" {
						newID.UserAgent = id.UserAgent
					}
					id = newID
					f.addSecret(id.AccessToken)
					a.Err += "; Codex reloads auth.json and re-sends"
					f.finish(a)
					pending = Attempt{Retry401: true, Note: noteRetry401}
					continue
				}
				a.Err += "; reloading auth.json failed: " + Sanitize(f.redact(err.Error()), 200)
			}
			// Codex would now try to refresh the access token with the
			// refresh token (POST https://auth.openai.com/oauth/token) and
			// re-send. reqdoctor never does: a refresh rotates the user's
			// refresh token and would have to be written back to auth.json.
			refresh := "Codex would now try a token refresh; reqdoctor does not (it would rotate the refresh token)"
			if a.Note != "" {
				refresh = a.Note + "; " + refresh
			}
			a.Note = refresh
			f.finish(a)
			f.res.Err = &Error{Code: CodeAuth, Message: msgAuth, StatusCode: http.StatusUnauthorized}
			return f.done()
		}

		// A retried failure.
		if try >= o.MaxAttempts {
			f.finish(a)
			msg := msgFailedBundle
			if o.Protocol == model.ProtocolRequirements {
				msg = msgFailedRequirements
			}
			f.res.Err = &Error{Code: CodeRequestFailed, Message: msg, StatusCode: codexStatus(a)}
			return f.done()
		}
		wait := time.Duration(float64(BaseBackoff<<(try-1)) * o.Jitter())
		a.Backoff = wait
		f.finish(a)
		f.emit(Event{Kind: BackoffStarted, Attempt: a, Wait: wait})
		if err := o.Clock.Sleep(ctx, wait); err != nil || ctx.Err() != nil {
			return f.stopped(ctx)
		}
		try++
	}
}

func (f *fetcher) done() Result {
	f.res.Elapsed = f.since(f.start)
	return f.res
}

// stopped ends the fetch once ctx is over: Codex's Timeout when the
// overall deadline fired, else the caller cancelled (e.g. the user quit).
func (f *fetcher) stopped(ctx context.Context) Result {
	if context.Cause(ctx) == errDeadline {
		what := "cloud config bundle"
		if f.o.Protocol == model.ProtocolRequirements {
			what = "cloud requirements"
		}
		// Rust's Duration::as_secs: whole seconds, rounded down.
		f.res.Err = &Error{Code: CodeTimeout, Message: fmt.Sprintf("timed out waiting for %s after %ds", what, int64(f.o.Timeout/time.Second))}
	} else {
		f.res.Err = &Error{Code: CodeInternal, Message: "reqdoctor was interrupted before the fetch finished"}
	}
	return f.done()
}

// send makes one request, filling a (Status, ContentType, Class, Err,
// Body, Duration). headerWait > 0 drops the request when no response
// headers arrive in that time. It returns the payload when Class is "ok".
func (f *fetcher) send(ctx context.Context, a *Attempt, id Identity, headerWait time.Duration) *Payload {
	t0 := f.o.Clock.Now()
	var (
		rt   *reqTrace
		resp *http.Response
		body []byte
	)
	defer func() {
		a.Duration = f.since(t0)
		if rt != nil {
			f.noteTrace(a, rt, resp, body)
		}
		a.Kind, a.Hint = Diagnose(*a)
	}()

	reqCtx, reqCancel := context.WithCancelCause(ctx)
	defer reqCancel(nil)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, f.o.URL, nil)
	if err != nil {
		a.Class, a.Err = "transport", Sanitize(f.redact("cannot build the request: "+err.Error()), 300)
		return nil
	}
	tctx, rt := withTrace(reqCtx, f.o.URL)
	req = req.WithContext(tctx)
	req.Header.Set("Authorization", "Bearer "+id.AccessToken)
	if id.AccountID != "" {
		req.Header.Set("ChatGPT-Account-Id", id.AccountID)
	}
	req.Header.Set("User-Agent", id.UserAgent)
	req.Header.Set("Accept", "application/json")
	// Codex's HTTP client sends its originator on every request.
	req.Header.Set("originator", "codex_cli_rs")

	var timer *time.Timer
	if headerWait > 0 {
		timer = time.AfterFunc(headerWait, func() { reqCancel(errNoHeaders) })
	}
	resp, err = f.client.Do(req)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		rt.noteErr(err)
		f.failed(ctx, reqCtx, a, err, false, headerWait)
		return nil
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	a.ContentType = Sanitize(f.redact(resp.Header.Get("Content-Type")), 200)
	status := fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if final := resp.Request.URL.String(); final != f.o.URL {
		a.Location = Sanitize(f.redact(final), 200)
		a.Note = "redirected to " + a.Location
		if !sameOrigin(resp.Request.URL, req.URL) {
			a.Note += " (another host: Authorization not sent there, as Codex's client does)"
		}
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var rerr error
		body, rerr = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if rerr != nil && ctx.Err() != nil {
			f.failed(ctx, reqCtx, a, rerr, true, headerWait)
			return nil
		}
		f.describeBody(a, body)
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			a.Class, a.Err = "unauthorized", status
		case resp.StatusCode >= 300 && resp.StatusCode <= 399:
			// A redirect Codex's client could not follow (no Location).
			a.Class, a.Err = "redirect", status+" without a usable Location"
		default:
			a.Class, a.Err = "http_status", status
		}
		return nil
	}

	body, err = io.ReadAll(io.LimitReader(resp.Body, f.o.MaxBody+1))
	if err != nil {
		f.failed(ctx, reqCtx, a, err, true, headerWait)
		return nil
	}
	if int64(len(body)) > f.o.MaxBody {
		a.Class = "body_too_large"
		a.Err = fmt.Sprintf("%s but the body is larger than %d bytes; reqdoctor stops reading there", status, f.o.MaxBody)
		f.describeBody(a, body)
		return nil
	}
	p, derr := Decode(f.o.Protocol, body)
	if derr != nil {
		class, msg := describeDecodeErr(derr)
		a.Class, a.Err = class, status+" but "+f.redact(msg)
		f.describeBody(a, body)
		return nil
	}
	a.Class = "ok"
	return p
}

// failed classifies an error of the request or of reading its body.
func (f *fetcher) failed(ctx, reqCtx context.Context, a *Attempt, err error, gotHeaders bool, headerWait time.Duration) {
	switch {
	case ctx.Err() != nil && context.Cause(ctx) == errDeadline:
		a.Class = "timeout"
		if gotHeaders {
			a.Err = fmt.Sprintf("response body still incomplete at the overall deadline (%s)", f.o.Timeout)
		} else {
			a.Err = fmt.Sprintf("no response before the overall deadline (%s)", f.o.Timeout)
		}
	case ctx.Err() != nil:
		a.Class, a.Err = "canceled", "interrupted"
	case context.Cause(reqCtx) == errNoHeaders:
		a.Class = "no_headers"
		a.Resend = true
		a.Err = fmt.Sprintf("no response headers after %s; Codex re-sends the request", headerWait)
	default:
		a.Class = "transport"
		a.Err = Sanitize(f.redact(transportText(err)), 300)
	}
}

// transportText says in a few words what went wrong on the wire, keeping
// Go's own text (without the repeated method and URL) after a colon.
func transportText(err error) string {
	raw := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		raw = ue.Err.Error()
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return "cannot resolve " + dnsErr.Name + ": " + raw
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens there): " + raw
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server: " + raw
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection without a complete answer: " + raw
	}
	return raw
}

// excerpt is the displayable start of a failed body, tokens removed.
func (f *fetcher) excerpt(contentType string, body []byte) string {
	return bodyExcerpt(contentType, f.redactBytes(body))
}

func (f *fetcher) redactBytes(body []byte) []byte {
	for _, t := range f.secrets {
		if bytes.Contains(body, []byte(t)) {
			body = bytes.ReplaceAll(body, []byte(t), []byte("[redacted]"))
		}
	}
	return body
}

// describeBody records the excerpt of a failed body and whether it is an
// HTML page, with its title.
func (f *fetcher) describeBody(a *Attempt, body []byte) {
	a.Body = f.excerpt(a.ContentType, body)
	if len(body) > 0 && isHTML(a.ContentType, body) {
		a.HTML = true
		a.HTMLTitle = Sanitize(f.redact(htmlTitle(body)), 100)
	}
}

// maxRedirects is the redirect limit of Codex's HTTP client (reqwest).
const maxRedirects = 10

// followLikeCodex follows redirects as Codex's HTTP client does: at most
// ten, and once a hop leaves the original host or port, the credentials
// stay behind (reqwest removes Authorization, Cookie and
// Proxy-Authorization there). Go's own rule would forward them to another
// port of the same host.
func followLikeCodex(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	for _, prev := range via {
		if !sameOrigin(req.URL, prev.URL) {
			for _, h := range []string{"Authorization", "Cookie", "Proxy-Authorization", "ChatGPT-Account-Id"} {
				req.Header.Del(h)
			}
			break
		}
	}
	return nil
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Hostname() == b.Hostname() && portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// codexStatus is the status Codex reports with RequestFailed: the HTTP
// status of a non-2xx answer; none (0) when the last attempt failed in
// transport or while decoding a 2xx body.
func codexStatus(a Attempt) int {
	if a.Class == "http_status" || a.Class == "redirect" {
		return a.Status
	}
	return 0
}
