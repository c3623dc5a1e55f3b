package ui

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/reqdoctor/reqdoctor/doctor"
)

// colourSGR matches an SGR sequence that sets a foreground colour.
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9]+;)*(?:3[0-8]|9[0-7])[;m]`)

func startProgram(t *testing.T, run RunFunc) *teatest.TestModel {
	t.Helper()
	m := NewModel(run, Options{Title: "reqdoctor — demo: 5xx then success"})
	return teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(100, 50),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
}

// The whole program: the fake pipeline runs in the background, the stages
// appear, the verdict and table follow, q quits with the report kept.
func TestProgram(t *testing.T) {
	evs, rep := retryScenario()
	tm := startProgram(t, fakeRun(evs, rep, 15*time.Millisecond))

	// WaitFor consumes the output; keep a copy of everything read.
	var all bytes.Buffer
	teatest.WaitFor(t, io.TeeReader(tm.Output(), &all), func(b []byte) bool {
		return bytes.Contains(b, []byte("Codex would start with workspace policies (exit 0)"))
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))

	tm.Send(keyQ)
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	rest, err := io.ReadAll(tm.FinalOutput(t))
	if err != nil {
		t.Fatal(err)
	}
	all.Write(rest)
	out := all.String()

	for _, want := range []string{
		"reqdoctor — demo: 5xx then success",
		"running",
		"environment", "auth", "plan", "cache", "fetch", "parse",
		"#1  503  412 ms  server error",
		"waiting 0.41 s before attempt 2",
		"allowed values",
		"allowed_approval_policies",
		"1 warning(s):",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("program output lacks %q", want)
		}
	}
	// Ascii profile: attributes may remain, colours must not.
	if c := colourSGR.FindString(out); c != "" {
		t.Errorf("colour escape code %q despite the Ascii colour profile", c)
	}

	final, ok := tm.FinalModel(t).(Model)
	if !ok {
		t.Fatalf("final model is %T", tm.FinalModel(t))
	}
	if final.Report() != rep {
		t.Errorf("Report() = %p, want %p", final.Report(), rep)
	}
	if final.Interrupted() {
		t.Error("Interrupted() after quitting a finished run")
	}
}

// ctrl+c during the fetch interrupts: no report, Interrupted() set.
func TestProgramInterrupted(t *testing.T) {
	started := make(chan struct{})
	run := func(ctx context.Context, emit func(doctor.Event)) *doctor.Report {
		emit(doctor.StageStarted{ID: doctor.StageFetch})
		emit(doctor.FetchStarted{URL: bundleURL, Deadline: time.Now().Add(20 * time.Second), Timeout: 20 * time.Second})
		close(started)
		<-ctx.Done()
		return nil
	}
	tm := startProgram(t, run)
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("deadline in 1")) // 19.x s
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	<-started
	tm.Send(keyCtrlC)
	final, ok := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	if !ok {
		t.Fatal("final model is not a ui.Model")
	}
	if !final.Interrupted() || final.Report() != nil {
		t.Errorf("Interrupted() = %v, Report() = %v; want true, nil", final.Interrupted(), final.Report())
	}
}

// watchWriter collects output and closes seen once it contains want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want []byte
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// Run drives a real Program: q typed on its input once the verdict is on
// screen ends it with the report.
func TestRun(t *testing.T) {
	evs, rep := retryScenario()
	out := &watchWriter{want: []byte("Codex would start"), seen: make(chan struct{})}
	in, typeKeys := io.Pipe()
	go func() {
		select {
		case <-out.seen:
			_, _ = typeKeys.Write([]byte("q"))
		case <-time.After(10 * time.Second):
		}
	}()
	got, interrupted, err := Run(context.Background(), fakeRun(evs, rep, time.Millisecond), Options{},
		tea.WithInput(in), tea.WithOutput(out), tea.WithWindowSize(100, 50), tea.WithoutSignals(),
		tea.WithColorProfile(colorprofile.Ascii))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got != rep || interrupted {
		t.Errorf("Run = %p, %v; want %p, false", got, interrupted, rep)
	}
}
