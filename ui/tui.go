package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
)

// countdownEvery is how often the fetch countdown is redrawn.
const countdownEvery = 100 * time.Millisecond

// spinEvery is every how many countdown ticks the spinner turns while the
// countdown runs: the countdown then drives the spinner, so a hanging
// fetch costs one redraw per tick instead of two unaligned streams.
const spinEvery = 2

// defaultWidth is used until the first WindowSizeMsg.
const defaultWidth = 80

// maxDetailLines caps the full-value line under the table.
const maxDetailLines = 6

// Options configures the TUI.
type Options struct {
	// Now is the clock for the countdown; nil → time.Now.
	Now func() time.Time
	// Title heads the view, e.g. "reqdoctor — demo: success".
	Title string
	// Context is the parent of every run's context; nil → Background.
	Context context.Context
	// Styles overrides DefaultStyles (tests use PlainStyles); when set,
	// the styles stay as given whatever the terminal's background.
	Styles *Styles

	// ReportInfo heads the Markdown report that "c" copies and saves and
	// that ReportFile receives.
	ReportInfo ReportInfo
	// Redactor masks the report; nil → redaction on, for the user's home.
	Redactor *model.Redactor
	// ReportDir is where "c" saves the report; "" → os.TempDir().
	ReportDir string
	// ReportFile, when set, receives the report of every finished run
	// (--report FILE).
	ReportFile string
}

// Messages. Each carries the ID of the run it belongs to, so that messages
// of a run cancelled by "r" are dropped.
type (
	eventMsg struct {
		run int
		ev  doctor.Event
	}
	runEndedMsg struct {
		run    int
		report *doctor.Report
	}
	countdownMsg struct{ run int }
	// reportSavedMsg says where "c" saved the report (or why it could not).
	reportSavedMsg struct {
		path string
		err  error
	}
	// reportWrittenMsg is the same for --report FILE.
	reportWrittenMsg struct {
		path string
		err  error
	}
)

// Levels of compaction of the finished view, so it fits short windows:
// each drops more, and everything dropped stays in the plain and JSON
// output.
const (
	compactNone      = iota
	compactOKDetails // details of ok stages go, and attempts of an ok fetch
	compactNoDetails // all stage details go; hints stay
	compactNoHints   // hints go too
	compactFold      // ok stages share one line; warnings one line
	compactMax       = compactFold
)

type stageState int

const (
	statePending stageState = iota
	stateRunning
	stateDone
)

type stageView struct {
	id     doctor.StageID
	state  stageState
	result doctor.StageResult
	// drawn caches the rendering of the finished stage: the countdown
	// redraws the view ten times a second. Reset when result changes.
	drawn *drawnStage
}

// drawnStage is a rendered stage and what it was rendered for.
type drawnStage struct {
	width, compact, styles int
	text                   string
}

type attemptView struct {
	a       fetch.Attempt
	running bool
	started time.Time
}

type fetchView struct {
	url      string
	deadline time.Time
	timeout  time.Duration
	active   bool
	attempts []attemptView
}

// Model is the interactive view of one diagnosis (and its re-runs).
type Model struct {
	run    RunFunc
	parent context.Context
	now    func() time.Time
	title  string
	st     Styles
	// fixedStyles: Options.Styles was given; the background does not
	// change it.
	fixedStyles bool
	// styleGen counts setStyles calls, so cached renderings know theirs.
	styleGen int

	info       ReportInfo
	redactor   *model.Redactor
	reportDir  string
	reportFile string
	// Lines saying where the reports went: --report FILE's and "c"'s.
	fileNotice, copyNotice notice

	runID  int
	cancel context.CancelFunc
	events chan tea.Msg
	launch tea.Cmd // runs the prepared run, forwarding its events

	stages   []stageView
	fetch    fetchView
	report   *doctor.Report // of the current run, once finished
	last     *doctor.Report // of the last run that finished, kept across re-runs
	finished bool
	ticking  bool
	// spinning: the spinner's own tick loop runs. It stops while the
	// countdown ticks and turns the spinner (ticks counts them).
	spinning bool
	ticks    int
	rows     []model.PolicyRow
	cfg      []string // "your config" per row; nil: no such column
	// texts and stats are the rows' cells and their widths, computed once
	// per result: values can be a MiB, and a resize must not measure them
	// again.
	texts []rowText
	stats textStats
	// details caches, per window width, the tallest detail block of the
	// rows; shared by the copies of one result's model.
	details *detailCache
	compact int // compactNone…compactMax

	spinner spinner.Model
	table   table.Model
	help    help.Model
	keys    keyMap

	width, height int
	interrupted   bool
	quitting      bool
}

// NewModel prepares the view of run; Init starts it.
func NewModel(run RunFunc, opts Options) Model {
	m := Model{
		run:    run,
		parent: opts.Context,
		now:    opts.Now,
		title:  opts.Title,
		st:     DefaultStyles(),
		keys:   newKeyMap(),
		help:   help.New(),
	}
	if m.parent == nil {
		m.parent = context.Background()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.title == "" {
		m.title = "reqdoctor"
	}
	if opts.Styles != nil {
		m.st = *opts.Styles
		m.fixedStyles = true
	}
	m.info, m.redactor, m.reportDir, m.reportFile = opts.ReportInfo, opts.Redactor, opts.ReportDir, opts.ReportFile
	if m.info.Title == "" {
		m.info.Title = m.title
	}
	if m.info.Now == nil {
		m.info.Now = m.now
	}
	if m.redactor == nil {
		home, _ := os.UserHomeDir()
		m.redactor = model.NewRedactor(home, true)
	}
	if m.reportDir == "" {
		m.reportDir = os.TempDir()
	}
	m.table = table.New(table.WithFocused(true))
	m.setStyles(m.st)
	m.prepareRun()
	return m
}

// setStyles switches every part of the view to st.
func (m *Model) setStyles(st Styles) {
	m.st = st
	m.styleGen++
	m.help.Styles = st.Help
	m.table.SetStyles(table.Styles{Header: st.TableHeader, Cell: st.TableCell, Selected: st.TableSelected})
	m.spinner.Style = st.Running
}

// Styles are the styles the view uses now.
func (m Model) Styles() Styles { return m.st }

// prepareRun resets the state for a new run and creates its context and
// event channel; the run itself starts when startCmd's Cmd executes.
func (m *Model) prepareRun() {
	if m.cancel != nil {
		m.cancel()
	}
	m.runID++
	ctx, cancel := context.WithCancel(m.parent)
	m.cancel = cancel
	m.events = make(chan tea.Msg, 64)
	m.stages = make([]stageView, len(doctor.AllStages()))
	for i, id := range doctor.AllStages() {
		m.stages[i] = stageView{id: id}
	}
	m.fetch = fetchView{}
	m.report = nil
	m.finished = false
	m.ticking = false
	m.spinning = true // startCmd starts the loop
	m.ticks = 0
	m.rows = nil
	m.cfg = nil
	m.texts, m.stats, m.details = nil, textStats{}, nil
	m.compact = compactNone
	m.table.SetRows(nil)
	m.table.SetCursor(0)
	m.keys.setTableEnabled(false)
	m.table.KeyMap = m.keys.Table
	m.spinner = spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(m.st.Running))

	id, run, ch := m.runID, m.run, m.events
	m.launch = func() tea.Msg {
		// Runs in a Cmd goroutine: only forwards, never touches the model.
		emit := func(ev doctor.Event) {
			select {
			case ch <- eventMsg{run: id, ev: ev}:
			case <-ctx.Done():
			}
		}
		rep := run(ctx, emit)
		select {
		case ch <- runEndedMsg{run: id, report: rep}:
		case <-ctx.Done():
		}
		close(ch)
		return nil
	}
}

// startCmd starts the prepared run, its listener and the spinner.
func (m Model) startCmd() tea.Cmd {
	return tea.Batch(m.launch, listen(m.events), m.spinner.Tick)
}

// resumeSpinner restarts the spinner's own tick loop when something runs
// and the countdown no longer turns it.
func (m *Model) resumeSpinner() tea.Cmd {
	if m.spinning || m.ticking || m.finished || m.quitting {
		return nil
	}
	m.spinning = true
	return m.spinner.Tick
}

// listen returns the next message of a run's channel.
func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

func (m Model) countdown() tea.Cmd {
	id := m.runID
	return tea.Tick(countdownEvery, func(time.Time) tea.Msg { return countdownMsg{run: id} })
}

// Init starts the diagnosis and asks the terminal for its background
// colour, so the colours suit a light or dark theme.
func (m Model) Init() tea.Cmd { return tea.Batch(m.startCmd(), tea.RequestBackgroundColor) }

// Report is the report of the last finished run, nil if none finished.
func (m Model) Report() *doctor.Report { return m.last }

// Interrupted says the user quit before the run finished.
func (m Model) Interrupted() bool { return m.interrupted }

// Finished says the current run has finished.
func (m Model) Finished() bool { return m.finished }

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.layout()
		return m, nil

	case tea.KeyPressMsg:
		return m.handleKey(msg)

	case tea.BackgroundColorMsg:
		if !m.fixedStyles {
			st := NewStyles(msg.IsDark())
			st.ASCII, st.Words = m.st.ASCII, m.st.Words
			m.setStyles(st)
			m.layout()
		}
		return m, nil

	case reportSavedMsg:
		if msg.err != nil {
			m.copyNotice = notice{"could not save the report: " + msg.err.Error(), true}
		} else {
			m.copyNotice = notice{"report copied (OSC 52) and saved to " + msg.path +
				" — the clipboard copy works only if your terminal supports OSC 52; the file is always there", false}
		}
		m.layout()
		return m, nil

	case reportWrittenMsg:
		if msg.err != nil {
			m.fileNotice = notice{"could not write the report to " + msg.path + ": " + msg.err.Error(), true}
		} else {
			m.fileNotice = notice{"report written to " + msg.path, false}
		}
		m.layout()
		return m, nil

	case eventMsg:
		if msg.run != m.runID {
			return m, nil
		}
		cmd := m.handleEvent(msg.ev)
		m.fitRunning()
		return m, tea.Batch(cmd, listen(m.events), m.resumeSpinner())

	case runEndedMsg:
		if msg.run != m.runID {
			return m, nil
		}
		if !m.finished {
			return m, m.finish(msg.report)
		}
		return m, nil

	case countdownMsg:
		if msg.run != m.runID {
			return m, nil
		}
		if !m.fetch.active || m.quitting {
			m.ticking = false
			return m, m.resumeSpinner()
		}
		if m.ticks++; m.ticks%spinEvery == 0 {
			// A tick without a tag turns any spinner of this ID; the
			// spinner's own next tick is dropped below.
			m.spinner, _ = m.spinner.Update(spinner.TickMsg{ID: m.spinner.ID()})
		}
		return m, m.countdown()

	case spinner.TickMsg:
		if m.finished || m.quitting || m.ticking {
			m.spinning = false // the countdown turns it, or nothing runs
			return m, nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Quit):
		if !m.finished {
			m.interrupted = true
		}
		m.quitting = true
		m.cancel()
		return m, tea.Quit
	case key.Matches(msg, m.keys.Rerun):
		m.prepareRun()
		return m, m.startCmd()
	case key.Matches(msg, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		m.layout()
		return m, nil
	case key.Matches(msg, m.keys.Copy) && m.last != nil:
		return m, m.copyReport()
	}
	if m.finished && len(m.rows) > 0 {
		var cmd tea.Cmd
		m.table, cmd = m.table.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m *Model) stage(id doctor.StageID) *stageView {
	for i := range m.stages {
		if m.stages[i].id == id {
			return &m.stages[i]
		}
	}
	m.stages = append(m.stages, stageView{id: id})
	return &m.stages[len(m.stages)-1]
}

func (m *Model) handleEvent(ev doctor.Event) tea.Cmd {
	switch ev := ev.(type) {
	case doctor.StageStarted:
		s := m.stage(ev.ID)
		s.state = stateRunning
	case doctor.StageFinished:
		s := m.stage(ev.Result.ID)
		s.state = stateDone
		s.result = ev.Result
		s.drawn = nil
		if ev.Result.ID == doctor.StageFetch {
			m.fetch.active = false
		}
	case doctor.FetchStarted:
		m.fetch.url = ev.URL
		m.fetch.deadline = ev.Deadline
		m.fetch.timeout = ev.Timeout
		m.fetch.active = true
		if !m.ticking {
			m.ticking = true
			return m.countdown()
		}
	case doctor.FetchProgress:
		m.fetchProgress(ev)
	case doctor.Finished:
		return m.finish(ev.Report)
	}
	return nil
}

// markdown is the Markdown report of the last finished run.
func (m Model) markdown() string { return MarkdownReport(m.last, m.info, m.redactor) }

// copyReport copies the report to the clipboard with OSC 52 and, since
// many terminals ignore OSC 52, saves it to a file too.
func (m Model) copyReport() tea.Cmd {
	md, dir, at := m.markdown(), m.reportDir, m.now()
	return tea.Batch(tea.SetClipboard(md), func() tea.Msg {
		path, err := SaveReport(dir, at, md)
		return reportSavedMsg{path: path, err: err}
	})
}

// writeReportFile writes the report to --report FILE; nil without one.
func (m Model) writeReportFile() tea.Cmd {
	if m.reportFile == "" || m.last == nil {
		return nil
	}
	md, path := m.markdown(), m.reportFile
	return func() tea.Msg { return reportWrittenMsg{path: path, err: WriteReportFile(path, md)} }
}

// notice is a line about a report; bad when it says what failed.
type notice struct {
	text string
	bad  bool
}

func (n notice) render(width int, st Styles) string {
	style := st.Dim
	if n.bad {
		style = st.Warn
	}
	return strings.Join(wrapHanging("", cleanLine(n.text), width, style), "\n")
}

func (m *Model) fetchProgress(ev doctor.FetchProgress) {
	a := ev.Event.Attempt
	at := ev.At
	if at.IsZero() {
		at = m.now()
	}
	idx := -1
	for i := range m.fetch.attempts {
		if m.fetch.attempts[i].a.N == a.N {
			idx = i
		}
	}
	switch ev.Event.Kind {
	case fetch.AttemptStarted:
		if idx < 0 {
			m.fetch.attempts = append(m.fetch.attempts, attemptView{a: a, running: true, started: at})
		}
	case fetch.AttemptFinished:
		if idx < 0 {
			m.fetch.attempts = append(m.fetch.attempts, attemptView{a: a})
			return
		}
		m.fetch.attempts[idx].a = a
		m.fetch.attempts[idx].running = false
	case fetch.BackoffStarted:
		wait := ev.Event.Wait
		if wait == 0 {
			wait = a.Backoff
		}
		if idx < 0 {
			a.Backoff = wait
			m.fetch.attempts = append(m.fetch.attempts, attemptView{a: a})
			return
		}
		m.fetch.attempts[idx].a.Backoff = wait
		m.fetch.attempts[idx].running = false
	}
}

// finish records the final report, builds the policies table and
// returns the Cmd writing --report FILE, if any.
func (m *Model) finish(rep *doctor.Report) tea.Cmd {
	m.finished = true
	m.fetch.active = false
	m.report = rep
	if rep != nil {
		m.last = rep
	}
	if rep != nil {
		for _, r := range rep.Stages {
			s := m.stage(r.ID)
			s.state = stateDone
			s.result = r
			s.drawn = nil
		}
		if len(m.fetch.attempts) == 0 && rep.Fetch != nil {
			for _, a := range rep.Fetch.Attempts {
				m.fetch.attempts = append(m.fetch.attempts, attemptView{a: a})
			}
		}
		m.rows = policyRows(rep.Requirements)
		if cfg, shown := configColumn(m.rows, rep.PolicyChecks); shown {
			m.cfg = cfg
		}
	}
	m.texts = rowTexts(m.rows)
	m.stats = textStats{}
	for _, t := range m.texts {
		m.stats.addRow(t, false)
	}
	for _, c := range m.cfg {
		m.stats.addConfig(c, false)
	}
	m.details = &detailCache{height: map[int]int{}}
	m.table.SetCursor(0)
	m.keys.setTableEnabled(len(m.rows) > 0)
	m.keys.Copy.SetEnabled(m.last != nil)
	m.table.KeyMap = m.keys.Table
	m.layout()
	return m.writeReportFile()
}

func (m Model) viewWidth() int {
	if m.width > 0 {
		return m.width
	}
	return defaultWidth
}

// narrowTable is the window width below which the table leaves out the
// "set by" column when it has a "your config" one: four columns in under
// 60 cells cut every value to a few letters. The detail line under the
// table still says who set the selected row.
const narrowTable = 60

// setColumns sizes the columns from the window, each cell with one space
// of padding on either side, and fills the rows to match.
func (m *Model) setColumns() {
	n := 3
	if m.cfg != nil {
		n = 4
	}
	f, v, s, c := m.stats.columnWidths(m.viewWidth()-2*n, false)
	withSetBy := m.cfg == nil || m.viewWidth() >= narrowTable
	if !withSetBy {
		// The column and its padding go to the values and your config.
		free := s + 2
		v, c, s = v+free/2, c+free-free/2, 0
	}
	cols := []table.Column{{Title: "field", Width: f}, {Title: "allowed values", Width: v}}
	if withSetBy {
		cols = append(cols, table.Column{Title: "set by", Width: s})
	}
	if m.cfg != nil {
		cols = append(cols, table.Column{Title: configHeader, Width: c})
	}
	// Rows before columns would be drawn with cells the columns lack.
	cursor := m.table.Cursor()
	m.table.SetRows(nil)
	m.table.SetColumns(cols)
	// The table cuts every cell to its column on each move; cells cut
	// beforehand to a little more than the column cut the same, without
	// going over a MiB of value each time.
	rows := make([]table.Row, len(m.texts))
	for i, r := range m.texts {
		rows[i] = table.Row{cutCell(r.field, f), cutCell(cleanLine(cutCell(r.value, v)), v)}
		if withSetBy {
			rows[i] = append(rows[i], cutCell(r.setBy, s))
		}
		if m.cfg != nil {
			rows[i] = append(rows[i], cutCell(m.cfg[i], c))
		}
	}
	m.table.SetRows(rows)
	m.table.SetCursor(min(max(cursor, 0), len(rows)-1))
	m.table.SetWidth(f + v + s + c + 2*len(cols))
}

// layout sizes the table from the window so the inline view never grows
// taller than the terminal (inline views are clipped at the top).
func (m *Model) layout() {
	if !m.finished {
		m.fitRunning()
		return
	}
	m.setColumns()
	n := len(m.rows)
	m.compact = compactNone
	visible := n
	if m.height > 0 {
		// Lines around the table: blank line and header above, detail and
		// blank line and help below, and the final newline. Without rows,
		// the "no workspace policies" line takes the header's place.
		avail := func() int {
			return m.height - m.aboveHeight() - 2 - m.maxDetailHeight() - 1 - m.helpHeight() - 1
		}
		// Too short a window: drop what matters least until the table
		// shows a few rows.
		for m.compact < compactMax && avail() < min(n, 3) {
			m.compact++
		}
		visible = max(min(n, avail()), 1)
	}
	if n > 0 {
		m.table.SetHeight(visible + 1) // + header row
	}
}

// fitRunning compacts the view of a run in progress as much as needed to
// fit the window: an inline view taller than the terminal loses its top.
func (m *Model) fitRunning() {
	if m.finished || m.height <= 0 {
		return
	}
	m.compact = compactNone
	// Header, blank line, help.
	for m.compact < compactMax && m.aboveHeight()+1+m.helpHeight() > m.height {
		m.compact++
	}
}

func (m Model) aboveHeight() int {
	return lineCount(m.headerView())
}

func lineCount(s string) int { return strings.Count(s, "\n") + 1 }

func (m Model) helpHeight() int { return lineCount(m.helpView()) }

// helpView is the help fitted to the window: on a narrow one the short
// help drops the table's arrows before anything else, and every line is
// cut to the width (help.Model overflows by a word when its ellipsis
// does not fit).
func (m Model) helpView() string {
	w := m.viewWidth()
	v := m.help.View(m.keys)
	whole := m.help
	whole.SetWidth(0)
	if !m.help.ShowAll && ansi.StringWidth(whole.View(m.keys)) > w {
		// The arrows are the least needed: the table's cursor is visible.
		k := m.keys
		k.setTableEnabled(false)
		v = m.help.View(k)
	}
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	return strings.Join(lines, "\n")
}

// detailCache holds maxDetailHeight per window width in the uncompacted
// view, the one that needs every row wrapped.
type detailCache struct{ height map[int]int }

// maxDetailHeight is the height of the tallest detail block: the layout
// keeps that much room under the table so it does not jump as the cursor
// moves.
func (m *Model) maxDetailHeight() int {
	if len(m.rows) == 0 {
		return 1
	}
	if m.compact != compactNone {
		// A line each for the value and "your config".
		if m.cfg != nil {
			return 2
		}
		return 1
	}
	w := m.viewWidth()
	if m.details != nil {
		if h, ok := m.details.height[w]; ok {
			return h
		}
	}
	h := 1
	for i := range m.rows {
		h = max(h, m.detailHeight(i))
		if h == maxDetailLines {
			break // no row is taller
		}
	}
	if m.details != nil {
		m.details.height[w] = h
	}
	return h
}

// detailHeight is len(m.detailLines(i)) in the uncompacted view, without
// styling the lines. A pointer receiver: it runs for every row, and a
// Model is large to copy.
func (m *Model) detailHeight(i int) int {
	w := m.viewWidth()
	frame := m.st.StageTitle.GetHorizontalFrameSize()
	part := func(label, text string, limit int) int {
		pw := ansi.StringWidth(label) + frame + 2
		if pw+textWidth(text) <= w && w-pw >= minWrap/2 && !strings.Contains(text, "\n") {
			return 1 // fits on the line
		}
		return min(wrapCount(pw, wrapPrefix(text, pw, limit, w), w), limit)
	}
	f := m.rowText(i).field
	cfg := m.cfgText(i)
	if cfg == "" {
		return part(f, m.detailText(i), maxDetailLines)
	}
	return part(f, m.detailText(i), maxDetailLines-2) + part(configHeader, cfg, 2)
}

func (m *Model) rowText(i int) rowText {
	if i < len(m.texts) {
		return m.texts[i]
	}
	var t rowText
	t.field, t.value, t.setBy = policyCells(m.rows[i])
	return t
}

func (m *Model) cfgText(i int) string {
	if i < len(m.cfg) {
		return m.cfg[i]
	}
	return ""
}

// detailText is the full value of row i and who set it.
func (m *Model) detailText(i int) string {
	v := m.rowText(i).value
	if s := cleanLine(m.rows[i].SetBy); s != "" {
		v += "  (set by " + s + ")"
	}
	return v
}

// detailLines shows the whole value of row i, which the table cells cut,
// and, with the config column, its whole "your config" text: wrapped
// (up to maxDetailLines) or, in a compact view, a line each.
func (m Model) detailLines(i int) []string {
	w := m.viewWidth()
	f := m.rowText(i).field
	part := func(label, text string, limit int) []string {
		prefix := m.st.StageTitle.Render(label) + ": "
		if m.compact != compactNone {
			return []string{ansi.Truncate(prefix+m.st.Summary.Render(cleanLine(cutCell(text, w))), w, "…")}
		}
		lines := wrapHanging(prefix, wrapPrefix(text, ansi.StringWidth(prefix), limit, w), w, m.st.Summary)
		if len(lines) > limit {
			lines = lines[:limit]
			lines[limit-1] = ansi.Truncate(lines[limit-1], w-1, "") + "…"
		}
		return lines
	}
	cfg := m.cfgText(i)
	if cfg == "" {
		return part(f, m.detailText(i), maxDetailLines)
	}
	return append(part(f, m.detailText(i), maxDetailLines-2), part(configHeader, cfg, 2)...)
}

// headerView is everything above the table: title, stages, verdict.
func (m Model) headerView() string {
	var b strings.Builder
	b.WriteString(strings.Join(wrapHanging("", cleanLine(m.title), m.viewWidth(), m.st.Title), "\n"))
	b.WriteString("\n\n")
	b.WriteString(m.stagesView())
	if m.finished {
		b.WriteString("\n\n")
		b.WriteString(m.summaryView())
	}
	for _, n := range []notice{m.fileNotice, m.copyNotice} {
		if n.text != "" {
			b.WriteString("\n")
			b.WriteString(n.render(m.viewWidth(), m.st))
		}
	}
	if !m.finished && m.quitting && m.interrupted {
		b.WriteString("\n\n")
		b.WriteString(m.st.Warn.Render(fmt.Sprintf("- interrupted before a verdict (exit %d)", doctor.ExitInterrupted)))
	}
	return b.String()
}

// summaryView is the verdict and the warnings; folded, each warning
// beyond the count and the first goes (plain and JSON output keep them).
func (m Model) summaryView() string {
	w := m.viewWidth()
	if m.compact < compactFold || m.report == nil || len(m.report.Warnings) == 0 {
		return renderSummary(m.report, w, m.st)
	}
	r := *m.report
	r.Warnings = nil
	line := m.st.Warn.Render(fmt.Sprintf("%d warning(s):", len(m.report.Warnings))) + " " + cleanLine(m.report.Warnings[0])
	return renderSummary(&r, w, m.st) + "\n" + ansi.Truncate(line, w, "…")
}

// foldedOK is the one line the ok stages share when folded, at the place
// of the first.
func (m Model) foldedOK() string {
	var titles []string
	for _, s := range m.stages {
		if s.state == stateDone && s.result.Status == doctor.StatusOK {
			titles = append(titles, StageTitle(s.id))
		}
	}
	glyph, word, style := statusMark(doctor.StatusOK, m.st)
	line := style.Render(markText(glyph, word)) + " " + m.st.StageTitle.Render(strings.Join(titles, ", "))
	return ansi.Truncate(line, m.viewWidth(), "…")
}

// stagesView renders the stage list, the fetch progress under its stage.
func (m Model) stagesView() string {
	w := m.viewWidth()
	var lines []string
	folded := false
	for i, s := range m.stages {
		if m.compact >= compactFold && s.state == stateDone && s.result.Status == doctor.StatusOK {
			if !folded {
				lines = append(lines, m.foldedOK())
				folded = true
			}
			continue
		}
		switch s.state {
		case statePending:
			if m.finished && m.report != nil {
				continue // the run is over and never got to this stage
			}
			lines = append(lines, m.st.Pending.Render("· "+padRight("pending", wordWidth)+" "+StageTitle(s.id)))
		case stateRunning:
			mark, word := m.spinner.View(), "running"
			if m.quitting {
				mark, word = "-", "stopped"
			}
			lines = append(lines, stageHead(mark, word, m.st.Running, s.id, "", w, m.st)...)
		case stateDone:
			if d := s.drawn; d != nil && d.width == w && d.compact == m.compact && d.styles == m.styleGen {
				lines = append(lines, d.text)
				break
			}
			r := s.result
			if m.compact >= compactNoDetails || (m.compact >= compactOKDetails && r.Status == doctor.StatusOK) {
				r.Details = nil
			}
			if m.compact >= compactNoHints {
				r.Hint = ""
			}
			text := RenderStage(r, w, m.st)
			// Through the slice, so the model's copies share it.
			m.stages[i].drawn = &drawnStage{width: w, compact: m.compact, styles: m.styleGen, text: text}
			lines = append(lines, text)
		}
		if s.id == doctor.StageFetch && (m.compact == compactNone ||
			(m.compact == compactOKDetails && (s.state != stateDone || s.result.Status != doctor.StatusOK))) {
			lines = append(lines, m.fetchLines(s.state)...)
		}
	}
	return strings.Join(lines, "\n")
}

func (m Model) fetchLines(state stageState) []string {
	w := m.viewWidth()
	pad := indent(detailIndent)
	var lines []string
	if m.fetch.url != "" && state != stateDone {
		lines = append(lines, wrapHanging(pad+m.st.DetailKey.Render("GET")+" ", cleanLine(m.fetch.url), w, m.st.Summary)...)
		if m.fetch.active {
			left := max(m.fetch.deadline.Sub(m.now()), 0).Truncate(countdownEvery)
			lines = append(lines, pad+fmt.Sprintf("deadline in %.1f s of %s", left.Seconds(), formatSeconds(m.fetch.timeout)))
		}
	}
	for _, av := range m.fetch.attempts {
		if av.running {
			line := fmt.Sprintf("#%d  running", av.a.N)
			if !av.started.IsZero() {
				line += fmt.Sprintf("  %.1f s", max(m.now().Sub(av.started), 0).Seconds())
			}
			mark := m.spinner.View()
			if m.quitting {
				mark = "-"
			}
			lines = append(lines, pad+mark+" "+line)
			continue
		}
		for _, l := range strings.Split(RenderAttempt(av.a), "\n") {
			style := m.st.Summary
			if strings.HasPrefix(l, "waiting") {
				style = m.st.Dim
			}
			lines = append(lines, ansi.Truncate(pad+style.Render(l), w, "…"))
		}
	}
	return lines
}

// View renders the model. The frame ends with a newline after quitting so
// the inline renderer does not let the shell overwrite its last line.
func (m Model) View() tea.View {
	var b strings.Builder
	b.WriteString(m.headerView())
	if m.finished {
		b.WriteString("\n\n")
		if len(m.rows) == 0 {
			b.WriteString(m.st.Dim.Render("no workspace policies to show"))
		} else {
			b.WriteString(m.table.View())
			if r := m.table.Cursor(); r >= 0 && r < len(m.rows) {
				b.WriteString("\n")
				b.WriteString(strings.Join(m.detailLines(r), "\n"))
			}
		}
	}
	if m.quitting {
		b.WriteString("\n")
	} else {
		b.WriteString("\n\n")
		b.WriteString(m.helpView())
	}
	return tea.NewView(b.String())
}

// renderFPS caps Bubble Tea's redraws (its default is 60).
const renderFPS = 40

// Run shows the TUI until the user quits and returns the last finished
// report, whether the user interrupted a run, and Bubble Tea's error.
func Run(ctx context.Context, run RunFunc, opts Options, progOpts ...tea.ProgramOption) (*doctor.Report, bool, error) {
	if opts.Context == nil {
		opts.Context = ctx
	}
	m := NewModel(run, opts)
	// 40 frames a second are plenty for a 10 Hz countdown and a spinner,
	// and halve the renderer's wake-ups while Codex's request waits.
	progOpts = append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(renderFPS)}, progOpts...)
	final, err := tea.NewProgram(m, progOpts...).Run()
	fm, ok := final.(Model)
	if !ok {
		m.cancel()
		return nil, false, err
	}
	fm.cancel()
	return fm.last, fm.interrupted, err
}
