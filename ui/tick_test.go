package ui

import (
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"

	"github.com/reqdoctor/reqdoctor/doctor"
)

// TestCountdownDrivesSpinner: while the fetch countdown ticks, it turns
// the spinner every spinEvery ticks and the spinner's own loop stops, so
// a hanging fetch redraws once per tick; when the fetch ends, the
// spinner's loop comes back for the stages still running.
func TestCountdownDrivesSpinner(t *testing.T) {
	now := t0
	m := newTestModel(t, nil, &now)
	m = feed(t, m, doctor.StageStarted{ID: doctor.StageFetch})
	m, _ = update(t, m, eventMsg{run: m.runID, ev: doctor.FetchStarted{URL: bundleURL, Deadline: t0.Add(20 * time.Second), Timeout: 20 * time.Second}})

	// The spinner's own tick arriving now is dropped: no new tick.
	m, cmd := update(t, m, m.spinner.Tick())
	if cmd != nil || m.spinning {
		t.Fatalf("spinner tick during the countdown: cmd %v, spinning %v; want no cmd, not spinning", cmd != nil, m.spinning)
	}
	frames := []string{m.spinner.View()}
	for i := range 4 * spinEvery {
		now = now.Add(countdownEvery)
		if m, cmd = update(t, m, countdownMsg{run: m.runID}); cmd == nil {
			t.Fatalf("tick %d: the countdown stopped", i+1)
		}
		if got := m.spinner.View(); got != frames[len(frames)-1] {
			if (i+1)%spinEvery != 0 {
				t.Fatalf("tick %d turned the spinner, want every %d ticks", i+1, spinEvery)
			}
			frames = append(frames, got)
		}
	}
	if len(frames) != 5 {
		t.Errorf("spinner frames over %d ticks: %q, want 5 different in turn", 4*spinEvery, frames)
	}
	mustContain(t, content(m), "deadline in 19.2 s of 20 s")

	// The fetch ends, the next stage runs: the next countdown tick stops
	// the countdown and restarts the spinner's loop.
	m = feed(t, m, doctor.StageFinished{Result: doctor.StageResult{ID: doctor.StageFetch, Status: doctor.StatusOK}},
		doctor.StageStarted{ID: doctor.StageParse})
	m, cmd = update(t, m, countdownMsg{run: m.runID})
	if cmd == nil || !m.spinning || m.ticking {
		t.Fatalf("after the fetch: cmd %v, spinning %v, ticking %v; want the spinner's tick, spinning, not ticking", cmd != nil, m.spinning, m.ticking)
	}
	if _, ok := cmd().(spinner.TickMsg); !ok {
		t.Error("the restarted loop does not tick the spinner")
	}
}
