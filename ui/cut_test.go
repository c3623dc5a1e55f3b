package ui

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/reqdoctor/reqdoctor/model"
)

// longText is n bytes or more of randomText.
func longText(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(randomText(r))
		b.WriteString(" ")
	}
	return b.String()
}

func TestCutCellCutsTheSame(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		text, w := longText(r, r.IntN(3000)), 1+r.IntN(150)
		if got, want := ansi.Truncate(cutCell(text, w), w, "…"), ansi.Truncate(text, w, "…"); got != want {
			t.Fatalf("case %d, width %d: cut %q, want %q", i, w, got, want)
		}
	}
	if got := len(cutCell(strings.Repeat("x", 1<<20), 80)); got > 4096 {
		t.Errorf("cutCell kept %d bytes of a MiB for 80 cells", got)
	}
}

func TestWrapPrefixWrapsTheSame(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 2000 {
		text, w, limit := longText(r, r.IntN(4000)), 10+r.IntN(140), 1+r.IntN(6)
		prefix := strings.Repeat("p", r.IntN(30)) + ": "
		pw := ansi.StringWidth(prefix)
		got := wrapHanging(prefix, wrapPrefix(text, pw, limit, w), w, PlainStyles().Summary)
		want := wrapHanging(prefix, text, w, PlainStyles().Summary)
		if (len(got) > limit) != (len(want) > limit) {
			t.Fatalf("case %d: %d lines from the prefix, %d from the whole, limit %d", i, len(got), len(want), limit)
		}
		n := min(limit, len(want))
		if strings.Join(got[:n], "\n") != strings.Join(want[:n], "\n") {
			t.Fatalf("case %d (width %d): prefix wraps\n%s\nwhole wraps\n%s", i, w, strings.Join(got[:n], "\n"), strings.Join(want[:n], "\n"))
		}
		if c := wrapCount(pw, text, w); c != len(want) {
			t.Fatalf("case %d: wrapCount %d, wrapHanging %d lines", i, c, len(want))
		}
	}
}

// TestMaxDetailHeight: the cached, shortcut height is the tallest
// detailLines, at every width and compaction, with and without the config
// column.
func TestMaxDetailHeight(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for round := range 30 {
		var rows []model.PolicyRow
		var cfg []string
		for i := range 1 + r.IntN(8) {
			rows = append(rows, model.PolicyRow{Field: strings.Repeat("f", 1+r.IntN(20)), Value: longText(r, r.IntN(600)),
				SetBy: "enterprise-managed requirements policy " + strings.Repeat("s", r.IntN(30))})
			c := ""
			if round%2 == 0 && i%2 == 0 {
				c = longText(r, r.IntN(200))
			}
			cfg = append(cfg, c)
		}
		m := NewModel(nil, Options{Styles: ptr(PlainStyles())})
		m.finished, m.rows = true, rows
		if round%2 == 0 {
			m.cfg = cfg
		}
		m.texts = rowTexts(rows)
		m.details = &detailCache{height: map[int]int{}}
		for _, w := range []int{30, 45, 80, 120} {
			m.width = w
			for c := compactNone; c <= compactMax; c++ {
				m.compact = c
				want := 1
				for i := range rows {
					want = max(want, len(m.detailLines(i)))
				}
				for range 2 { // computed, then cached
					if got := m.maxDetailHeight(); got != want {
						t.Fatalf("round %d, width %d, compact %d: maxDetailHeight %d, want %d", round, w, c, got, want)
					}
				}
			}
		}
		m.cancel()
	}
}

func ptr[T any](v T) *T { return &v }
