// Package ui is reqdoctor's presentation: the interactive Bubble Tea view,
// the plain-text renderer and the JSON encoder, all over doctor's Report and
// Events. The stage, attempt, policy and summary renderers are shared by the
// TUI and plain mode so both say exactly the same thing.
package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles is every style the views use, built once. A zero lipgloss.Style
// renders its input unchanged, which is what PlainStyles relies on.
type Styles struct {
	// ASCII asks for ASCII-only decoration (table borders) for output that
	// may be pasted into tickets or read by a screen reader.
	ASCII bool
	// Words shows a verdict as a word alone ("OK", "WARN", "FAIL",
	// "SKIPPED") instead of a glyph and a word, and hints as "hint:",
	// for screen readers (--accessible).
	Words bool
	// Dark says which background the colours were chosen for.
	Dark bool

	Title      lipgloss.Style
	OK         lipgloss.Style
	Warn       lipgloss.Style
	Fail       lipgloss.Style
	Skipped    lipgloss.Style
	Running    lipgloss.Style
	Pending    lipgloss.Style
	StageTitle lipgloss.Style
	Summary    lipgloss.Style
	DetailKey  lipgloss.Style
	Hint       lipgloss.Style
	Dim        lipgloss.Style
	Verdict    lipgloss.Style // the final verdict when Codex would start
	VerdictBad lipgloss.Style // the final verdict when it would not

	TableHeader   lipgloss.Style
	TableCell     lipgloss.Style
	TableSelected lipgloss.Style
	TableBorder   lipgloss.Style

	Help help.Styles
}

// DefaultStyles is the coloured look of the TUI for a dark background,
// used until the terminal says which background it has.
func DefaultStyles() Styles { return NewStyles(true) }

// NewStyles is the coloured look of the TUI for a dark or light
// background. On dark backgrounds it uses the 16 ANSI colours, so the
// terminal theme decides the exact shades; on light ones, yellow and cyan
// text and faint grey are hard to read, so it uses darker 256-colour
// shades instead. Bubble Tea downsamples further when colours are off.
func NewStyles(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	green := ld(lipgloss.Color("28"), lipgloss.Green)    // #008700
	yellow := ld(lipgloss.Color("130"), lipgloss.Yellow) // #af5f00
	red := ld(lipgloss.Color("160"), lipgloss.Red)       // #d70000
	cyan := ld(lipgloss.Color("25"), lipgloss.Cyan)      // #005faf
	faint := lipgloss.NewStyle().Faint(true)
	if !isDark {
		// Faint grey on white fades out; a mid grey stays legible.
		faint = lipgloss.NewStyle().Foreground(lipgloss.Color("241"))
	}
	return Styles{
		Dark:       isDark,
		Title:      lipgloss.NewStyle().Bold(true),
		OK:         lipgloss.NewStyle().Foreground(green).Bold(true),
		Warn:       lipgloss.NewStyle().Foreground(yellow).Bold(true),
		Fail:       lipgloss.NewStyle().Foreground(red).Bold(true),
		Skipped:    faint,
		Running:    lipgloss.NewStyle().Foreground(cyan),
		Pending:    faint,
		StageTitle: lipgloss.NewStyle().Bold(true),
		Summary:    lipgloss.NewStyle(),
		DetailKey:  faint,
		Hint:       lipgloss.NewStyle().Foreground(yellow),
		Dim:        faint,
		Verdict:    lipgloss.NewStyle().Foreground(green).Bold(true),
		VerdictBad: lipgloss.NewStyle().Foreground(red).Bold(true),

		TableHeader:   lipgloss.NewStyle().Bold(true).Padding(0, 1),
		TableCell:     lipgloss.NewStyle().Padding(0, 1),
		TableSelected: lipgloss.NewStyle().Reverse(true),
		TableBorder:   faint,

		Help: help.Styles{
			Ellipsis:       faint,
			ShortKey:       lipgloss.NewStyle().Bold(true),
			ShortDesc:      faint,
			ShortSeparator: faint,
			FullKey:        lipgloss.NewStyle().Bold(true),
			FullDesc:       faint,
			FullSeparator:  faint,
		},
	}
}

// PlainStyles adds no escape codes at all: for plain mode, pipes, NO_COLOR
// and stable golden files.
func PlainStyles() Styles {
	cell := lipgloss.NewStyle().Padding(0, 1)
	return Styles{
		ASCII:       true,
		TableHeader: cell,
		TableCell:   cell,
	}
}

// AccessibleStyles is PlainStyles for screen readers and braille
// displays: verdicts as words, ASCII only (see asciiReplacer).
func AccessibleStyles() Styles {
	st := PlainStyles()
	st.Words = true
	return st
}
