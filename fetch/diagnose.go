package fetch

import (
	"fmt"
	"net/http"
	"strings"
)

// Kinds of Diagnose: where the path to the server broke.
const (
	KindOK                  = "ok"
	KindDNS                 = "dns"
	KindRefused             = "refused"
	KindConnectTimeout      = "connect_timeout"
	KindUnreachable         = "unreachable"
	KindTLSUnknownAuthority = "tls_unknown_authority"
	KindTLSOther            = "tls_other"
	KindProxyAuth           = "proxy_auth"
	KindProxyConnect        = "proxy_connect"
	KindHTML                = "html"
	KindHTTPStatus          = "http_status"
	KindUnauthorized        = "unauthorized"
	KindBadBody             = "bad_body" // a 2xx whose body is not what Codex expects
	KindReset               = "reset"
	KindTimeout             = "timeout"
	KindCanceled            = "canceled"
	KindOther               = "other"
)

// Diagnose classifies an attempt by where the path broke and gives a
// one-line hint for the user or their IT. It reads only the attempt's
// record (Class, Status, Trace, proxy, body), so it also works on stored
// attempts. The hint never holds a secret: every part of it was
// sanitised when recorded.
func Diagnose(a Attempt) (kind, hint string) {
	t := a.Trace
	if t == nil {
		t = &Trace{}
	}
	via := ""
	if a.ProxyUsed && a.Proxy != "" {
		via = " (through the proxy " + a.Proxy + ")"
	}
	switch a.Class {
	case "ok":
		return KindOK, ""
	case "canceled":
		return KindCanceled, ""
	}

	// The proxy's answers come first: they explain everything after.
	if a.Status == http.StatusProxyAuthRequired || t.ProxyStatus == http.StatusProxyAuthRequired {
		return KindProxyAuth, proxyAuthHint(a, t)
	}
	if t.ProxyStatus != 0 && t.ProxyStatus != http.StatusOK {
		return KindProxyConnect, fmt.Sprintf("the proxy %s refused to open a tunnel to the server (HTTP %d): it may block this host; ask IT to allow it, or check NO_PROXY", orUnknown(a.Proxy), t.ProxyStatus)
	}

	switch a.Class {
	case "timeout", "no_headers":
		return diagnoseStall(a, t, via)
	case "unauthorized":
		return KindUnauthorized, "the server rejected the login (HTTP 401): run `codex login` again"
	}

	if a.Status != 0 && a.Class != "transport" {
		if a.HTML {
			return KindHTML, htmlHint(a)
		}
		if a.Status >= 200 && a.Status <= 299 {
			return KindBadBody, "the server answered " + fmt.Sprint(a.Status) + " but not with what Codex expects; see the body excerpt"
		}
		return KindHTTPStatus, statusHint(a.Status)
	}

	// No response: a transport failure.
	switch {
	case t.DNSErr != "":
		host := orUnknown(t.DNSHost)
		if a.ProxyUsed {
			return KindDNS, "cannot resolve the proxy's name " + host + ": check the proxy address in the proxy variables, DNS or the VPN"
		}
		return KindDNS, "cannot resolve " + orUnknown(t.Host) + ": check the host name (chatgpt_base_url), your DNS, or connect the VPN"
	case t.ConnectErr != "" && a.ProxyUsed:
		return KindProxyConnect, fmt.Sprintf("cannot reach the proxy %s (%s): check HTTPS_PROXY/HTTP_PROXY and that the proxy runs", orUnknown(a.Proxy), orUnknown(t.ConnectProblem))
	case t.ConnectProblem == "refused":
		return KindRefused, "connection refused at " + orUnknown(t.ConnectAddr) + ": nothing listens there — wrong port, or a firewall rejects it"
	case t.ConnectProblem == "timeout":
		return KindConnectTimeout, "timed out connecting to " + orUnknown(t.ConnectAddr) + ": a firewall drops the packets, or a VPN/proxy is needed"
	case t.ConnectProblem == "unreachable":
		return KindUnreachable, "no route to " + orUnknown(t.ConnectAddr) + ": check the network or VPN"
	case t.TLSProblem == "unknown_authority":
		return KindTLSUnknownAuthority, unknownAuthorityHint(t)
	case t.TLSProblem != "":
		return KindTLSOther, tlsOtherHint(a, t)
	case t.ConnectErr != "":
		return KindOther, "cannot connect to " + orUnknown(t.ConnectAddr) + ": " + t.ConnectErr
	}
	if isResetText(a.Err) {
		return KindReset, "the connection was cut" + via + " before a complete answer: a proxy, firewall or load balancer may drop it; try again, or check with IT"
	}
	return KindOther, ""
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func isResetText(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"reset", "closed the connection", "eof", "broken pipe", "server closed"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// diagnoseStall explains a timeout by the phase the request was in.
func diagnoseStall(a Attempt, t *Trace, via string) (string, string) {
	switch t.Phase {
	case "dns":
		return KindDNS, "the name lookup of " + orUnknown(t.DNSHost) + " never finished: the DNS server does not answer; check DNS or the VPN"
	case "connect":
		if a.ProxyUsed {
			return KindProxyConnect, "the proxy " + orUnknown(a.Proxy) + " did not accept the connection in time"
		}
		return KindConnectTimeout, "no answer while connecting to " + orUnknown(t.ConnectAddr) + ": a firewall drops the packets, or a VPN/proxy is needed"
	case "proxy":
		return KindProxyConnect, "the proxy " + orUnknown(a.Proxy) + " accepted the connection but never answered CONNECT"
	case "tls":
		return KindTimeout, "the TLS handshake with " + orUnknown(t.ConnectAddr) + " stalled" + via + ": something between you and the server holds TLS (a filtering proxy or firewall)"
	case "body":
		return KindTimeout, "the server sent its headers but the body came too slowly" + via + ""
	}
	if a.Class == "no_headers" {
		return KindTimeout, "no response headers in time" + via + "; Codex drops the request and sends it again"
	}
	return KindTimeout, "the request was sent" + via + " but no answer came before the deadline: the server or a proxy holds it"
}

func proxyAuthHint(a Attempt, t *Trace) string {
	h := "the proxy wants credentials (HTTP 407): set them in HTTPS_PROXY=http://user:pass@host:port, or ask IT"
	ch := strings.ToLower(t.ProxyAuthenticate)
	if ch != "" && !strings.Contains(ch, "basic") {
		h = "the proxy wants " + t.ProxyAuthenticate + " authentication (HTTP 407), which Codex cannot do; only Basic credentials in the proxy URL work — ask IT for a proxy or exception that takes Basic or none"
	} else if strings.Contains(a.Proxy, "@") {
		h = "the proxy rejected the credentials in the proxy URL (HTTP 407): check the user name and password in HTTPS_PROXY, or ask IT"
	}
	return h
}

func htmlHint(a Attempt) string {
	title := a.HTMLTitle
	if title == "" {
		title = "(no title)"
	}
	return fmt.Sprintf("an HTML page (%q) answered with HTTP %d where JSON was expected: likely a proxy, captive portal or SSO login page — open the URL in a browser on this network, or ask IT", title, a.Status)
}

func statusHint(status int) string {
	switch {
	case status == http.StatusForbidden:
		return "HTTP 403: the server or a gateway refuses this account or network; check the workspace and that the plan has cloud requirements"
	case status == http.StatusNotFound:
		return "HTTP 404: the URL is wrong for this server — check chatgpt_base_url"
	case status == http.StatusTooManyRequests:
		return "HTTP 429: rate limited; wait and try again"
	case status >= 500:
		return fmt.Sprintf("HTTP %d: the server (or a gateway) failed; try again later", status)
	case status >= 300 && status <= 399:
		return fmt.Sprintf("HTTP %d: a redirect Codex cannot follow", status)
	}
	return fmt.Sprintf("the server answered HTTP %d", status)
}

func unknownAuthorityHint(t *Trace) string {
	issuer := "an unknown issuer"
	if t.Cert != nil && t.Cert.Issuer != "" {
		issuer = "“" + t.Cert.Issuer + "”"
	}
	return "the certificate is signed by " + issuer + ", which this machine does not trust — likely a TLS-inspecting proxy; trust its CA: export CODEX_CA_CERTIFICATE=/path/to/corp-ca.pem (Codex reads it, then SSL_CERT_FILE)"
}

func tlsOtherHint(a Attempt, t *Trace) string {
	switch t.TLSProblem {
	case "expired":
		if t.Cert != nil {
			return fmt.Sprintf("the server's certificate (%s) expired or is not yet valid: valid until %s; check the machine's clock, or the server must renew it", t.Cert.Subject, t.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST"))
		}
		return "the server's certificate expired or is not yet valid; check the machine's clock"
	case "name_mismatch":
		host := orUnknown(t.Host)
		if t.Cert != nil && len(t.Cert.DNSNames) > 0 {
			return "the certificate is for " + strings.Join(t.Cert.DNSNames, ", ") + ", not for the host requested (" + host + "): check chatgpt_base_url, or a proxy answers in the server's place"
		}
		return "the certificate does not name the host requested: check chatgpt_base_url"
	case "not_tls":
		return "the server at " + orUnknown(t.ConnectAddr) + " does not speak TLS: is the URL https:// where it should be http://, or the port wrong?"
	}
	return "the TLS handshake failed: " + orUnknown(t.TLSErr)
}
