package model

import (
	"path/filepath"
	"regexp"
	"strings"
)

// Redactor masks text meant to be shared (a report pasted into a ticket).
// Secrets are masked always: anything that looks like a JWT, a bearer
// token, an OpenAI key, or the value of an Authorization, Cookie or
// token/key parameter. With redaction on it also shows the home directory
// as ~, e-mail addresses as "j***@example.com" and user and account ids
// as "…" and their last 4 characters. Fragment ids and policy names are
// kept: they are what an admin needs to find the policy.
type Redactor struct {
	home string
	on   bool
}

// NewRedactor returns a Redactor for the user's home directory home ("" or
// "/" for none). on is false for --no-redact: paths, e-mails and ids stay,
// secrets are still masked.
func NewRedactor(home string, on bool) *Redactor {
	home = filepath.Clean(home)
	if home == "." || home == string(filepath.Separator) {
		home = ""
	}
	return &Redactor{home: home, on: on}
}

// On says whether e-mails, ids and the home directory are masked.
func (r *Redactor) On() bool { return r != nil && r.on }

var (
	// jwtPattern is three base64url parts, the first a JSON header
	// ("eyJ" is `{"` encoded).
	jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	// bearerPattern keeps the scheme, as HTTP traces conventionally do.
	bearerPattern = regexp.MustCompile(`(?i)\b(bearer|basic) +[A-Za-z0-9._~+/=-]+`)
	// keyPattern is an OpenAI-style key: its type prefix stays.
	keyPattern = regexp.MustCompile(`\b(sk-(?:proj-|svcacct-|admin-)?)[A-Za-z0-9_-]{12,}`)
	// headerPattern is a credential header or parameter and its value, up
	// to the end of the line or table cell.
	headerPattern = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization|set-cookie|cookie|x-api-key)(\s*[:=]\s*)[^\n|]+`)
	// paramPattern is a token or key in a query string, form or JSON.
	paramPattern = regexp.MustCompile(`(?i)\b(access_token|refresh_token|id_token|api_key|apikey|client_secret|password|OPENAI_API_KEY|CODEX_API_KEY)("?\s*[:=]\s*"?)[^\s"&,;|]+`)

	emailPattern = regexp.MustCompile(`\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b`)
	// idPattern is a ChatGPT user, account or organisation id.
	idPattern   = regexp.MustCompile(`\b(?:user|acct|account|org)-[A-Za-z0-9_-]{4,}`)
	uuidPattern = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
)

// String returns s with secrets masked and, when redaction is on, the home
// directory, e-mail addresses and ids masked too.
func (r *Redactor) String(s string) string {
	s = jwtPattern.ReplaceAllString(s, "[redacted JWT]")
	s = headerPattern.ReplaceAllString(s, "${1}${2}[redacted]")
	s = paramPattern.ReplaceAllString(s, "${1}${2}[redacted]")
	s = bearerPattern.ReplaceAllString(s, "${1} [redacted]")
	s = keyPattern.ReplaceAllString(s, "${1}[redacted]")
	if !r.On() {
		return s
	}
	s = r.replaceHome(s)
	s = emailPattern.ReplaceAllString(s, "${1}***@${2}")
	s = idPattern.ReplaceAllStringFunc(s, func(id string) string {
		// "user-agent" and the like are words, not ids: an id has a digit.
		if !strings.ContainsAny(id, "0123456789") {
			return id
		}
		return lastFour(id)
	})
	return uuidPattern.ReplaceAllStringFunc(s, lastFour)
}

// lastFour is "…" and the last 4 characters of id.
func lastFour(id string) string {
	return "…" + id[len(id)-4:]
}

// replaceHome writes the home directory as ~ where it is a whole path
// prefix: /home/dev/x and /home/dev become ~/x and ~, /home/devon stays.
func (r *Redactor) replaceHome(s string) string {
	if r.home == "" {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, r.home)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(r.home)
		whole := end == len(s) || !isPathChar(s[end])
		if i > 0 && (isPathChar(s[i-1]) || s[i-1] == '/') {
			whole = false // inside a longer path: /srv/home/dev
		}
		b.WriteString(s[:i])
		if whole {
			b.WriteString("~")
		} else {
			b.WriteString(r.home)
		}
		s = s[end:]
	}
}

// isPathChar says whether c can continue a file name; '/' ends one.
func isPathChar(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
