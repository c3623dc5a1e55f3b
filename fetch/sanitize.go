package fetch

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Sanitize makes text from a server or a file safe to show in a terminal
// and keeps it to at most max bytes (max <= 0: no limit). Invalid UTF-8
// becomes U+FFFD; control characters (C0, DEL, C1), bidi overrides and
// invisible separators become visible escapes such as `\x1b` or `\u202e`,
// so no escape sequence (CSI, OSC 52, …) reaches the terminal. Newlines
// are kept; a CR before a newline is dropped. A cut is marked with "…",
// which counts towards max.
func Sanitize(s string, max int) string {
	const ellipsis = "…"
	room := max - len(ellipsis) // bytes left for text when cut
	if max > 0 && room < 1 {
		room = max
	}
	if (max <= 0 || len(s) <= max) && plainText(s) {
		return s // nothing to change: most text is like this
	}
	var b strings.Builder
	b.Grow(min(len(s), max+len(ellipsis)) + 16)
	good := 0 // length of b at the last piece boundary within room
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+size] // the rune as it stands, unless it needs a form
		if r < 0x20 || r == 0x7f || r >= 0x80 && (r <= 0x9f || r == utf8.RuneError || isInvisible(r)) {
			piece = sanitizeRune(s, i, r, size)
		}
		i += size
		if max > 0 && b.Len()+len(piece) > max {
			out := b.String()[:good]
			if good+len(ellipsis) <= max {
				out += ellipsis
			}
			return out
		}
		b.WriteString(piece)
		if b.Len() <= room {
			good = b.Len()
		}
	}
	return b.String()
}

// plainText reports text Sanitize leaves as it is: printable ASCII and
// newlines only.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n') || c >= 0x7f {
			return false
		}
	}
	return true
}

// sanitizeRune returns the display form of the rune r found at s[i:].
func sanitizeRune(s string, i int, r rune, size int) string {
	switch {
	case r == utf8.RuneError && size <= 1:
		return "\uFFFD"
	case r == '\n':
		return "\n"
	case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
		return ""
	case r == '\t':
		return `\t`
	case r == '\r':
		return `\r`
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf(`\x%02x`, r)
	case r >= 0x80 && r <= 0x9f: // C1 controls, e.g. U+009B (CSI)
		return fmt.Sprintf(`\u%04x`, r)
	case isInvisible(r):
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}

// isInvisible reports bidi controls and invisible separators that can
// reorder or hide text on screen.
func isInvisible(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x200b, r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	}
	return false
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// isHTML reports whether a body is an HTML page (proxy, captive portal,
// login or error page) rather than the JSON Codex expects.
func isHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 512)])))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// htmlTitle returns the text of the page's <title>, whitespace collapsed
// and entities decoded; "" when there is none.
func htmlTitle(body []byte) string {
	m := titleRE.FindSubmatch(body[:min(len(body), 64<<10)])
	if m == nil {
		return ""
	}
	return strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " ")
}

// maxExcerpt is the most bytes of a body shown for a failed attempt.
const maxExcerpt = 300

// bodyExcerpt is the sanitised excerpt of a failed response body, at most
// maxExcerpt bytes; an HTML page is named by its title first, since the
// title usually says what answered (a proxy, a login page, a WAF).
func bodyExcerpt(contentType string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if isHTML(contentType, body) {
		title := htmlTitle(body)
		if title == "" {
			title = "(no title)"
		}
		head := "HTML page: " + Sanitize(title, 100)
		rest := maxExcerpt - len(head) - 1
		return head + "\n" + Sanitize(string(body), rest)
	}
	return Sanitize(string(body), maxExcerpt)
}

// RedactHeaders returns a copy of h fit for display: credentials are
// replaced by "<redacted>" — Authorization and Proxy-Authorization keep
// their scheme ("Bearer <redacted>"), Cookie and Set-Cookie and every
// header whose name contains "key", "token", "secret", "password" or
// "session" lose their value. Challenges (WWW-Authenticate,
// Proxy-Authenticate) are kept: they say what a server wants, not a
// secret.
func RedactHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		lk := strings.ToLower(k)
		red := make([]string, len(vs))
		for i, v := range vs {
			switch {
			case lk == "authorization" || lk == "proxy-authorization":
				scheme, _, found := strings.Cut(strings.TrimSpace(v), " ")
				if found && scheme != "" && len(scheme) <= 20 {
					red[i] = scheme + " <redacted>"
				} else {
					red[i] = "<redacted>"
				}
			case lk == "cookie" || lk == "set-cookie" || secretHeaderName(lk):
				red[i] = "<redacted>"
			default:
				red[i] = v
			}
		}
		out[k] = red
	}
	return out
}

func secretHeaderName(lk string) bool {
	for _, w := range []string{"key", "token", "secret", "password", "session"} {
		if strings.Contains(lk, w) {
			return true
		}
	}
	return false
}

// writeHeaders writes h to w, one "prefix Name: value" line each, in
// name order, redacted and sanitised.
func writeHeaders(w io.Writer, prefix string, h http.Header) {
	h = RedactHeaders(h)
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, Sanitize(k, 100), Sanitize(v, 1000))
		}
	}
}
