package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"charm.land/lipgloss/v2"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
)

// RunFunc runs the whole diagnosis, calling emit from its own goroutine as
// it progresses (ending with doctor.Finished), and returns the report.
type RunFunc func(ctx context.Context, emit func(doctor.Event)) *doctor.Report

// PlainWidth is the width plain output is wrapped to: 80 columns keep a
// report readable when pasted into a ticket.
const PlainWidth = 80

// RunPlain runs the diagnosis and prints it as plain text to w: each stage
// once when it finishes, fetch attempts as they end, then the policies
// table, the warnings and the verdict. No animation, no escape codes.
func RunPlain(ctx context.Context, w io.Writer, run RunFunc) *doctor.Report {
	return RunPlainWidth(ctx, w, run, PlainWidth)
}

// RunPlainWidth is RunPlain wrapping to width columns (0: no wrapping).
func RunPlainWidth(ctx context.Context, w io.Writer, run RunFunc, width int) *doctor.Report {
	p := &plainPrinter{w: w, width: width, st: PlainStyles(), printed: map[doctor.StageID]bool{}}
	rep := run(ctx, p.emit)
	p.mu.Lock()
	defer p.mu.Unlock()
	if rep == nil {
		rep = p.final
	}
	p.finish(rep)
	return rep
}

// plainPrinter turns events into lines. emit may be called from another
// goroutine, hence the lock.
type plainPrinter struct {
	mu      sync.Mutex
	w       io.Writer
	width   int
	st      Styles
	printed map[doctor.StageID]bool
	final   *doctor.Report
}

func (p *plainPrinter) emit(ev doctor.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case doctor.StageFinished:
		p.stage(ev.Result)
	case doctor.FetchStarted:
		// A start line, so the attempts printed live sit under their stage.
		head := fmt.Sprintf("GET %s (Codex gives up after %s)", cleanLine(ev.URL), formatSeconds(ev.Timeout))
		p.line(strings.Join(stageHead("…", "running", lipgloss.Style{}, doctor.StageFetch, head, p.width, p.st), "\n"))
	case doctor.FetchProgress:
		switch ev.Event.Kind {
		case fetch.AttemptFinished:
			// "#2  " hangs, so wrapped lines stay under their attempt.
			line := attemptLine(ev.Event.Attempt)
			num, rest, _ := strings.Cut(line, "  ")
			p.line(strings.Join(wrapHanging(indent(detailIndent)+num+"  ", rest, p.width, lipgloss.Style{}), "\n"))
		case fetch.BackoffStarted:
			wait := ev.Event.Wait
			if wait == 0 {
				wait = ev.Event.Attempt.Backoff
			}
			p.line(indent(detailIndent) + renderWait(wait, ev.Event.Attempt.N+1))
		}
	case doctor.Finished:
		p.final = ev.Report
	}
}

func (p *plainPrinter) stage(r doctor.StageResult) {
	if p.printed[r.ID] {
		return
	}
	p.printed[r.ID] = true
	p.line(RenderStage(r, p.width, p.st))
}

// finish prints what the events did not (stages of a pipeline that emitted
// nothing), then the table, warnings and verdict.
func (p *plainPrinter) finish(rep *doctor.Report) {
	if rep != nil {
		for _, s := range rep.Stages {
			p.stage(s)
		}
	}
	p.line("")
	if rep != nil && rep.Requirements != nil {
		if rows := policyRows(rep.Requirements); len(rows) > 0 {
			p.line("workspace policies")
			p.line(RenderPolicies(rows, rep.PolicyChecks, p.width, p.st))
			p.line("")
		}
	}
	p.line(renderSummary(rep, p.width, p.st))
}

func (p *plainPrinter) line(s string) {
	// Write errors (a closed pipe) cannot be reported anywhere better;
	// the report is still returned for the exit code.
	_, _ = io.WriteString(p.w, strings.TrimRight(s, "\n")+"\n")
}
