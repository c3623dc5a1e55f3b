package ui

import (
	"reflect"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// plainCellStyle is the only header and cell style plainTable draws: one
// space of padding on either side, nothing else.
var plainCellStyle = lipgloss.NewStyle().Padding(0, 1)

// plainTableStyles says whether st draws the table without any escape
// code, so plainTable can stand in for lipgloss' table.
func plainTableStyles(st Styles) bool {
	return reflect.DeepEqual(st.TableBorder, lipgloss.Style{}) &&
		reflect.DeepEqual(st.TableHeader, plainCellStyle) &&
		reflect.DeepEqual(st.TableCell, plainCellStyle)
}

// plainCells says whether every cell is text plainTable measures the way
// lipgloss does: no tab (lipgloss expands it), carriage return or escape.
func plainCells(headers []string, rows [][]string) bool {
	for _, h := range headers {
		if strings.ContainsAny(h, "\t\r\x1b\n") {
			return false
		}
	}
	for _, r := range rows {
		if len(r) != len(headers) {
			return false
		}
		for _, c := range r {
			if strings.ContainsAny(c, "\t\r\x1b") {
				return false
			}
		}
	}
	return true
}

// plainTable draws headers and rows the way lipgloss' table does with
// border b, unstyled borders, a header and a row separator, cells padded by
// one space and no table width: each column as wide as its widest line,
// each row as tall as its tallest cell. The cells must already fit their
// columns (RenderPolicies wraps them first). lipgloss measures every line
// many times over, which takes seconds for a table of tens of thousands of
// lines; this is linear in the output. plainTable_test.go holds the two to
// the same bytes.
func plainTable(headers []string, rows [][]string, b lipgloss.Border) string {
	n := len(headers)
	widths := make([]int, n)
	for j, h := range headers {
		widths[j] = textWidth(h)
	}
	lines := make([][][]string, len(rows))
	lineWidths := make([][][]int, len(rows))
	size := 0
	for i, r := range rows {
		lines[i] = make([][]string, n)
		lineWidths[i] = make([][]int, n)
		for j, c := range r {
			ls := strings.Split(c, "\n")
			ws := make([]int, len(ls))
			for k, l := range ls {
				ws[k] = textWidth(l)
				widths[j] = max(widths[j], ws[k])
			}
			lines[i][j], lineWidths[i][j] = ls, ws
			size += len(c)
		}
	}
	total := len(b.Left) + len(b.Right) + (n-1)*len(b.Left)
	for j := range widths {
		widths[j] += 2 // the padding
		total += widths[j]
	}

	var sb strings.Builder
	sb.Grow(size + total*(2*len(rows)+4))
	rule := func(left, fill, mid, right string) {
		sb.WriteString(left)
		for j, w := range widths {
			sb.WriteString(strings.Repeat(fill, w))
			if j < n-1 {
				sb.WriteString(mid)
			}
		}
		sb.WriteString(right)
	}
	cell := func(text string, tw, w int) {
		sb.WriteByte(' ')
		sb.WriteString(text)
		sb.WriteString(indent(w - 2 - tw + 1))
	}
	rule(b.TopLeft, b.Top, b.MiddleTop, b.TopRight)
	sb.WriteByte('\n')
	sb.WriteString(b.Left)
	for j, h := range headers {
		if j > 0 {
			sb.WriteString(b.Left)
		}
		cell(h, textWidth(h), widths[j])
	}
	sb.WriteString(b.Right)
	sb.WriteByte('\n')
	rule(b.MiddleLeft, b.Top, b.Middle, b.MiddleRight)
	for i := range rows {
		height := 1
		for j := range n {
			height = max(height, len(lines[i][j]))
		}
		for k := range height {
			sb.WriteByte('\n')
			sb.WriteString(b.Left)
			for j := range n {
				if j > 0 {
					sb.WriteString(b.Left)
				}
				if k < len(lines[i][j]) {
					cell(lines[i][j][k], lineWidths[i][j][k], widths[j])
				} else {
					sb.WriteString(indent(widths[j]))
				}
			}
			sb.WriteString(b.Right)
		}
		sb.WriteByte('\n')
		if i < len(rows)-1 {
			rule(b.MiddleLeft, b.Bottom, b.Middle, b.MiddleRight)
		} else {
			rule(b.BottomLeft, b.Bottom, b.MiddleBottom, b.BottomRight)
		}
	}
	return sb.String()
}

// textWidth is ansi.StringWidth, quicker for printable ASCII (one cell a
// byte), which nearly every policy is: tables measure a MiB of it.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}
