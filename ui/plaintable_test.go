package ui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/reqdoctor/reqdoctor/fetch"
)

// tableWords are the pieces random cells are made of: ASCII, wide (CJK,
// emoji), combining marks, hyphens, and words longer than any column.
var tableWords = []string{
	"on-request", "never", "read-only", "workspace-write", "a", "", "x",
	"日本語", "Größe", "e\u0301", "🙂", "👩‍💻", "→", "✓", "…", "·",
	"https://mcp.internal.example.com/docs/v1/streamable-http/endpoint",
	"enterprise-managed", "(frag_01)", "--read-only", "ασφάλεια",
}

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for i := range r.IntN(12) {
		switch {
		case i > 0 && r.IntN(6) == 0:
			b.WriteString("\n")
		case i > 0:
			b.WriteString(strings.Repeat(" ", 1+r.IntN(2)))
		}
		b.WriteString(tableWords[r.IntN(len(tableWords))])
	}
	return b.String()
}

// TestPlainTableMatchesLipgloss holds plainTable to lipgloss' bytes for
// tables of 1 to 50 rows of pre-wrapped cells, with both borders and with
// three and four columns.
func TestPlainTableMatchesLipgloss(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	st := PlainStyles()
	for n := 1; n <= 50; n++ {
		for _, border := range []lipgloss.Border{lipgloss.ASCIIBorder(), lipgloss.RoundedBorder()} {
			headers := []string{"field", "allowed", "set by"}
			if n%2 == 0 {
				headers = append(headers, configHeader)
			}
			widths := []int{4 + r.IntN(30), 4 + r.IntN(40), 4 + r.IntN(20), 4 + r.IntN(20)}
			cells := make([][]string, n)
			for i := range cells {
				for j := range headers {
					cells[i] = append(cells[i], wrapCell(randomText(r), widths[j]))
				}
			}
			if !plainCells(headers, cells) {
				t.Fatalf("%d rows: plainCells rejects wrapped cells", n)
			}
			want := lipglossTable(headers, cells, border, st)
			if got := plainTable(headers, cells, border); got != want {
				t.Fatalf("%d rows, border %q: plainTable differs from lipgloss\n got:\n%s\nwant:\n%s", n, border.Top, got, want)
			}
		}
	}
}

func TestPlainTableStyles(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   Styles
		want bool
	}{
		{"plain", PlainStyles(), true},
		{"accessible", AccessibleStyles(), true},
		{"dark", NewStyles(true), false},
		{"light", NewStyles(false), false},
		{"bold header", func() Styles { s := PlainStyles(); s.TableHeader = s.TableHeader.Bold(true); return s }(), false},
		{"wider padding", func() Styles { s := PlainStyles(); s.TableCell = lipgloss.NewStyle().Padding(0, 2); return s }(), false},
	} {
		if got := plainTableStyles(tc.st); got != tc.want {
			t.Errorf("plainTableStyles(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		cell string
		want bool
	}{{"a\nb", true}, {"a\tb", false}, {"a\r\nb", false}, {"\x1b[1ma", false}} {
		if got := plainCells([]string{"h"}, [][]string{{tc.cell}}); got != tc.want {
			t.Errorf("plainCells(%q) = %v, want %v", tc.cell, got, tc.want)
		}
	}
}

// wrapCellReference is wrapCell as it was before it was made linear: the
// new one must wrap every text the same way.
func wrapCellReference(text string, width int) string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && ansi.StringWidth(line)+1+ansi.StringWidth(word) <= width {
				line += " " + word
				continue
			}
			if line != "" {
				out = append(out, line)
			}
			pieces := strings.Split(ansi.Wrap(word, width, ""), "\n")
			out = append(out, pieces[:len(pieces)-1]...)
			line = pieces[len(pieces)-1]
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func TestWrapCellMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		text, width := randomText(r), 1+r.IntN(40)
		if got, want := wrapCell(text, width), wrapCellReference(text, width); got != want {
			t.Fatalf("case %d: wrapCell(%q, %d) = %q, want %q", i, text, width, got, want)
		}
	}
}

// TestRenderPoliciesBigTable checks the drawing of a table far beyond the
// goldens: every line as wide as the first, one row rule per row.
func TestRenderPoliciesBigTable(t *testing.T) {
	req := manyRowsRequirements(2000)
	out := RenderPolicies(policyRows(req), nil, PlainWidth, PlainStyles())
	lines := strings.Split(out, "\n")
	w := ansi.StringWidth(lines[0])
	for i, l := range lines {
		if ansi.StringWidth(l) != w {
			t.Fatalf("line %d is %d wide, want %d: %q", i+1, ansi.StringWidth(l), w, l)
		}
	}
	if got := strings.Count(out, "\n+-"); got != 2000+1 {
		t.Errorf("%d rules below the top, want %d", got, 2000+1)
	}
	if !strings.Contains(out, fmt.Sprintf("| %-17s |", "bench_field_01999")) {
		t.Error("the last row is missing")
	}
}

// TestCleanTextFastPath: the ASCII shortcut of cleanText says exactly
// what fetch.Sanitize says.
func TestCleanTextFastPath(t *testing.T) {
	for _, s := range []string{"", "plain text", "two\nlines", "tab\there", "cr\r\nlf", "esc\x1b[31m", "del\x7f",
		"\u202eevil", "caf\u00e9", "\xff bad", "\n", "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./"} {
		if got, want := cleanText(s), fetch.Sanitize(s, 0); got != want {
			t.Errorf("cleanText(%q) = %q, want fetch.Sanitize's %q", s, got, want)
		}
	}
}
