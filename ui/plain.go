package ui

import (
	"context"
	"fmt"
	"io"
	"slices"
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
	return runPrinter(ctx, &plainPrinter{w: w, width: width, st: PlainStyles()}, run)
}

// RunAccessible is RunPlain for screen readers and braille displays
// (--accessible): a static "Working: stage 3 of 8 (plan)..." line when a
// stage starts, then its result once; verdicts as words (OK, WARN, FAIL,
// SKIPPED) rather than glyphs, "hint:" before what to do, ASCII table
// borders and ASCII punctuation; no spinner, no repaint, no escape codes.
func RunAccessible(ctx context.Context, w io.Writer, run RunFunc) *doctor.Report {
	return runPrinter(ctx, &plainPrinter{w: w, width: PlainWidth, st: AccessibleStyles(), accessible: true}, run)
}

func runPrinter(ctx context.Context, p *plainPrinter, run RunFunc) *doctor.Report {
	p.printed = map[doctor.StageID]bool{}
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
	// accessible adds progress lines and keeps to ASCII (RunAccessible).
	accessible bool
}

func (p *plainPrinter) emit(ev doctor.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case doctor.StageStarted:
		if p.accessible && !p.printed[ev.ID] {
			p.line(progressLine(ev.ID))
		}
	case doctor.StageFinished:
		p.stage(ev.Result)
	case doctor.FetchStarted:
		// A start line, so the attempts printed live sit under their stage.
		head := fmt.Sprintf("GET %s (Codex gives up after %s)", cleanLine(ev.URL), formatSeconds(ev.Timeout))
		if p.accessible {
			p.line(strings.Join(wrapHanging("Working: ", asciiText(head), p.width, lipgloss.Style{}), "\n"))
			break
		}
		p.line(strings.Join(stageHead("…", "running", lipgloss.Style{}, doctor.StageFetch, head, p.width, p.st), "\n"))
	case doctor.FetchProgress:
		switch ev.Event.Kind {
		case fetch.AttemptFinished:
			// "#2  " hangs, so wrapped lines stay under their attempt.
			line := attemptLine(ev.Event.Attempt)
			if p.accessible {
				line = asciiText(line)
			}
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
	if p.accessible {
		r = asciiStage(r)
	}
	p.line(RenderStage(r, p.width, p.st))
}

// progressLine is the accessible mode's static line for a stage that
// starts, e.g. "Working: stage 3 of 8 (plan)...".
func progressLine(id doctor.StageID) string {
	all := doctor.AllStages()
	n := len(all)
	i := slices.Index(all, id)
	if i < 0 {
		return fmt.Sprintf("Working: %s...", StageTitle(id))
	}
	return fmt.Sprintf("Working: stage %d of %d (%s)...", i+1, n, StageTitle(id))
}

// asciiStage is r with its text in ASCII (see asciiText), so that wrapping
// measures what is printed.
func asciiStage(r doctor.StageResult) doctor.StageResult {
	r.Summary, r.Hint = asciiText(r.Summary), asciiText(r.Hint)
	ds := make([]doctor.Detail, len(r.Details))
	for i, d := range r.Details {
		ds[i] = doctor.Detail{Key: asciiText(d.Key), Value: asciiText(d.Value), ID: d.ID}
	}
	r.Details = ds
	return r
}

// asciiReplacer spells out the symbols of reqdoctor's own wording that
// screen readers name oddly ("check mark", "right arrow", "middle dot")
// or braille displays lack.
var asciiReplacer = strings.NewReplacer(
	"✓", "OK", "✗", "NOT OK", "→", "->", "…", "...", " · ", "; ", "·", "-",
	"—", "-", "–", "-", "≥", ">=", "≤", "<=", "×", "x", "“", `"`, "”", `"`, "‘", "'", "’", "'",
)

// asciiText is s with asciiReplacer's symbols spelt out.
func asciiText(s string) string { return asciiReplacer.Replace(s) }

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
	if p.accessible {
		s = asciiText(s) // the rest was converted before wrapping
	}
	// Write errors (a closed pipe) cannot be reported anywhere better;
	// the report is still returned for the exit code.
	_, _ = io.WriteString(p.w, strings.TrimRight(s, "\n")+"\n")
}
