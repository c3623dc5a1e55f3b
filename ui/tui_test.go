package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
)

var (
	keyQ     = tea.KeyPressMsg{Code: 'q', Text: "q"}
	keyR     = tea.KeyPressMsg{Code: 'r', Text: "r"}
	keyHelp  = tea.KeyPressMsg{Code: '?', Text: "?"}
	keyCtrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	keyDown  = tea.KeyPressMsg{Code: tea.KeyDown}
)

// newTestModel is a model with plain styles, a movable clock and an
// 80×40 window; its run is never started unless a test calls launch.
func newTestModel(t *testing.T, run RunFunc, now *time.Time) Model {
	t.Helper()
	st := PlainStyles()
	m := NewModel(run, Options{Now: fixedClock(now), Title: "reqdoctor — demo: 5xx then success", Styles: &st})
	t.Cleanup(m.cancel)
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 40})
	return m
}

func update(t *testing.T, m Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	next, cmd := m.Update(msg)
	nm, ok := next.(Model)
	if !ok {
		t.Fatalf("Update returned %T, want ui.Model", next)
	}
	return nm, cmd
}

// feed sends events of the current run, checking each re-issues the listener.
func feed(t *testing.T, m Model, evs ...doctor.Event) Model {
	t.Helper()
	for _, ev := range evs {
		var cmd tea.Cmd
		m, cmd = update(t, m, eventMsg{run: m.runID, ev: ev})
		if cmd == nil {
			t.Fatalf("no Cmd after %T: the listener must be re-issued", ev)
		}
	}
	return m
}

func content(m Model) string { return m.View().Content }

func mustContain(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("view lacks %q:\n%s", w, s)
		}
	}
}

// finishedModel has received the whole retry scenario.
func finishedModel(t *testing.T) (Model, *doctor.Report) {
	evs, rep := retryScenario()
	now := t0.Add(time.Second)
	m := newTestModel(t, fakeRun(evs, rep, 0), &now)
	return feed(t, m, evs...), rep
}

func TestUpdateStages(t *testing.T) {
	now := t0
	m := newTestModel(t, nil, &now)
	mustContain(t, content(m), "· pending environment", "· pending parse", "q quit")

	m = feed(t, m, doctor.StageStarted{ID: doctor.StageEnvironment})
	mustContain(t, content(m), "| running environment", "· pending auth")

	env := beforeFetchStages()[0]
	m = feed(t, m, doctor.StageFinished{Result: env})
	mustContain(t, content(m), "✓ ok      environment  CODEX_HOME /home/dev/.codex", "    config.toml: /home/dev/.codex/config.toml")
	if strings.Contains(content(m), "running environment") {
		t.Error("finished stage still shown as running")
	}

	// Events of another run are dropped, and not listened for again.
	before := content(m)
	m2, cmd := update(t, m, eventMsg{run: m.runID + 7, ev: doctor.StageStarted{ID: doctor.StageAuth}})
	if cmd != nil || content(m2) != before {
		t.Errorf("stale event changed the model (cmd %v)", cmd != nil)
	}
}

func TestCountdownAndAttempts(t *testing.T) {
	now := t0
	m := newTestModel(t, nil, &now)
	m = feed(t, m, doctor.StageStarted{ID: doctor.StageFetch})
	m, cmd := update(t, m, eventMsg{run: m.runID, ev: doctor.FetchStarted{URL: bundleURL, Deadline: t0.Add(20 * time.Second), Timeout: 20 * time.Second}})
	if cmd == nil || !m.ticking {
		t.Fatal("FetchStarted must start the countdown tick")
	}
	now = t0.Add(20*time.Second - 12340*time.Millisecond)
	mustContain(t, content(m), "GET "+bundleURL, "deadline in 12.3 s of 20 s")

	m, cmd = update(t, m, countdownMsg{run: m.runID})
	if cmd == nil {
		t.Fatal("the countdown must keep ticking while the fetch runs")
	}
	now = now.Add(5 * time.Second)
	mustContain(t, content(m), "deadline in 7.3 s of 20 s")

	a1 := fetch.Attempt{N: 1, Duration: 412 * time.Millisecond, Status: 503, Err: "server error", ContentType: "text/html"}
	m = feed(t, m, doctor.FetchProgress{Event: fetch.Event{Kind: fetch.AttemptStarted, Attempt: fetch.Attempt{N: 1}}, At: now.Add(-200 * time.Millisecond)})
	mustContain(t, content(m), "| #1  running  0.2 s")
	m = feed(t, m,
		doctor.FetchProgress{Event: fetch.Event{Kind: fetch.AttemptFinished, Attempt: a1}, At: now},
		doctor.FetchProgress{Event: fetch.Event{Kind: fetch.BackoffStarted, Attempt: a1, Wait: 410 * time.Millisecond}, At: now})
	mustContain(t, content(m), "#1  503  412 ms  server error · text/html", "waiting 0.41 s before attempt 2")
	if strings.Contains(content(m), "#1  running") {
		t.Error("finished attempt still shown as running")
	}

	// The fetch ends: the countdown disappears and the tick loop stops.
	m = feed(t, m, doctor.StageFinished{Result: doctor.StageResult{ID: doctor.StageFetch, Status: doctor.StatusFail, Summary: "HTTP 503 after 5 attempts", Hint: "ask your admin"}})
	if strings.Contains(content(m), "deadline in") {
		t.Error("countdown still shown after the fetch ended")
	}
	mustContain(t, content(m), "✗ fail    fetch        HTTP 503 after 5 attempts", "→ ask your admin", "#1  503  412 ms")
	m, cmd = update(t, m, countdownMsg{run: m.runID})
	if cmd != nil || m.ticking {
		t.Error("the countdown must stop ticking once the fetch ended")
	}
}

func TestFinished(t *testing.T) {
	m, rep := finishedModel(t)
	if !m.Finished() || m.Report() != rep {
		t.Fatalf("Finished() = %v, Report() = %p; want true, %p", m.Finished(), m.Report(), rep)
	}
	c := content(m)
	mustContain(t, c,
		"✓ Codex would start with workspace policies (exit 0)",
		"1 warning(s):",
		"field", "allowed values", "set by",
		"allowed_approval_policies: on-request, untrusted  (set by",
		"↓/j down")
	if got, want := len(m.table.Rows()), len(rep.Requirements.Rows()); got != want {
		t.Errorf("table has %d rows, want %d", got, want)
	}
	// The spinner stops once nothing runs.
	if _, cmd := update(t, m, spinner.TickMsg{ID: m.spinner.ID()}); cmd != nil {
		t.Error("spinner still ticking after the run finished")
	}
}

func TestKeys(t *testing.T) {
	t.Run("q after the run quits, not interrupted", func(t *testing.T) {
		m, _ := finishedModel(t)
		m, cmd := update(t, m, keyQ)
		if cmd == nil {
			t.Fatal("q returned no Cmd")
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatal("q did not quit")
		}
		if m.Interrupted() {
			t.Error("quitting after the verdict is no interruption")
		}
		c := content(m)
		if !strings.HasSuffix(c, "\n") {
			t.Errorf("final frame must end with a newline: %q", c[max(len(c)-40, 0):])
		}
		if strings.Contains(c, "q quit") {
			t.Error("help line still shown after quitting")
		}
	})

	t.Run("ctrl+c while running interrupts and cancels the run", func(t *testing.T) {
		cancelled := make(chan struct{})
		run := func(ctx context.Context, emit func(doctor.Event)) *doctor.Report {
			emit(doctor.StageStarted{ID: doctor.StageEnvironment})
			<-ctx.Done()
			close(cancelled)
			return nil
		}
		now := t0
		m := newTestModel(t, run, &now)
		go m.launch()
		msg := listen(m.events)()
		m = feed(t, m, msg.(eventMsg).ev)
		m, cmd := update(t, m, keyCtrlC)
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatal("ctrl+c did not quit")
		}
		if !m.Interrupted() {
			t.Error("Interrupted() = false after ctrl+c while running")
		}
		select {
		case <-cancelled:
		case <-time.After(5 * time.Second):
			t.Fatal("the run's context was not cancelled")
		}
		c := content(m)
		mustContain(t, c, "- stopped environment", "interrupted before a verdict (exit 130)")
		if !strings.HasSuffix(c, "\n") {
			t.Error("final frame must end with a newline")
		}
	})

	t.Run("r restarts", func(t *testing.T) {
		m, rep := finishedModel(t)
		oldRun, oldCancel := m.runID, m.events
		m, cmd := update(t, m, keyR)
		if cmd == nil {
			t.Fatal("r returned no Cmd to start the run")
		}
		if m.runID == oldRun || m.events == oldCancel {
			t.Error("r did not prepare a new run")
		}
		if m.Finished() || len(m.table.Rows()) != 0 || len(m.fetch.attempts) != 0 {
			t.Error("r did not reset the state")
		}
		if m.Report() != rep {
			t.Error("Report() should keep the last finished report during a re-run")
		}
		c := content(m)
		mustContain(t, c, "· pending environment", "· pending parse")
		if strings.Contains(c, "Codex would start") {
			t.Error("old verdict still shown after r")
		}
		// The old run's late events are dropped.
		if _, cmd := update(t, m, eventMsg{run: oldRun, ev: doctor.Finished{Report: rep}}); cmd != nil {
			t.Error("event of the cancelled run was handled")
		}
	})

	t.Run("? toggles the full help", func(t *testing.T) {
		m, _ := finishedModel(t)
		if strings.Contains(content(m), "page down") {
			t.Fatal("full help shown before ?")
		}
		m, _ = update(t, m, keyHelp)
		mustContain(t, content(m), "page down", "re-run")
		m, _ = update(t, m, keyHelp)
		if strings.Contains(content(m), "page down") {
			t.Error("? did not hide the full help again")
		}
	})

	t.Run("down moves the table cursor and the detail line", func(t *testing.T) {
		m, rep := finishedModel(t)
		rows := rep.Requirements.Rows()
		if m.table.Cursor() != 0 {
			t.Fatalf("cursor starts at %d", m.table.Cursor())
		}
		m, _ = update(t, m, keyDown)
		if m.table.Cursor() != 1 {
			t.Fatalf("cursor = %d after down, want 1", m.table.Cursor())
		}
		mustContain(t, content(m), rows[1].Field+": "+rows[1].Value, "your config: unset → read-only")
	})
}

func TestWindowSize(t *testing.T) {
	m, _ := finishedModel(t)
	for _, w := range []int{60, 80, 120} {
		m, _ = update(t, m, tea.WindowSizeMsg{Width: w, Height: 50})
		if got := m.table.Width(); got != w {
			t.Errorf("width %d: table width %d", w, got)
		}
		for _, l := range strings.Split(content(m), "\n") {
			if lw := ansi.StringWidth(l); lw > w {
				t.Errorf("width %d: line %d columns: %q", w, lw, l)
			}
		}
	}
	// The inline view never grows taller than the terminal.
	// Down to 16 lines, the shortest the finished view of all eight
	// stages folds into.
	for _, h := range []int{16, 18, 20, 24, 30, 40, 80} {
		m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: h})
		lines := strings.Count(content(m), "\n") + 1
		if lines > h {
			t.Errorf("height %d: view has %d lines", h, lines)
		}
		if vis := m.table.Height(); vis < 1 || vis > len(m.table.Rows()) {
			t.Errorf("height %d: table shows %d rows of %d", h, vis, len(m.table.Rows()))
		}
		// The 4th column and the full "your config" text of the row.
		mustContain(t, content(m), "your config", "your config: never ✗ → on-request")
	}
	// The shortest window folds the ok stages into one line; warnings and
	// failures keep theirs.
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 16})
	mustContain(t, content(m), "✓ ok      environment, auth, plan, parse, local files", "! warn    your config", "1 warning(s): unknown key")
}

func TestViewGolden(t *testing.T) {
	evs, _ := retryScenario()
	now := t0.Add(20*time.Second - 12340*time.Millisecond)
	t.Run("mid-run", func(t *testing.T) {
		m := newTestModel(t, nil, &now)
		// Up to and including the 503 and the backoff, then attempt 2 starts.
		m = feed(t, m, evs[:14]...)
		golden.RequireEqual(t, []byte(content(m)))
	})
	t.Run("finished", func(t *testing.T) {
		m := newTestModel(t, nil, &now)
		m = feed(t, m, evs...)
		golden.RequireEqual(t, []byte(content(m)))
	})
}

// A run in progress compacts too: an inline view taller than the window
// would lose its title and first stages.
func TestWindowSizeRunning(t *testing.T) {
	evs, _ := retryScenario()
	now := t0.Add(time.Second)
	m := newTestModel(t, nil, &now)
	m = feed(t, m, evs[:14]...)
	if !strings.Contains(content(m), "    email: dev@example.com") {
		t.Fatal("at 80×40 the running view should keep its details")
	}
	for _, h := range []int{16, 20, 24} {
		m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: h})
		c := content(m)
		if lines := strings.Count(c, "\n") + 1; lines > h {
			t.Errorf("height %d: running view has %d lines:\n%s", h, lines, c)
		}
		mustContain(t, c, "reqdoctor — demo", "pending your config")
	}
}
