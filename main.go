// Command reqdoctor diagnoses how the Codex CLI loads its workspace-managed
// policies ("cloud requirements"), stage by stage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/reqdoctor/reqdoctor/doctor"
	"github.com/reqdoctor/reqdoctor/fetch"
	"github.com/reqdoctor/reqdoctor/model"
	"github.com/reqdoctor/reqdoctor/ui"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version from the build info is used.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	codexHome string
	protocol  string
	timeout   time.Duration
	noLive    bool
	systemDir string
	json      bool
	plain     bool
	tui       bool
	demo      string // "" = off
	version   bool
}

// demoFlag is --demo[=scenario]: a bool flag that also takes a value.
type demoFlag struct{ name *string }

func (d demoFlag) String() string {
	if d.name == nil {
		return ""
	}
	return *d.name
}

func (d demoFlag) Set(s string) error {
	switch s {
	case "true":
		s = fetch.DefaultScenario
	case "false":
		s = ""
	}
	*d.name = s
	return nil
}

func (d demoFlag) IsBoolFlag() bool { return true }

// timeoutFlag accepts Go durations ("2s", "1m30s") and bare seconds ("20").
type timeoutFlag struct{ d *time.Duration }

func (t timeoutFlag) String() string {
	if t.d == nil || *t.d == 0 {
		return ""
	}
	return t.d.String()
}

func (t timeoutFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, perr := strconv.ParseFloat(s, 64)
		if perr != nil {
			return fmt.Errorf("%q is not a duration (try 20s or 1m)", s)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 {
		return fmt.Errorf("%q must be more than zero", s)
	}
	*t.d = d
	return nil
}

const usageHead = `reqdoctor — diagnose how Codex loads its workspace-managed policies
("cloud requirements") for ChatGPT Business and Enterprise users.

Usage:
  reqdoctor [flags]

Flags:
`

const usageTail = `
Modes: an interactive TUI when stdin and stdout are terminals; plain text
otherwise or with --plain; one JSON document with --json.

Exit codes:
  0    Codex would start: requirements load, or none apply
  1    Codex would refuse to start: fetch failed or requirements invalid
  2    usage error (bad flag, bad value)
  4    credentials missing, unreadable or rejected (401)
  124  the fetch timed out (Codex's Timeout)
  130  interrupted

Examples:
  reqdoctor                      diagnose this machine
  reqdoctor --demo               see it work against an embedded fake backend
  reqdoctor --demo=list          list the demo scenarios
  reqdoctor --json > report.json
  reqdoctor --timeout 5s --protocol requirements
`

func parseFlags(args []string) (config, *flag.FlagSet, error) {
	var c config
	fs := flag.NewFlagSet("reqdoctor", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the one error line itself
	fs.StringVar(&c.codexHome, "codex-home", "", "Codex home `DIR` (default $CODEX_HOME, else ~/.codex)")
	fs.StringVar(&c.protocol, "protocol", "auto", "protocol generation `MODE`: auto, bundle (Codex ≥ 0.137) or requirements (≤ 0.136)")
	fs.Var(timeoutFlag{&c.timeout}, "timeout", "overall fetch deadline as a `DURATION`, e.g. 5s (default: Codex's, 20s bundle / 15s requirements)")
	fs.StringVar(&c.systemDir, "system-config-dir", "", "the `DIR` holding requirements.toml and managed_config.toml (default "+model.DefaultSystemConfigDir()+")")
	fs.BoolVar(&c.noLive, "no-live", false, "when Codex would use a valid cache, skip reqdoctor's own comparison fetch")
	fs.BoolVar(&c.json, "json", false, "print one JSON document (schemaVersion 1) and nothing else on stdout")
	fs.BoolVar(&c.plain, "plain", false, "plain text output, no animation or escape codes")
	fs.BoolVar(&c.tui, "tui", false, "force the interactive TUI")
	fs.Var(demoFlag{&c.demo}, "demo", "run against an embedded fake backend; `SCENARIO` name, or list")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	// Errors print one line and a pointer to --help; --help itself prints
	// the usage to stdout (see run).
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	if fs.NArg() > 0 {
		return c, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch c.protocol {
	case "auto", string(model.ProtocolBundle), string(model.ProtocolRequirements):
	default:
		return c, fs, fmt.Errorf("--protocol must be auto, bundle or requirements, not %q", c.protocol)
	}
	n := 0
	for _, b := range []bool{c.json, c.plain, c.tui} {
		if b {
			n++
		}
	}
	if n > 1 {
		return c, fs, errors.New("choose one of --json, --plain and --tui")
	}
	return c, fs, nil
}

// printUsage prints --help with GNU-style double-dash flags, the form the
// README uses (Go's flag package accepts both).
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageHead)
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		switch {
		case f.Name == "demo":
			name += "[=" + arg + "]"
		case arg != "":
			name += " " + arg
		}
		fmt.Fprintf(w, "  %-24s %s\n", name, usage)
	})
	fmt.Fprint(w, usageTail)
}

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func run(args []string, stdout, stderr io.Writer) int {
	c, fs, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, fs)
		return doctor.ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "reqdoctor: %v\nRun 'reqdoctor --help' for usage.\n", err)
		return doctor.ExitUsage
	}
	if c.version {
		fmt.Fprintf(stdout, "reqdoctor %s\n", toolVersion())
		return doctor.ExitOK
	}

	opts := doctor.Options{CodexHome: c.codexHome, Protocol: c.protocol, Timeout: c.timeout, NoLive: c.noLive, SystemConfigDir: c.systemDir}
	title := "reqdoctor"
	if c.demo != "" {
		if c.demo == "list" {
			listScenarios(stdout)
			return doctor.ExitOK
		}
		sc, ok := fetch.FindScenario(c.demo)
		if !ok {
			fmt.Fprintf(stderr, "reqdoctor: unknown demo scenario %q; try --demo=list\n", c.demo)
			return doctor.ExitUsage
		}
		if c.codexHome != "" {
			fmt.Fprintln(stderr, "reqdoctor: --demo makes its own CODEX_HOME; leave out --codex-home")
			return doctor.ExitUsage
		}
		demo, err := fetch.StartDemo(sc)
		if err != nil {
			fmt.Fprintf(stderr, "reqdoctor: starting the demo: %v\n", err)
			return doctor.ExitRefuse
		}
		defer demo.Close()
		opts = doctor.DemoOptions(opts, demo)
		title = "reqdoctor — demo: " + sc.Name + " (" + sc.Title + ")"
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runFn := func(ctx context.Context, emit func(doctor.Event)) *doctor.Report {
		return doctor.Run(ctx, opts, emit)
	}

	var rep *doctor.Report
	switch {
	case c.json:
		rep = runFn(ctx, nil)
		if err := ui.WriteJSON(stdout, rep, toolVersion()); err != nil {
			fmt.Fprintf(stderr, "reqdoctor: writing JSON: %v\n", err)
			return doctor.ExitRefuse
		}
	case c.tui || (!c.plain && isTerminal(stdout) && term.IsTerminal(os.Stdin.Fd())):
		r, interrupted, err := ui.Run(ctx, runFn, ui.Options{Title: title})
		if err != nil {
			fmt.Fprintf(stderr, "reqdoctor: %v\n", err)
			return doctor.ExitRefuse
		}
		if interrupted {
			return doctor.ExitInterrupted
		}
		rep = r
	default:
		rep = ui.RunPlain(ctx, stdout, runFn)
	}
	if ctx.Err() != nil {
		return doctor.ExitInterrupted
	}
	if rep == nil {
		return doctor.ExitInterrupted
	}
	return rep.ExitCode
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

func listScenarios(w io.Writer) {
	fmt.Fprintln(w, "Demo scenarios (reqdoctor --demo=NAME):")
	for _, s := range fetch.Scenarios() {
		fmt.Fprintf(w, "  %-26s %s\n", s.Name, s.Title)
	}
}
