package fetch

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain", "hello", 0, "hello"},
		{"CSI colour", "\x1b[31mred\x1b[0m", 0, `\x1b[31mred\x1b[0m`},
		{"OSC 52 clipboard", "\x1b]52;c;ZXZpbA==\x07", 0, `\x1b]52;c;ZXZpbA==\x07`},
		{"OSC 8 with ST", "\x1b]8;;http://x\x1b\\link", 0, `\x1b]8;;http://x\x1b\link`},
		{"C1 CSI", "a\u009b31mb", 0, `a\u009b31mb`},
		{"C1 OSC", "\u009d0;title\u009c", 0, `\u009d0;title\u009c`},
		{"bidi override", "user\u202eexe.txt", 0, `user\u202eexe.txt`},
		{"bidi isolates", "\u2066a\u2069\u200f", 0, `\u2066a\u2069\u200f`},
		{"zero width and BOM", "\ufeffa\u200bb", 0, `\ufeffa\u200bb`},
		{"invalid UTF-8", "a\xffb\xc3", 0, "a\uFFFDb\uFFFD"},
		{"newline kept", "a\nb", 0, "a\nb"},
		{"CRLF becomes LF", "a\r\nb", 0, "a\nb"},
		{"lone CR", "a\rb", 0, `a\rb`},
		{"tab and NUL and DEL", "a\tb\x00c\x7f", 0, `a\tb\x00c\x7f`},
		{"backspace", "ab\bc", 0, `ab\x08c`},
		{"fits exactly", "hello", 5, "hello"},
		{"cut with ellipsis", "hello world", 8, "hello…"},
		{"escape not split", "\x1b\x1b\x1b", 10, `\x1b…`},
		{"rune not split", "ééééé", 6, "é…"},
		{"tiny max", "hello", 2, "he"},
		{"emoji kept", "ok 👍", 0, "ok 👍"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Sanitize(tc.in, tc.max)
			if got != tc.want {
				t.Fatalf("Sanitize(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			checkSafe(t, got, tc.max)
		})
	}
}

// checkSafe asserts what every Sanitize output must satisfy.
func checkSafe(t *testing.T, s string, max int) {
	t.Helper()
	if max > 0 && len(s) > max {
		t.Fatalf("%q is %d bytes, max %d", s, len(s), max)
	}
	if !utf8.ValidString(s) {
		t.Fatalf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || isInvisible(r) {
			t.Fatalf("%q contains %U", s, r)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("\x1b]52;c;ZXZpbA==\x07\u009b\u202e\xff", 40)
	f.Add("plain text", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1000 {
			max = 0
		}
		checkSafe(t, Sanitize(s, max), max)
	})
}

func TestBodyExcerpt(t *testing.T) {
	html := readFixture(t, "decode", "html_page.html")
	got := bodyExcerpt("text/html; charset=utf-8", html)
	if !strings.HasPrefix(got, "HTML page: Just a moment...\n<!DOCTYPE html>") {
		t.Fatalf("excerpt = %q", got)
	}
	// Sniffed without a content type, title entities decoded, escapes shown.
	got = bodyExcerpt("", []byte("  <html><TITLE>\n Access &amp; \x1b[2J denied </TITLE></html>"))
	if !strings.HasPrefix(got, `HTML page: Access & \x1b[2J denied`) {
		t.Fatalf("excerpt = %q", got)
	}
	long := bodyExcerpt("text/html", []byte("<html><title>T</title>"+strings.Repeat("x", 1000)))
	if len(long) > maxExcerpt {
		t.Fatalf("excerpt is %d bytes, want ≤ %d", len(long), maxExcerpt)
	}
	if got := bodyExcerpt("application/json", []byte(strings.Repeat("y", 1000))); len(got) != maxExcerpt || !strings.HasSuffix(got, "…") {
		t.Fatalf("excerpt is %d bytes (%q…), want %d ending in …", len(got), got[:10], maxExcerpt)
	}
	if got := bodyExcerpt("text/html", []byte("<html>no title")); !strings.HasPrefix(got, "HTML page: (no title)\n") {
		t.Fatalf("excerpt = %q", got)
	}
}
