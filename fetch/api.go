// Package fetch is reqdoctor's HTTP side: the URL and headers per protocol,
// attempts with Codex's backoff under one overall deadline, a record per
// attempt, and the fake backend used by --demo and the tests.
package fetch

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/reqdoctor/reqdoctor/model"
)

// Codex's numbers (codex-behavior.md §5).
const (
	MaxAttempts               = 5
	BaseBackoff               = 200 * time.Millisecond
	BundleTimeout             = 20 * time.Second
	RequirementsTimeout       = 15 * time.Second
	DefaultMaxBody      int64 = 4 << 20
)

// Clock is the time source; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Identity is what Codex sends to identify the user.
type Identity struct {
	AccessToken string
	AccountID   string // ChatGPT-Account-Id; header left out when ""
	UserAgent   string
}

// Options configures one fetch.
type Options struct {
	URL         string
	Protocol    model.Protocol
	Identity    Identity
	Timeout     time.Duration  // overall deadline for all attempts
	MaxAttempts int            // 0 → MaxAttempts
	MaxBody     int64          // 0 → DefaultMaxBody
	Client      *http.Client   // nil → reqdoctor's own client, with Codex's proxy and CA rules (Proxy, RootCAs below)
	Clock       Clock          // nil → real time
	Jitter      func() float64 // in [0.9, 1.1); nil → math/rand
	// OnEvent, if set, is called synchronously as attempts start and end
	// and as backoff waits begin.
	OnEvent func(Event)
	// Reload, if set, re-reads the credentials (auth.json) after a 401, as
	// Codex does before re-sending. It must only read, never write.
	Reload func() (Identity, error)

	// The network as Codex sees it. These apply to reqdoctor's own
	// client; a caller's Client keeps its transport as it is.

	// Getenv reads the environment for the proxy and CA defaults; nil →
	// os.Getenv.
	Getenv func(string) string
	// Proxy chooses the proxy per request; nil → ProxyFromEnv(Getenv),
	// Codex's rules (see ProxyFor). Direct never uses one.
	Proxy func(*http.Request) (*url.URL, error)
	// RootCAs are the trusted roots; nil → LoadCAs(Getenv): Codex's
	// CODEX_CA_CERTIFICATE / SSL_CERT_FILE on top of the system roots.
	RootCAs *x509.CertPool
	// CASource describes RootCAs when set (shown as Result.CASource).
	CASource string
	// Verbose, if set, receives each request's and response's headers
	// (credentials redacted) and a sanitised body excerpt of at most
	// 8 KiB.
	Verbose io.Writer
}

// EventKind says what an Event reports.
type EventKind int

const (
	AttemptStarted EventKind = iota
	AttemptFinished
	BackoffStarted
)

// Event is live progress of a fetch.
type Event struct {
	Kind    EventKind
	Attempt Attempt       // the attempt concerned (for BackoffStarted: the one that failed)
	Wait    time.Duration // BackoffStarted: how long Codex sleeps
}

// Attempt is the record of one request.
type Attempt struct {
	N           int
	Start       time.Duration // since the fetch began
	Duration    time.Duration
	Status      int    // HTTP status; 0 when no response
	Err         string // "" on success
	Class       string // "ok", "http_status", "transport", "timeout", "body_too_large", "bad_json", "wrong_shape", "unauthorized", "redirect", "no_headers", "canceled"
	ContentType string
	Body        string        // sanitised excerpt of the body on failure
	Backoff     time.Duration // sleep after this attempt; 0 if none
	// Try is Codex's attempt number (1..MaxAttempts) this request belongs
	// to. A request re-sent after a 401 or after a Resend drop shares the
	// number of the one it repeats: Codex does not count it as an attempt.
	Try int
	// Resend marks the bundle generation's first request when it was
	// dropped after 5 s without response headers; Codex re-sends it at once
	// (Class "no_headers").
	Resend bool
	// Retry401 marks a request re-sent after a 401 with the credentials
	// reloaded from auth.json.
	Retry401 bool
	// Location is the redirect target of a 3xx (sanitised); not followed.
	Location string
	// Note explains a special request in one line, e.g. why it was re-sent.
	Note string

	// Trace is what the request met on the network; nil when none was
	// sent.
	Trace *Trace
	// Proxy is the proxy used for this request, password removed; "" when
	// it went direct (or a caller's Client decided). ProxyWhy explains the
	// choice (see ProxyFor); ProxyUsed is set when the request was sent
	// through it.
	Proxy     string
	ProxyWhy  string
	ProxyUsed bool
	// HTML is set when the body was an HTML page; HTMLTitle is its
	// <title>, sanitised ("" when it has none).
	HTML      bool
	HTMLTitle string
	// Kind and Hint are Diagnose's verdict: where the path broke and what
	// to do ("ok" and "" on success).
	Kind string
	Hint string
}

// ErrorCode is Codex's own error code.
type ErrorCode string

const (
	CodeAuth          ErrorCode = "Auth"
	CodeTimeout       ErrorCode = "Timeout"
	CodeParse         ErrorCode = "Parse"
	CodeRequestFailed ErrorCode = "RequestFailed"
	CodeInvalidBundle ErrorCode = "InvalidBundle"
	CodeInternal      ErrorCode = "Internal"
)

// Error is a failed fetch as Codex would report it.
type Error struct {
	Code       ErrorCode
	Message    string // Codex's message
	StatusCode int    // last HTTP status, 0 if none
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Payload is a decoded successful response.
type Payload struct {
	// Requirements generation: the contents string; nil when absent/null.
	Contents *string
	// Bundle generation.
	RequirementsFragments []model.Fragment
	ConfigFragments       []model.Fragment
	// LegacyShape: a bundle request answered with the requirements
	// generation's {"contents": …}; Codex reads it as no requirements.
	LegacyShape bool
}

// Result is the outcome of Do.
type Result struct {
	URL      string
	Timeout  time.Duration
	Elapsed  time.Duration
	Attempts []Attempt
	Payload  *Payload // nil on failure
	Err      *Error   // nil on success
	// CASource says which roots were trusted, e.g. "system roots
	// (CODEX_CA_CERTIFICATE and SSL_CERT_FILE not set)" or
	// "CODEX_CA_CERTIFICATE=/etc/corp.pem (1 certificate, added to the
	// system roots)". CAErr is set when the configured CA file could not be
	// used (the fetch then went on with the system roots, as Codex does).
	CASource string
	CAErr    string
}
