package fetch

import (
	"strings"
	"testing"
	"time"
)

func TestDiagnose(t *testing.T) {
	cert := &CertInfo{Subject: "CN=chatgpt.com", Issuer: "CN=Zscaler Intermediate Root CA", NotAfter: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), DNSNames: []string{"chatgpt.com"}}
	for _, tc := range []struct {
		name string
		a    Attempt
		kind string
		hint string // substring; "" means the hint must be empty
	}{
		{"ok", Attempt{Class: "ok", Status: 200}, KindOK, ""},
		{"canceled", Attempt{Class: "canceled"}, KindCanceled, ""},
		{"dns", Attempt{Class: "transport", Trace: &Trace{Host: "chatgpt.corp", DNSHost: "chatgpt.corp", DNSErr: "no such host"}}, KindDNS, "cannot resolve chatgpt.corp"},
		{"dns of the proxy", Attempt{Class: "transport", ProxyUsed: true, Proxy: "http://px:1", Trace: &Trace{Host: "chatgpt.com", DNSHost: "px", DNSErr: "no such host"}}, KindDNS, "the proxy's name px"},
		{"dns hangs", Attempt{Class: "timeout", Trace: &Trace{Phase: "dns", DNSHost: "chatgpt.com"}}, KindDNS, "never finished"},
		{"refused", Attempt{Class: "transport", Trace: &Trace{ConnectAddr: "10.0.0.1:443", ConnectErr: "refused", ConnectProblem: "refused"}}, KindRefused, "nothing listens there"},
		{"connect timeout error", Attempt{Class: "transport", Trace: &Trace{ConnectAddr: "10.0.0.1:443", ConnectErr: "i/o timeout", ConnectProblem: "timeout"}}, KindConnectTimeout, "firewall drops the packets"},
		{"connect stalls until the deadline", Attempt{Class: "timeout", Trace: &Trace{Phase: "connect", ConnectAddr: "10.0.0.1:443"}}, KindConnectTimeout, "10.0.0.1:443"},
		{"no headers while connecting", Attempt{Class: "no_headers", Trace: &Trace{Phase: "connect", ConnectAddr: "10.0.0.1:443"}}, KindConnectTimeout, "firewall"},
		{"unreachable", Attempt{Class: "transport", Trace: &Trace{ConnectAddr: "10.0.0.1:443", ConnectErr: "x", ConnectProblem: "unreachable"}}, KindUnreachable, "no route"},
		{"unknown authority", Attempt{Class: "transport", Trace: &Trace{TLSProblem: "unknown_authority", Cert: cert}}, KindTLSUnknownAuthority, "“CN=Zscaler Intermediate Root CA”"},
		{"expired", Attempt{Class: "transport", Trace: &Trace{TLSProblem: "expired", Cert: cert}}, KindTLSOther, "valid until 2025-01-02"},
		{"name mismatch", Attempt{Class: "transport", Trace: &Trace{Host: "chatgpt.corp", TLSProblem: "name_mismatch", Cert: cert}}, KindTLSOther, "for chatgpt.com, not for the host requested (chatgpt.corp)"},
		{"tls stalls", Attempt{Class: "timeout", Trace: &Trace{Phase: "tls", ConnectAddr: "1.2.3.4:443"}}, KindTimeout, "TLS handshake"},
		{"407 plain", Attempt{Class: "http_status", Status: 407}, KindProxyAuth, "HTTPS_PROXY=http://user:pass@host:port"},
		{"407 with credentials", Attempt{Class: "transport", Proxy: "http://me@px:1", ProxyUsed: true, Trace: &Trace{ProxyStatus: 407, ProxyAuthenticate: "Basic realm=x"}}, KindProxyAuth, "rejected the credentials"},
		{"407 NTLM", Attempt{Class: "transport", Trace: &Trace{ProxyStatus: 407, ProxyAuthenticate: "NTLM"}}, KindProxyAuth, "NTLM authentication"},
		{"CONNECT refused", Attempt{Class: "transport", Proxy: "http://px:1", ProxyUsed: true, Trace: &Trace{ProxyStatus: 403}}, KindProxyConnect, "refused to open a tunnel"},
		{"proxy never answers CONNECT", Attempt{Class: "timeout", Proxy: "http://px:1", ProxyUsed: true, Trace: &Trace{Phase: "proxy"}}, KindProxyConnect, "never answered CONNECT"},
		{"proxy down", Attempt{Class: "transport", Proxy: "http://px:1", ProxyUsed: true, Trace: &Trace{ConnectErr: "refused", ConnectProblem: "refused"}}, KindProxyConnect, "cannot reach the proxy http://px:1"},
		{"html 403", Attempt{Class: "http_status", Status: 403, HTML: true, HTMLTitle: "Blocked"}, KindHTML, `"Blocked"`},
		{"html 200", Attempt{Class: "bad_json", Status: 200, HTML: true}, KindHTML, "(no title)"},
		{"403 json", Attempt{Class: "http_status", Status: 403}, KindHTTPStatus, "HTTP 403"},
		{"404", Attempt{Class: "http_status", Status: 404}, KindHTTPStatus, "chatgpt_base_url"},
		{"503", Attempt{Class: "http_status", Status: 503}, KindHTTPStatus, "try again later"},
		{"401", Attempt{Class: "unauthorized", Status: 401}, KindUnauthorized, "codex login"},
		{"bad json", Attempt{Class: "bad_json", Status: 200}, KindBadBody, "not with what Codex expects"},
		{"reset", Attempt{Class: "transport", Status: 200, Err: "connection reset by the server: read: connection reset by peer"}, KindReset, "connection was cut"},
		{"eof", Attempt{Class: "transport", Err: "the server closed the connection without a complete answer: EOF"}, KindReset, "connection was cut"},
		{"waiting", Attempt{Class: "timeout", Trace: &Trace{Phase: "wait"}}, KindTimeout, "no answer came"},
		{"slow body", Attempt{Class: "timeout", Status: 200, Trace: &Trace{Phase: "body"}}, KindTimeout, "too slowly"},
		{"no trace at all", Attempt{Class: "transport", Err: "something odd"}, KindOther, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, hint := Diagnose(tc.a)
			if kind != tc.kind {
				t.Fatalf("kind = %q (hint %q), want %q", kind, hint, tc.kind)
			}
			if tc.hint == "" && hint != "" || !strings.Contains(hint, tc.hint) {
				t.Fatalf("hint = %q, want …%q…", hint, tc.hint)
			}
		})
	}
}
