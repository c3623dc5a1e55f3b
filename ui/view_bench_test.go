package ui

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/reqdoctor/reqdoctor/bench/benchdata"
	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/model"
)

// benchServers is the scale of BENCHMARKS.md: 5,000 MCP servers, ~1 MiB.
const benchServers = 5000

// bigServersRequirements is the merge of one ~1 MiB document with 5,000
// MCP servers: one huge row in the policies table. Parsed once per test
// binary: the views never modify it.
func bigServersRequirements(b *testing.B) *model.Requirements {
	b.Helper()
	bigOnce.Do(func() {
		l, err := model.ParseRequirements(benchdata.Requirements(benchServers), "enterprise-managed requirements Bench policy (frag-big)")
		if err != nil {
			bigErr = err
			return
		}
		bigReq = model.Merge(l)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigReq
}

var (
	bigOnce sync.Once
	bigReq  *model.Requirements
	bigErr  error
)

// manyRowsRequirements has n fields, so the policies table has n rows.
// Codex knows no such fields; the table shows them as not interpreted.
func manyRowsRequirements(n int) *model.Requirements {
	r := &model.Requirements{Fields: map[string]any{}, Sources: map[string]string{}}
	for i := range n {
		name := fmt.Sprintf("bench_field_%05d", i)
		r.Fields[name] = []any{"on-request", fmt.Sprintf("value-%d", i)}
		r.Sources[name] = fmt.Sprintf("enterprise-managed requirements Bench policy %d (frag-%03d)", i%200, i%200)
		r.Order = append(r.Order, name)
	}
	return r
}

func benchReport(req *model.Requirements) *doctor.Report {
	rep := &doctor.Report{Protocol: model.ProtocolBundle, Outcome: doctor.OutcomeRequirements, ExitCode: doctor.ExitOK,
		Requirements: req, CloudRequirements: req}
	for _, id := range doctor.AllStages() {
		rep.Stages = append(rep.Stages, doctor.StageResult{ID: id, Status: doctor.StatusOK, Summary: "ok",
			Details: []doctor.Detail{{Key: "detail", Value: "value"}}})
	}
	return rep
}

// finishedBenchModel is a TUI model in a 100×40 window that has received
// the Finished event of rep, as after a real run.
func finishedBenchModel(b *testing.B, rep *doctor.Report) Model {
	b.Helper()
	run := func(context.Context, func(doctor.Event)) *doctor.Report { return rep }
	m := NewModel(run, Options{Now: func() time.Time { return t0 }, Title: "reqdoctor"})
	b.Cleanup(m.cancel)
	m = benchUpdate(b, m, tea.WindowSizeMsg{Width: 100, Height: 40})
	m = benchUpdate(b, m, eventMsg{run: m.runID, ev: doctor.Finished{Report: rep}})
	if !m.finished {
		b.Fatal("the model did not take the Finished event")
	}
	return m
}

func benchUpdate(b *testing.B, m Model, msg tea.Msg) Model {
	b.Helper()
	next, _ := m.Update(msg)
	nm, ok := next.(Model)
	if !ok {
		b.Fatalf("Update returned %T, want ui.Model", next)
	}
	return nm
}

func benchView(b *testing.B, rep *doctor.Report) {
	m := finishedBenchModel(b, rep)
	b.ReportAllocs()
	for b.Loop() {
		if v := m.View(); v.Content == "" {
			b.Fatal("empty view")
		}
	}
}

// BenchmarkViewFinished5000Rows: View() of the finished TUI with a
// 5,000-row policies table (the target of BENCHMARKS.md: ≤ 2 ms).
func BenchmarkViewFinished5000Rows(b *testing.B) {
	benchView(b, benchReport(manyRowsRequirements(5000)))
}

// BenchmarkViewFinished5000Servers: View() with the 5,000-server policy,
// one row holding a ~1 MiB value.
func BenchmarkViewFinished5000Servers(b *testing.B) {
	benchView(b, benchReport(bigServersRequirements(b)))
}

// BenchmarkViewCursorDown5000Rows: one ↓ in the 5,000-row table and the
// View() that follows, what a key press costs.
func BenchmarkViewCursorDown5000Rows(b *testing.B) {
	m := finishedBenchModel(b, benchReport(manyRowsRequirements(5000)))
	down := tea.KeyPressMsg{Code: tea.KeyDown}
	b.ReportAllocs()
	for b.Loop() {
		m = benchUpdate(b, m, down)
		_ = m.View()
	}
}

// BenchmarkFinishUpdate5000Rows: the Update that takes the Finished event
// and builds the 5,000-row table.
func BenchmarkFinishUpdate5000Rows(b *testing.B) {
	rep := benchReport(manyRowsRequirements(5000))
	b.ReportAllocs()
	for b.Loop() {
		finishedBenchModel(b, rep)
	}
}

// BenchmarkFinishUpdate5000Servers: the same with the 5,000-server policy.
func BenchmarkFinishUpdate5000Servers(b *testing.B) {
	rep := benchReport(bigServersRequirements(b))
	b.ReportAllocs()
	for b.Loop() {
		finishedBenchModel(b, rep)
	}
}

// BenchmarkRenderPolicies5000Servers: the plain-mode policies table of the
// 5,000-server policy.
func BenchmarkRenderPolicies5000Servers(b *testing.B) {
	rows := policyRows(bigServersRequirements(b))
	st := PlainStyles()
	b.ReportAllocs()
	for b.Loop() {
		if RenderPolicies(rows, nil, PlainWidth, st) == "" {
			b.Fatal("empty table")
		}
	}
}

// BenchmarkPlainReport5000Servers: the whole plain-mode output of a
// finished report with the 5,000-server policy.
func BenchmarkPlainReport5000Servers(b *testing.B) {
	rep := benchReport(bigServersRequirements(b))
	run := func(context.Context, func(doctor.Event)) *doctor.Report { return rep }
	b.ReportAllocs()
	for b.Loop() {
		RunPlain(context.Background(), io.Discard, run)
	}
}

// BenchmarkWriteJSON5000Servers: the --json document of the same report.
func BenchmarkWriteJSON5000Servers(b *testing.B) {
	rep := benchReport(bigServersRequirements(b))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJSON(io.Discard, rep, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFinishedMsg: only the Update taking the Finished event, in a model
// already sized to 100×40 (what the user waits for when the result lands).
func benchFinishedMsg(b *testing.B, rep *doctor.Report) {
	run := func(context.Context, func(doctor.Event)) *doctor.Report { return rep }
	m := NewModel(run, Options{Now: func() time.Time { return t0 }, Title: "reqdoctor"})
	b.Cleanup(m.cancel)
	m = benchUpdate(b, m, tea.WindowSizeMsg{Width: 100, Height: 40})
	msg := eventMsg{run: m.runID, ev: doctor.Finished{Report: rep}}
	b.ReportAllocs()
	for b.Loop() {
		if !benchUpdate(b, m, msg).finished {
			b.Fatal("the model did not take the Finished event")
		}
	}
}

// BenchmarkFinishedMsg5000Rows: the Finished Update with 5,000 rows.
func BenchmarkFinishedMsg5000Rows(b *testing.B) {
	benchFinishedMsg(b, benchReport(manyRowsRequirements(5000)))
}

// BenchmarkFinishedMsg5000Servers: the same with the 5,000-server policy.
func BenchmarkFinishedMsg5000Servers(b *testing.B) {
	benchFinishedMsg(b, benchReport(bigServersRequirements(b)))
}

// benchResize: a WindowSizeMsg to a width the model has not laid out yet
// (the cache of detail heights emptied each time), as while dragging the
// window's edge.
func benchResize(b *testing.B, rep *doctor.Report) {
	m := finishedBenchModel(b, rep)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		m.details = &detailCache{height: map[int]int{}}
		m = benchUpdate(b, m, tea.WindowSizeMsg{Width: 90 + i%20, Height: 40})
	}
}

// BenchmarkResize5000Rows: a resize with the 5,000-row table.
func BenchmarkResize5000Rows(b *testing.B) { benchResize(b, benchReport(manyRowsRequirements(5000))) }

// BenchmarkResize5000Servers: a resize with the 5,000-server policy.
func BenchmarkResize5000Servers(b *testing.B) { benchResize(b, benchReport(bigServersRequirements(b))) }

// BenchmarkRenderPolicies5000Rows: the plain-mode table with 5,000 rows.
func BenchmarkRenderPolicies5000Rows(b *testing.B) {
	rows := policyRows(manyRowsRequirements(5000))
	st := PlainStyles()
	b.ReportAllocs()
	for b.Loop() {
		if RenderPolicies(rows, nil, PlainWidth, st) == "" {
			b.Fatal("empty table")
		}
	}
}

// BenchmarkViewFetching: View() while the fetch hangs, what each
// countdown tick costs (10 a second).
func BenchmarkViewFetching(b *testing.B) {
	run := func(context.Context, func(doctor.Event)) *doctor.Report { return nil }
	m := NewModel(run, Options{Now: func() time.Time { return t0 }, Title: "reqdoctor"})
	b.Cleanup(m.cancel)
	m = benchUpdate(b, m, tea.WindowSizeMsg{Width: 100, Height: 40})
	for _, id := range doctor.AllStages() {
		if id == doctor.StageFetch {
			break
		}
		m = benchUpdate(b, m, eventMsg{run: m.runID, ev: doctor.StageFinished{Result: doctor.StageResult{ID: id, Status: doctor.StatusOK,
			Summary: "ok", Details: []doctor.Detail{{Key: "detail", Value: "a value long enough to be wrapped once or twice in a window of a hundred columns, like a path"}}}}})
	}
	m = benchUpdate(b, m, eventMsg{run: m.runID, ev: doctor.StageStarted{ID: doctor.StageFetch}})
	m = benchUpdate(b, m, eventMsg{run: m.runID, ev: doctor.FetchStarted{URL: "https://chatgpt.com/backend-api/wham/config/requirements", Deadline: t0.Add(10 * time.Second), Timeout: 10 * time.Second}})
	b.ReportAllocs()
	for b.Loop() {
		m = benchUpdate(b, m, countdownMsg{run: m.runID})
		if v := m.View(); v.Content == "" {
			b.Fatal("empty view")
		}
	}
}
