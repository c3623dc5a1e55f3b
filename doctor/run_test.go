package doctor

import (
	"context"
	"testing"

	"github.com/reqdoctor/reqdoctor/fetch"
)

// TestDemoScenarios runs every demo scenario through the real pipeline
// against its fake backend on loopback and checks the outcome, Codex's
// error code, the number of requests the backend saw and the exit code.
func TestDemoScenarios(t *testing.T) {
	for _, sc := range fetch.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			demo, err := fetch.StartDemo(sc)
			if err != nil {
				t.Fatal(err)
			}
			defer demo.Close()
			opts := DemoOptions(Options{Protocol: "auto"}, demo)
			opts.Jitter = func() float64 { return 1 }
			var events []Event
			rep := Run(context.Background(), opts, func(e Event) { events = append(events, e) })

			if got := string(rep.Outcome); got != sc.Expect.Outcome {
				t.Errorf("outcome = %q, want %q (stages: %+v)", got, sc.Expect.Outcome, rep.Stages)
			}
			code := ""
			if rep.Err != nil {
				code = string(rep.Err.Code)
			}
			if code != sc.Expect.ErrorCode {
				t.Errorf("error code = %q, want %q (err %+v)", code, sc.Expect.ErrorCode, rep.Err)
			}
			attempts := 0
			if rep.Fetch != nil {
				attempts = len(rep.Fetch.Attempts)
			}
			if attempts != sc.Expect.Attempts {
				t.Errorf("attempts in report = %d, want %d", attempts, sc.Expect.Attempts)
			}
			if got, want := len(demo.Backend.Requests()), sc.Expect.Attempts+sc.Expect.LiveRequests; got != want {
				t.Errorf("backend saw %d requests, want %d", got, want)
			}
			live := 0
			if rep.Live != nil {
				live = len(rep.Live.Fetch.Attempts)
			}
			if live != sc.Expect.LiveRequests {
				t.Errorf("live check made %d requests, want %d", live, sc.Expect.LiveRequests)
			}
			if rep.ExitCode != sc.Expect.ExitCode {
				t.Errorf("exit code = %d, want %d", rep.ExitCode, sc.Expect.ExitCode)
			}
			if len(rep.Stages) != len(AllStages()) {
				t.Fatalf("%d stages, want %d", len(rep.Stages), len(AllStages()))
			}
			for i, id := range AllStages() {
				if rep.Stages[i].ID != id {
					t.Errorf("stage %d = %s, want %s", i, rep.Stages[i].ID, id)
				}
			}
			if _, ok := events[len(events)-1].(Finished); !ok {
				t.Errorf("last event is %T, want Finished", events[len(events)-1])
			}
		})
	}
}
