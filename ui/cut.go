package ui

import (
	"unicode/utf8"
)

// cutMargin is how many cells past what is shown a cut text keeps, so the
// grapheme clusters up to the shown part are the same as in the whole.
const cutMargin = 8

// cutCell is a prefix of text that ansi.Truncate(…, width, tail) cuts the
// same as text: the TUI cuts cells and detail lines to the window, and a
// policy value can be a MiB. Short texts come back whole.
func cutCell(text string, width int) string {
	need := max(width, 0) + cutMargin
	for n := 4 * need; n < len(text); n *= 2 {
		if p := runePrefix(text, n); textWidth(p) >= need {
			return p
		}
	}
	return text
}

// wrapPrefix is a prefix of text whose first limit lines wrapHanging
// (after a prefix pw cells wide, to width) wraps as it wraps text: the
// detail lines show at most limit lines of a value that can be a MiB.
// The cut may change only the line it falls in and the one before, so the
// prefix keeps two lines more.
func wrapPrefix(text string, pw, limit, width int) string {
	if width <= 0 {
		return text
	}
	for n := 2 * (limit + 2) * (width + 1); n < len(text); n *= 2 {
		if p := runePrefix(text, n); wrapCount(pw, p, width) >= limit+2 {
			return p
		}
	}
	return text
}

// runePrefix is text cut to at most n bytes at a rune boundary.
func runePrefix(text string, n int) string {
	if n >= len(text) {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n]
}
