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
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
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
	os.Exit(guarded(func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }, os.Stderr))
}

// guarded runs f; a panic outside the stages (which contain their own)
// becomes one line naming a file with the trace, and exit 1, instead of a
// stack trace over the user's terminal.
func guarded(f func() int, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			msg := fmt.Sprintf("reqdoctor crashed: %s", fetch.Sanitize(fmt.Sprint(p), 300))
			if path := doctor.SaveCrash(fmt.Sprint(p)); path != "" {
				msg += "; the trace is in " + path + " — please report it"
			}
			fmt.Fprintln(stderr, msg)
			code = doctor.ExitRefuse
		}
	}()
	return f()
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

	report     string // --report FILE; "" = none
	noRedact   bool
	noColor    bool
	accessible bool
	verbose    bool
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
otherwise, with --plain or with TERM=dumb; one JSON document with --json;
static, screen-reader friendly lines with --accessible or ACCESSIBLE=1.
In the TUI, c copies the redacted report (OSC 52) and saves it to a file.

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
  reqdoctor --report report.md   also write a report to attach to a ticket
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
	fs.BoolVar(&c.verbose, "verbose", false, "print each request's and response's headers to stderr, secrets redacted (also -v)")
	fs.BoolVar(&c.verbose, "v", false, "short for --verbose")
	fs.BoolVar(&c.json, "json", false, "print one JSON document (schemaVersion 1) and nothing else on stdout")
	fs.BoolVar(&c.plain, "plain", false, "plain text output, no animation or escape codes")
	fs.BoolVar(&c.tui, "tui", false, "force the interactive TUI")
	fs.Var(demoFlag{&c.demo}, "demo", "run against an embedded fake backend; `SCENARIO` name, or list")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.StringVar(&c.report, "report", "", "also write a redacted Markdown report to `FILE` (refused inside CODEX_HOME)")
	fs.BoolVar(&c.noRedact, "no-redact", false, "show paths, e-mails and ids in full in reports (tokens never)")
	fs.BoolVar(&c.noColor, "no-color", false, "no colour (also when NO_COLOR is set or TERM=dumb)")
	fs.BoolVar(&c.accessible, "accessible", false, "screen-reader output: progress lines, words not symbols, no animation (also ACCESSIBLE=1)")
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
	if c.accessible && c.tui {
		return c, fs, errors.New("--accessible prints static lines; it cannot go with --tui")
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
		case f.Name == "v":
			return // shown with --verbose
		case f.Name == "verbose":
			name = "-v, --verbose"
			usage = strings.TrimSuffix(usage, " (also -v)")
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
	if c.verbose {
		// Headers go to stderr: stdout stays the report (or the JSON).
		opts.Verbose = stderr
	}
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

	reportPath := ""
	if c.report != "" {
		p, err := checkReportPath(c.report, codexHomeOf(opts))
		if err != nil {
			fmt.Fprintf(stderr, "reqdoctor: %v\nRun 'reqdoctor --help' for usage.\n", err)
			return doctor.ExitUsage
		}
		reportPath = p
	}
	home, _ := os.UserHomeDir()
	redactor := model.NewRedactor(home, !c.noRedact)
	info := ui.NewReportInfo(toolVersion(), title, os.Getenv)
	// writeReport writes --report FILE after a plain or JSON run and says
	// so on stderr (stdout may be the JSON document).
	writeReport := func(rep *doctor.Report) {
		if reportPath == "" || rep == nil {
			return
		}
		if err := ui.WriteReportFile(reportPath, ui.MarkdownReport(rep, info, redactor)); err != nil {
			fmt.Fprintf(stderr, "reqdoctor: writing the report: %v\n", err)
			return
		}
		fmt.Fprintf(stderr, "reqdoctor: report written to %s\n", reportPath)
	}
	noColor := c.noColor || envSet("NO_COLOR") || os.Getenv("TERM") == "dumb"
	accessible := c.accessible || (envSet("ACCESSIBLE") && !c.tui)

	// A closed terminal (SIGHUP) ends the run like ctrl+c, so the demo's
	// throw-away folder is still removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
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
		writeReport(rep)
	case accessible:
		rep = ui.RunAccessible(ctx, stdout, runFn)
		writeReport(rep)
	case c.tui || (!c.plain && os.Getenv("TERM") != "dumb" && isTerminal(stdout) && term.IsTerminal(os.Stdin.Fd())):
		var progOpts []tea.ProgramOption
		if noColor {
			progOpts = append(progOpts, tea.WithColorProfile(colorprofile.Ascii))
		}
		r, interrupted, err := ui.Run(ctx, runFn, ui.Options{Title: title, ReportInfo: info, Redactor: redactor, ReportFile: reportPath}, progOpts...)
		if err != nil {
			fmt.Fprintf(stderr, "reqdoctor: %v\n", err)
			return doctor.ExitRefuse
		}
		if interrupted {
			return doctor.ExitInterrupted
		}
		rep = r
	default:
		// Plain output has no escape codes at all, colour or not.
		rep = ui.RunPlain(ctx, stdout, runFn)
		writeReport(rep)
	}
	if ctx.Err() != nil {
		return doctor.ExitInterrupted
	}
	if rep == nil {
		return doctor.ExitInterrupted
	}
	return rep.ExitCode
}

// envSet says whether the variable is set to a non-empty value:
// no-color.org's rule for NO_COLOR, which colorprofile reads as a boolean.
func envSet(name string) bool {
	v, ok := os.LookupEnv(name)
	return ok && v != ""
}

// codexHomeOf is the CODEX_HOME a run with opts reads: --codex-home (or
// the demo's), else $CODEX_HOME, else ~/.codex; "" when unknown.
func codexHomeOf(opts doctor.Options) string {
	if opts.CodexHome != "" {
		return opts.CodexHome
	}
	if v := os.Getenv("CODEX_HOME"); v != "" {
		return v
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".codex")
	}
	return ""
}

// checkReportPath makes file absolute and refuses what reqdoctor must
// not or cannot write: a path inside CODEX_HOME (reqdoctor never writes
// there), a directory, a file in a directory that does not exist.
func checkReportPath(file, codexHome string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", fmt.Errorf("--report %s: %v", file, err)
	}
	if codexHome != "" && insideDir(abs, codexHome) {
		return "", fmt.Errorf("--report %s is inside CODEX_HOME (%s); reqdoctor never writes there, choose another path", file, codexHome)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("--report %s is a directory; give a file name", file)
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("--report %s: directory %s does not exist", file, filepath.Dir(abs))
	}
	return abs, nil
}

// insideDir says whether path is dir or below it, symlinks resolved as
// far as the paths exist (so a link into CODEX_HOME counts as inside).
func insideDir(path, dir string) bool {
	rel, err := filepath.Rel(resolvePath(dir), resolvePath(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolvePath is path made absolute with the symlinks of its longest
// existing prefix resolved.
func resolvePath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	dir, rest := abs, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
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
