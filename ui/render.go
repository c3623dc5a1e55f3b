package ui

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
	"github.com/charmbracelet/x/ansi"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// Column widths of a stage line: "✓ ok      environment  summary".
const (
	wordWidth  = 7  // "skipped", "running", "pending"
	titleWidth = 11 // "environment"
	// detailIndent indents details, hints and fetch attempts under a stage.
	detailIndent = 4
	// minWrap is the narrowest column text is wrapped to; below it lines
	// overflow rather than becoming one word per line.
	minWrap = 20
)

// StageTitle is the name a stage is shown under: its id, or a few words
// where the id alone would not say what the stage looks at. Every title
// fits titleWidth so the summaries line up.
func StageTitle(id doctor.StageID) string {
	switch id {
	case "":
		return "stage"
	case doctor.StageLocal:
		return "local files"
	case doctor.StageUserConfig:
		return "your config"
	}
	return string(id)
}

// statusMark gives the glyph, the word and the style of a verdict: glyph and
// word together, so colour is never the only signal.
func statusMark(s doctor.Status, st Styles) (glyph, word string, style lipgloss.Style) {
	glyph, word, style = statusGlyph(s, st)
	if st.Words {
		// The word alone, in capitals: a screen reader says "OK", not
		// "check mark ok".
		return "", strings.ToUpper(word), style
	}
	return glyph, word, style
}

func statusGlyph(s doctor.Status, st Styles) (glyph, word string, style lipgloss.Style) {
	switch s {
	case doctor.StatusOK:
		return "✓", "ok", st.OK
	case doctor.StatusWarn:
		return "!", "warn", st.Warn
	case doctor.StatusFail:
		return "✗", "fail", st.Fail
	case doctor.StatusSkipped:
		return "-", "skipped", st.Skipped
	default:
		return "?", cleanLine(string(s)), st.Warn
	}
}

// stageHead renders "<mark> <title>  <summary>", mark being a glyph and a
// word already padded, with the summary wrapped under itself.
func stageHead(glyph, word string, style lipgloss.Style, id doctor.StageID, summary string, width int, st Styles) []string {
	prefix := style.Render(markText(glyph, word)) + " " + st.StageTitle.Render(padRight(StageTitle(id), titleWidth))
	summary = cleanLine(summary)
	if summary == "" {
		return []string{strings.TrimRight(prefix, " ")}
	}
	return wrapHanging(prefix+"  ", summary, width, st.Summary)
}

// markText is "<glyph> <word>" padded to the mark column; a word alone
// (Styles.Words) takes the glyph's place too, so summaries line up.
func markText(glyph, word string) string {
	if glyph == "" {
		return padRight(word, wordWidth+2)
	}
	return glyph + " " + padRight(word, wordWidth)
}

// hintMark leads a hint line.
func hintMark(st Styles) string {
	if st.Words {
		return "hint:"
	}
	return "→"
}

// RenderStage renders one finished stage: its line, its details as
// "key: value" and, when it is not ok, a "→ hint" line. Width 0 means no
// wrapping; all width math is ANSI-aware.
func RenderStage(r doctor.StageResult, width int, st Styles) string {
	glyph, word, style := statusMark(r.Status, st)
	lines := stageHead(glyph, word, style, r.ID, r.Summary, width, st)
	lines = append(lines, renderDetails(r.Details, width, st)...)
	if r.Status != doctor.StatusOK && strings.TrimSpace(r.Hint) != "" {
		lines = append(lines, wrapHanging(indent(detailIndent)+st.Hint.Render(hintMark(st))+" ", cleanLine(r.Hint), width, st.Hint)...)
	}
	return strings.Join(lines, "\n")
}

func renderDetails(ds []doctor.Detail, width int, st Styles) []string {
	var lines []string
	for _, d := range ds {
		k := cleanLine(d.Key)
		v := cleanText(d.Value)
		prefix := indent(detailIndent) + st.DetailKey.Render(k+":") + " "
		if pw := ansi.StringWidth(prefix); width > 0 && (pw+minWrap > width || pw > width/2) {
			// Long key (a file path) or narrow screen: the value on its
			// own lines rather than squeezed into a thin column.
			lines = append(lines, strings.TrimRight(prefix, " "))
			prefix = indent(detailIndent + 2)
		}
		lines = append(lines, wrapHanging(prefix, v, width, lipgloss.Style{})...)
	}
	return lines
}

// RenderAttempt renders one fetch attempt on a line, e.g.
// "#2  503  412 ms  server error · text/html · body: …", followed, when
// Codex sleeps after it, by "waiting 0.41 s before attempt 3".
func RenderAttempt(a fetch.Attempt) string {
	line := attemptLine(a)
	if a.Backoff > 0 {
		line += "\n" + renderWait(a.Backoff, a.N+1)
	}
	return line
}

// bodyExcerpt is how much of a failed body an attempt line shows; the
// stage details carry more.
const bodyExcerpt = 60

func attemptLine(a fetch.Attempt) string {
	status := "---"
	if a.Status > 0 {
		status = strconv.Itoa(a.Status)
	}
	var info []string
	switch {
	case a.Err != "":
		info = append(info, cleanLine(a.Err))
	case a.Class == "" || a.Class == "ok":
		info = append(info, "ok")
	default:
		info = append(info, cleanLine(a.Class))
	}
	if a.ContentType != "" {
		info = append(info, cleanLine(a.ContentType))
	}
	if body := strings.Join(strings.Fields(cleanLine(a.Body)), " "); body != "" {
		info = append(info, "body: "+ansi.Truncate(body, bodyExcerpt, "…"))
	}
	if a.Note != "" {
		info = append(info, cleanLine(a.Note))
	}
	return fmt.Sprintf("#%d  %s  %s  %s", a.N, status, formatLatency(a.Duration), strings.Join(info, " · "))
}

func renderWait(wait time.Duration, next int) string {
	return fmt.Sprintf("waiting %.2f s before attempt %d", wait.Seconds(), next)
}

// formatLatency shows milliseconds below 10 s and tenths of seconds above.
func formatLatency(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// formatSeconds renders a timeout as "20 s" or "2.5 s".
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// policyCells is the text of a policy row: field, allowed values (with the
// note, if any) and who set it.
func policyCells(r model.PolicyRow) (field, value, setBy string) {
	value = cleanText(r.Value)
	if n := cleanLine(r.Note); n != "" {
		value += " (" + n + ")"
	}
	return cleanLine(r.Field), value, cleanLine(shortSource(r.SetBy))
}

// rowText is policyCells of one row, computed once per table: the values
// can be a MiB.
type rowText struct{ field, value, setBy string }

func rowTexts(rows []model.PolicyRow) []rowText {
	out := make([]rowText, len(rows))
	for i, r := range rows {
		out[i].field, out[i].value, out[i].setBy = policyCells(r)
	}
	return out
}

// shortSource drops the words every bundle fragment shares, so the "set by"
// column shows the fragment's name and id; the detail line and JSON keep
// Codex's full wording.
func shortSource(s string) string {
	if filepath.IsAbs(s) {
		// A local file: its name; the local stage lists the full path.
		return filepath.Base(s)
	}
	return strings.TrimPrefix(s, "enterprise-managed requirements ")
}

// columnWidths splits usable columns (padding and borders excluded)
// between field, allowed values, set by and, when cfg has any text, your
// config (c is 0 without). Field names get what they need up to 2/5; the
// others share the rest fairly, set by up to 1/3 and your config up to
// 1/4, the values taking what is left. When wrap is set (static output
// wraps cells, the TUI cuts them) no column starts narrower than its
// longest word, within reason, so words are not broken where avoidable.
// Short of room, set by gives way first, then your config, then field.
func columnWidths(rows []rowText, cfg []string, usable int, wrap bool) (f, v, s, c int) {
	var st textStats
	for _, r := range rows {
		st.add(r)
	}
	for _, text := range cfg {
		st.addConfig(text, wrap)
	}
	return st.columnWidths(usable, wrap)
}

// textStats are the widths of a table's texts that columnWidths needs;
// the TUI keeps them so a resize does not measure a MiB of text again.
type textStats struct {
	field         int
	natural, word [3]int // per value, set by, your config
}

// Indexes of textStats.natural and word.
const statValue, statSetBy, statConfig = 0, 1, 2

// add measures one row; words only when wrapping needs them.
func (t *textStats) add(r rowText) {
	t.addRow(r, true)
}

func (t *textStats) addRow(r rowText, words bool) {
	const iv, is = statValue, statSetBy
	t.field = max(t.field, textWidth(r.field))
	t.natural[iv], t.natural[is] = max(t.natural[iv], cellWidth(r.value)), max(t.natural[is], textWidth(r.setBy))
	if words {
		t.word[iv], t.word[is] = max(t.word[iv], longestWord(r.value)), max(t.word[is], longestWord(r.setBy))
	}
}

func (t *textStats) addConfig(text string, words bool) {
	t.natural[statConfig] = max(t.natural[statConfig], textWidth(text))
	if words {
		t.word[statConfig] = max(t.word[statConfig], longestWord(text))
	}
}

func (t textStats) columnWidths(usable int, wrap bool) (f, v, s, c int) {
	usable = max(usable, 30)
	const iv, is, ic = statValue, statSetBy, statConfig
	f, natural, word := t.field, t.natural, t.word
	f = min(max(f, len("field")), usable*2/5)
	heads := [3]int{10, len("set by"), len(configHeader)}
	caps := [3]int{usable, usable / 3, usable / 4}
	var floor [3]int
	cols := 3
	if natural[ic] == 0 {
		cols, heads[ic], caps[ic] = 2, 0, 0
	}
	for i := range cols {
		natural[i] = min(max(natural[i], heads[i]), caps[i])
		floor[i] = heads[i]
		if wrap {
			limit := caps[i]
			if i == iv {
				limit = usable / 4 // a value's longest word may be a URL
			}
			floor[i] = min(max(word[i], heads[i]), natural[i], limit)
		}
	}
	sum := func(a [3]int) int { return a[0] + a[1] + a[2] }
	// Too little room for every word: the widest floors give way first,
	// a column at a time, down to the headers.
	for sum(floor) > usable-f {
		widest := -1
		for i := range cols {
			if floor[i] > heads[i] && (widest < 0 || floor[i] > floor[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		floor[widest]--
	}
	if over := sum(floor) - (usable - f); over > 0 {
		f = max(f-over, 12)
	}
	for _, i := range []int{is, ic, iv} {
		if over := sum(floor) - (usable - f); over > 0 && cols > i {
			floor[i] = max(floor[i]-over, 4)
		}
	}
	// Set by and your config in full when that leaves the values a fair
	// share; otherwise fair shares of what is left, each column up to its
	// need, the values taking any rest.
	if greedy := usable - f - natural[is] - natural[ic]; greedy >= min(natural[iv], (usable-f)/(cols)) && greedy >= floor[iv] {
		return f, greedy, natural[is], natural[ic]
	}
	w := floor
	for left := usable - f - sum(w); left > 0; {
		var open []int
		for i := range cols {
			if w[i] < natural[i] {
				open = append(open, i)
			}
		}
		if len(open) == 0 {
			w[iv] += left
			break
		}
		share := max(left/len(open), 1)
		for _, i := range open {
			add := min(share, natural[i]-w[i], left)
			w[i] += add
			left -= add
		}
	}
	return f, w[iv], w[is], w[ic]
}

// cellWidth is the width of text's widest line.
func cellWidth(text string) int {
	w := 0
	for _, l := range strings.Split(text, "\n") {
		w = max(w, textWidth(l))
	}
	return w
}

// longestWord is the width of the widest space-separated word of text.
func longestWord(text string) int {
	w := 0
	for _, word := range strings.Fields(text) {
		w = max(w, textWidth(word))
	}
	return w
}

// wrapCell wraps a cell's text to its column at spaces; a word wider than
// the column is broken (at a hyphen when it has one). Linear in the text:
// a cell can hold a MiB.
func wrapCell(text string, width int) string {
	var b strings.Builder
	b.Grow(len(text) + len(text)/max(width, 1) + 1)
	for p, para := range strings.Split(text, "\n") {
		if p > 0 {
			b.WriteByte('\n')
		}
		start := b.Len() // of the current line
		lw := 0          // its width
		for _, word := range strings.Fields(para) {
			ww := textWidth(word)
			if b.Len() > start {
				if joinsPlainly(b.String()[b.Len()-1], word[0]) {
					if lw+1+ww <= width {
						b.WriteByte(' ')
						b.WriteString(word)
						lw += 1 + ww
						continue
					}
				} else if line := b.String()[start:]; textWidth(line)+1+ww <= width {
					b.WriteByte(' ')
					b.WriteString(word)
					lw = textWidth(b.String()[start:])
					continue
				}
				b.WriteByte('\n')
				start = b.Len()
			}
			if ww <= width {
				b.WriteString(word)
				lw = ww
				continue
			}
			pieces := ansi.Wrap(word, width, "")
			b.WriteString(pieces)
			if i := strings.LastIndexByte(pieces, '\n'); i >= 0 {
				start = b.Len() - (len(pieces) - i - 1)
			}
			lw = textWidth(b.String()[start:])
		}
	}
	return b.String()
}

// joinsPlainly says the width of line+" "+word is the sum of the widths
// when line ends with last and word starts with first: ASCII on both
// sides of the space cannot join it into a wider grapheme.
func joinsPlainly(last, first byte) bool { return last < utf8.RuneSelf && first < utf8.RuneSelf }

// RenderPolicies renders the policies table for static output, wrapping
// long values inside their cells. checks (the report's PolicyChecks) add a
// "your config" column when any of them concerns a row. With st.ASCII the
// borders are plain ASCII so the table survives tickets, e-mails and
// screen readers.
func RenderPolicies(rows []model.PolicyRow, checks []model.PolicyCheck, width int, st Styles) string {
	if len(rows) == 0 {
		return ""
	}
	border := lipgloss.RoundedBorder()
	if st.ASCII {
		border = lipgloss.ASCIIBorder()
	}
	cfg, withCfg := configColumn(rows, checks)
	if st.Words {
		// Widths are measured on the text as printed.
		ascii := make([]model.PolicyRow, len(rows))
		for i, r := range rows {
			r.Field, r.Value, r.Note, r.SetBy = asciiText(r.Field), asciiText(r.Value), asciiText(r.Note), asciiText(r.SetBy)
			ascii[i] = r
		}
		rows = ascii
		for i := range cfg {
			cfg[i] = asciiText(cfg[i])
		}
	}
	headers := []string{"field", "allowed", "set by"}
	if withCfg {
		headers = append(headers, configHeader)
	} else {
		cfg = nil
	}
	texts := rowTexts(rows)
	fw, vw, sw, cw := 0, 0, 0, 0
	if width > 0 {
		// n+1 border columns and one space of padding each side of n cells.
		fw, vw, sw, cw = columnWidths(texts, cfg, width-1-3*len(headers), true)
	}
	cells := make([][]string, len(rows))
	for i, r := range texts {
		f, v, s := r.field, r.value, r.setBy
		if width > 0 {
			f, v, s = wrapCell(f, fw), wrapCell(v, vw), wrapCell(s, sw)
		}
		cells[i] = []string{f, v, s}
		if withCfg {
			c := cfg[i]
			if width > 0 {
				c = wrapCell(c, cw)
			}
			cells[i] = append(cells[i], c)
		}
	}
	if plainTableStyles(st) && plainCells(headers, cells) {
		return plainTable(headers, cells, border)
	}
	return lipglossTable(headers, cells, border, st)
}

// lipglossTable is the policies table drawn by lipgloss, for styled
// output; plainTable draws the same bytes without styles.
func lipglossTable(headers []string, cells [][]string, border lipgloss.Border, st Styles) string {
	return table.New().
		Headers(headers...).
		Border(border).
		BorderStyle(st.TableBorder).
		BorderRow(true).
		Wrap(true). // the cells come pre-wrapped, to widths chosen per column
		StyleFunc(func(row, _ int) lipgloss.Style {
			if row == table.HeaderRow {
				return st.TableHeader
			}
			return st.TableCell
		}).
		Rows(cells...).
		String()
}

// Verdict is the one-line conclusion of a report and whether it is good
// news (Codex would start).
func Verdict(rep *doctor.Report) (text string, good bool) {
	if rep == nil {
		return "no result: the diagnosis did not finish", false
	}
	exit := fmt.Sprintf(" (exit %d)", rep.ExitCode)
	switch rep.ExitCode {
	case doctor.ExitInterrupted:
		return "interrupted before a verdict" + exit, false
	case doctor.ExitTimeout:
		after := ""
		if rep.Fetch != nil && rep.Fetch.Timeout > 0 {
			after = " after " + rep.Fetch.Timeout.String()
		}
		return "Codex would refuse to start: timed out" + after + exit, false
	case doctor.ExitOK:
		switch rep.Outcome {
		case doctor.OutcomeRequirements:
			return "Codex would start with workspace policies" + exit, true
		case doctor.OutcomeNone:
			return "Codex would start with no workspace policies" + exit, true
		case doctor.OutcomeNotApplicable:
			return "Codex would start; workspace policies do not apply" + exit, true
		}
		return "Codex would start" + exit, true
	}
	if rep.Err != nil {
		msg := "Codex would refuse to start: " + cleanLine(string(rep.Err.Code)) + " — " + cleanLine(rep.Err.Message)
		if rep.Err.StatusCode > 0 && !strings.Contains(rep.Err.Message, "HTTP "+strconv.Itoa(rep.Err.StatusCode)) {
			msg += fmt.Sprintf(" (HTTP %d)", rep.Err.StatusCode)
		}
		return msg + exit, false
	}
	if rep.ExitCode == doctor.ExitCredentials {
		return "credentials missing, unreadable or rejected" + exit, false
	}
	for _, s := range rep.Stages {
		if s.Status == doctor.StatusFail {
			return "Codex would refuse to start: " + StageTitle(s.ID) + ": " + cleanLine(s.Summary) + exit, false
		}
	}
	return "Codex would refuse to start" + exit, false
}

// RenderSummary renders the final verdict in big clear words, glyph first,
// followed by the warnings.
func RenderSummary(rep *doctor.Report, st Styles) string {
	return renderSummary(rep, 0, st)
}

// renderSummary is RenderSummary wrapped to width (0: no wrapping).
func renderSummary(rep *doctor.Report, width int, st Styles) string {
	text, good := Verdict(rep)
	if st.Words {
		text = asciiText(text)
	}
	glyph, style := "✗ ", st.VerdictBad
	switch {
	case good:
		glyph, style = "✓ ", st.Verdict
	case rep != nil && rep.ExitCode == doctor.ExitInterrupted:
		glyph, style = "- ", st.Warn
	}
	if st.Words {
		glyph = map[string]string{"✗ ": "FAIL: ", "✓ ": "OK: ", "- ": "STOPPED: "}[glyph]
	}
	lines := wrapHanging(style.Render(glyph), text, width, style)
	if rep != nil && len(rep.Warnings) > 0 {
		lines = append(lines, st.Warn.Render(fmt.Sprintf("%d warning(s):", len(rep.Warnings))))
		for _, w := range rep.Warnings {
			mark := "!"
			if st.Words {
				mark = "WARN:"
			}
			if st.Words {
				w = asciiText(w)
			}
			lines = append(lines, wrapHanging("  "+st.Warn.Render(mark)+" ", cleanLine(w), width, lipgloss.Style{})...)
		}
	}
	return strings.Join(lines, "\n")
}

// wrapHanging wraps text to width after prefix, indenting continuation
// lines to the prefix's width (or less when that would leave too narrow a
// column). style applies to the text only, line by line, so a wrap never
// splits a styled run. Width 0 means no wrapping.
func wrapHanging(prefix, text string, width int, style lipgloss.Style) []string {
	pw := ansi.StringWidth(prefix)
	cont := hangingIndent(pw, width)
	var out []string
	wrapWalk(pw, cont, text, width, func(s string) {
		s = strings.TrimRight(s, " ")
		lead := indent(cont)
		if len(out) == 0 {
			lead = prefix
		}
		if s == "" {
			out = append(out, strings.TrimRight(lead, " "))
			return
		}
		out = append(out, lead+style.Render(s))
	})
	return out
}

// wrapCount is len(wrapHanging(prefix, text, width, style)) for a prefix
// pw cells wide, without building the lines.
func wrapCount(pw int, text string, width int) int {
	cont := hangingIndent(pw, width)
	if width > 0 && width-pw >= minWrap/2 && !strings.Contains(text, "\n") {
		// One paragraph: skip wrapping what fits on a line, which is most
		// of a table's rows (the TUI counts every row's lines).
		if textWidth(text) <= width-pw {
			return 1
		}
		line, _, _ := strings.Cut(ansi.Wrap(text, width-pw, ""), "\n")
		rest := strings.TrimLeft(strings.TrimPrefix(text, strings.TrimRight(line, " ")), " ")
		switch {
		case rest == "":
			return 1
		case textWidth(rest) <= max(width-cont, 1):
			return 2
		}
		return 1 + strings.Count(ansi.Wrap(rest, max(width-cont, 1), ""), "\n") + 1
	}
	n := 0
	wrapWalk(pw, cont, text, width, func(string) { n++ })
	return n
}

// hangingIndent is the indent of wrapHanging's continuation lines.
func hangingIndent(pw, width int) int {
	if width > 0 && width-pw < minWrap {
		return min(pw, detailIndent+2)
	}
	return pw
}

// wrapWalk passes each line of wrapHanging's text to add, "" for the
// prefix alone on its line.
func wrapWalk(pw, cont int, text string, width int, add func(string)) {
	first := true
	for _, para := range strings.Split(text, "\n") {
		if width <= 0 {
			add(para)
			first = false
			continue
		}
		if first {
			first = false
			room := width - pw
			if room < minWrap/2 {
				// No room after the prefix: the text starts below it.
				add("")
			} else {
				line, _, _ := strings.Cut(ansi.Wrap(para, room, ""), "\n")
				add(line)
				para = strings.TrimLeft(strings.TrimPrefix(para, strings.TrimRight(line, " ")), " ")
				if para == "" {
					continue
				}
			}
		}
		for _, l := range strings.Split(ansi.Wrap(para, max(width-cont, 1), ""), "\n") {
			add(l)
		}
	}
}

func indent(n int) string { return strings.Repeat(" ", n) }

func padRight(s string, n int) string {
	if w := ansi.StringWidth(s); w < n {
		return s + indent(n-w)
	}
	return s
}

// cleanText removes control characters (escape sequences above all) from
// text that came from files or servers, keeping newlines.
func cleanText(s string) string {
	// One sanitiser for every view: control characters, escape sequences
	// and bidi overrides from servers and files become visible escapes.
	// Printable ASCII and newlines it keeps as they are; policies are
	// mostly that and can be a MiB, so they skip the copy.
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n') || c > 0x7e {
			return fetch.Sanitize(s, 0)
		}
	}
	return s
}

// cleanLine is cleanText for one-line contexts.
func cleanLine(s string) string {
	return strings.ReplaceAll(cleanText(s), "\n", " ")
}
