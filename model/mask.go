package model

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// secretPrefixes are type prefixes safe to show; longest first.
var secretPrefixes = []string{"sk-svcacct-", "sk-admin-", "sk-proj-", "sk-"}

// MaskSecret renders a secret for display: its type prefix (an OpenAI key
// prefix such as "sk-", or "JWT" for a token starting with "eyJ"), "…" and
// its last 4 characters, never more. Secrets shorter than 16 characters
// show no tail at all, only their length.
func MaskSecret(s string) string {
	if s == "" {
		return "(empty)"
	}
	prefix := ""
	if strings.HasPrefix(s, "eyJ") {
		prefix = "JWT"
	} else {
		for _, p := range secretPrefixes {
			if strings.HasPrefix(s, p) {
				prefix = p
				break
			}
		}
	}
	n := utf8.RuneCountInString(s)
	if n < 16 {
		return fmt.Sprintf("%s…(%d chars)", prefix, n)
	}
	r := []rune(s)
	return prefix + "…" + string(r[len(r)-4:])
}
