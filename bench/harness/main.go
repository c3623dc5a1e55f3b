// Command harness measures the built reqdoctor binary from the outside, as
// BENCHMARKS.md describes: end-to-end wall time and peak RSS of --json, own
// overhead behind a 200 ms server, deadline precision, CPU spent by the TUI
// while it waits, time to first frame, binary size; it adds the medians of
// the Go benchmarks and prints one Markdown table. It talks to 127.0.0.1
// only (the backends it starts) and never to the user's CODEX_HOME or
// /etc/codex. Every loop is bounded.
//
//	go run ./bench/harness -bin /tmp/reqdoctor -backend /tmp/backend
//
// bench/run builds everything and calls it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reqdoctor/reqdoctor/bench/benchdata"
)

type options struct {
	bin, binStripped, backend, gotest string
	runs, waitRuns, frameRuns         int
	skipTUI                           bool
	only                              string
}

// want reports whether the figure group name is to be measured.
func (o options) want(name string) bool {
	if o.only == "" {
		return true
	}
	return slices.Contains(strings.Split(o.only, ","), name)
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "the reqdoctor binary to measure")
	flag.StringVar(&o.binStripped, "bin-stripped", "", "the same built with -ldflags='-s -w' (size only)")
	flag.StringVar(&o.backend, "backend", "", "the bench backend binary (bench/backend)")
	flag.StringVar(&o.gotest, "gotest", "", "output of `go test -bench` to summarise (optional)")
	flag.IntVar(&o.runs, "runs", 21, "runs per end-to-end figure")
	flag.IntVar(&o.waitRuns, "wait-runs", 3, "runs of the 10 s waiting-cost figure")
	flag.IntVar(&o.frameRuns, "frame-runs", 11, "runs of the first-frame figure")
	flag.BoolVar(&o.skipTUI, "skip-tui", false, "skip the tmux figures")
	flag.StringVar(&o.only, "only", "", "measure only these figure groups, comma-separated: e2e, deadline, frame, wait")
	flag.Parse()
	if o.bin == "" || o.backend == "" {
		fmt.Fprintln(os.Stderr, "harness: -bin and -backend are required")
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cleanup()
		os.Exit(130)
	}()
	err := run(o)
	cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "harness: %v\n", err)
		os.Exit(1)
	}
}

// cleanups undo what the harness started (backends, tmux servers); they
// also run on SIGINT/SIGTERM so an interrupted run leaves nothing behind.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func cleanup() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// row is one line of the results table.
type row struct{ figure, result, target, verdict string }

func verdict(ok bool) string {
	if ok {
		return "✓ met"
	}
	return "✗ missed"
}

// bench is the scratch space of one harness run.
type bench struct {
	o       options
	tmp     string
	pathDir string // an empty directory: PATH without codex
	rows    []row
}

func run(o options) error {
	tmp, err := os.MkdirTemp("", "reqdoctor-bench-*")
	if err != nil {
		return err
	}
	atExit(func() { os.RemoveAll(tmp) })
	b := &bench{o: o, tmp: tmp, pathDir: filepath.Join(tmp, "empty-path")}
	if err := os.Mkdir(b.pathDir, 0o700); err != nil {
		return err
	}

	fast, err := b.home("fast")
	if err != nil {
		return err
	}
	slow, err := b.home("slow", "-delay", "200ms")
	if err != nil {
		return err
	}
	hang, err := b.home("hang", "-hang")
	if err != nil {
		return err
	}
	big, err := b.home("big", "-servers", "5000")
	if err != nil {
		return err
	}

	if o.want("e2e") {
		if err := b.endToEnd(fast, slow, big); err != nil {
			return err
		}
	}
	if o.want("deadline") {
		if err := b.deadline(hang); err != nil {
			return err
		}
	}
	if !o.skipTUI && (o.want("frame") || o.want("wait")) {
		if _, err := exec.LookPath("tmux"); err != nil {
			b.rows = append(b.rows, row{"TUI figures", "not measured: tmux not installed", "", ""})
		} else {
			if o.want("frame") {
				if err := b.firstFrame(fast); err != nil {
					return fmt.Errorf("first frame: %w", err)
				}
			}
			if o.want("wait") {
				if err := b.waiting(hang); err != nil {
					return fmt.Errorf("waiting cost: %w", err)
				}
			}
		}
	}
	b.sizes()
	if o.gotest != "" {
		if err := b.goBench(o.gotest); err != nil {
			return err
		}
	}
	b.print()
	return nil
}

// home is a throw-away CODEX_HOME pointing at a new backend started with
// args.
type home struct {
	name, dir, codexHome, sysDir, url string
	extraEnv                          []string
}

func (b *bench) home(name string, args ...string) (home, error) {
	cmd := exec.Command(b.o.backend, append([]string{"-lifetime", "20m"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return home{}, err
	}
	if err := cmd.Start(); err != nil {
		return home{}, fmt.Errorf("start backend: %w", err)
	}
	atExit(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var url string
	select {
	case url = <-lines:
	case <-time.After(10 * time.Second):
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		return home{}, fmt.Errorf("backend %s gave no loopback URL (got %q)", name, url)
	}
	dir := filepath.Join(b.tmp, name)
	codexHome, sysDir, err := benchdata.WriteHome(dir, url, time.Now())
	if err != nil {
		return home{}, err
	}
	return home{name: name, dir: dir, codexHome: codexHome, sysDir: sysDir, url: url}, nil
}

// env is the whole environment of a reqdoctor run: nothing of the user's.
func (b *bench) env(h home, term string) []string {
	return append([]string{"PATH=" + b.pathDir, "HOME=" + h.dir, "CODEX_HOME=" + h.codexHome, "TERM=" + term, "LANG=C.UTF-8"}, h.extraEnv...)
}

func args(h home, extra ...string) []string {
	return append([]string{"--protocol", "bundle", "--codex-home", h.codexHome, "--system-config-dir", h.sysDir}, extra...)
}

type measured struct {
	wall   time.Duration
	rssKiB int64
	cpu    time.Duration
	exit   int
	stdout []byte
}

// once runs the binary to completion (bounded by limit).
func (b *bench) once(h home, limit time.Duration, extra ...string) (measured, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.o.bin, args(h, extra...)...)
	cmd.Env = b.env(h, "dumb")
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var m measured
	m.wall, m.stdout = wall, out.Bytes()
	if cmd.ProcessState == nil {
		return m, err
	}
	m.exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rssKiB = ru.Maxrss // KiB on Linux
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return m, err
	}
	if ctx.Err() != nil {
		return m, fmt.Errorf("reqdoctor ran longer than %s", limit)
	}
	return m, nil
}

// series runs n times after warm-up runs, checking every run's exit code.
func (b *bench) series(h home, n, wantExit int, limit time.Duration, extra ...string) ([]measured, error) {
	var out []measured
	for i := range n + 2 {
		m, err := b.once(h, limit, extra...)
		if err != nil {
			return nil, err
		}
		if m.exit != wantExit {
			return nil, fmt.Errorf("%s backend: exit %d, want %d; stdout: %.400s", h.name, m.exit, wantExit, m.stdout)
		}
		if i >= 2 { // two warm-up runs fill the page cache
			out = append(out, m)
		}
	}
	return out, nil
}

func checkJSON(m measured, wantServers int) error {
	var doc struct {
		Outcome      string         `json:"outcome"`
		Requirements map[string]any `json:"requirements"`
	}
	if err := json.Unmarshal(m.stdout, &doc); err != nil {
		return fmt.Errorf("--json output is not JSON: %v", err)
	}
	servers, _ := doc.Requirements["mcp_servers"].(map[string]any)
	if doc.Outcome != "requirements" || len(servers) != wantServers {
		return fmt.Errorf("--json: outcome %q with %d MCP servers, want requirements with %d", doc.Outcome, len(servers), wantServers)
	}
	return nil
}

func median[T int64 | time.Duration | float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func pick[T any, U any](ms []T, f func(T) U) []U {
	out := make([]U, len(ms))
	for i, m := range ms {
		out[i] = f(m)
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mb(kib int64) string { return fmt.Sprintf("%.1f MB", float64(kib)*1024/1e6) }

func spread(ds []time.Duration) string {
	return fmt.Sprintf(" (min %s, max %s, n=%d)", ms(slices.Min(ds)), ms(slices.Max(ds)), len(ds))
}

func (b *bench) endToEnd(fast, slow, big home) error {
	const limit = 30 * time.Second
	runs, err := b.series(fast, b.o.runs, 0, limit, "--json")
	if err != nil {
		return err
	}
	if err := checkJSON(runs[0], 1); err != nil {
		return err
	}
	walls := pick(runs, func(m measured) time.Duration { return m.wall })
	rss := pick(runs, func(m measured) int64 { return m.rssKiB })
	cpu := pick(runs, func(m measured) time.Duration { return m.cpu })
	w, r := median(walls), median(rss)
	b.rows = append(b.rows,
		row{"end-to-end `--json`, server answers at once: wall", ms(w) + spread(walls), "≤ 15 ms", verdict(w <= 15*time.Millisecond)},
		row{"end-to-end `--json`: peak RSS", mb(r) + fmt.Sprintf(" (max %s)", mb(slices.Max(rss))), "≤ 25 MB", verdict(float64(r)*1024 <= 25e6)},
		row{"end-to-end `--json`: CPU time (user+sys)", ms(median(cpu)), "—", ""},
	)

	// The floor: the same process start and exit without a diagnosis.
	runs, err = b.series(fast, b.o.runs, 0, limit, "--version")
	if err != nil {
		return err
	}
	walls = pick(runs, func(m measured) time.Duration { return m.wall })
	rss = pick(runs, func(m measured) int64 { return m.rssKiB })
	b.rows = append(b.rows, row{"process floor: `reqdoctor --version` (start, exit, no diagnosis): wall / peak RSS",
		ms(median(walls)) + " / " + mb(median(rss)) + spread(walls), "—", ""})

	// Codex honours SSL_CERT_FILE (and CODEX_CA_CERTIFICATE); many
	// machines set it to the system bundle, which reqdoctor then parses.
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(bundle); err == nil {
		withCA := fast
		withCA.extraEnv = []string{"SSL_CERT_FILE=" + bundle}
		runs, err = b.series(withCA, b.o.runs, 0, limit, "--json")
		if err != nil {
			return err
		}
		walls = pick(runs, func(m measured) time.Duration { return m.wall })
		w := median(walls)
		b.rows = append(b.rows, row{"end-to-end `--json` with SSL_CERT_FILE=" + bundle + ": wall", ms(w) + spread(walls), "≤ 15 ms", verdict(w <= 15*time.Millisecond)})
	}

	runs, err = b.series(slow, max(b.o.runs/2, 5), 0, limit, "--json")
	if err != nil {
		return err
	}
	walls = pick(runs, func(m measured) time.Duration { return m.wall })
	over := median(walls) - 200*time.Millisecond
	b.rows = append(b.rows, row{"own overhead, server answers after 200 ms: wall − 200 ms", ms(over) + spread(walls), "≤ 10 ms", verdict(over <= 10*time.Millisecond)})
	server, err := serverLatency(slow.url+"wham/config/bundle", max(b.o.runs/2, 5))
	if err != nil {
		return err
	}
	b.rows = append(b.rows, row{"own overhead: wall − the server's measured answer time (a plain Go GET, new connection each)",
		fmt.Sprintf("%s (server answers in %s)", ms(median(walls)-server), ms(server)), "≤ 10 ms", verdict(median(walls)-server <= 10*time.Millisecond)})

	runs, err = b.series(big, max(b.o.runs/4, 5), 0, limit, "--json")
	if err != nil {
		return err
	}
	if err := checkJSON(runs[0], 5000); err != nil {
		return err
	}
	walls = pick(runs, func(m measured) time.Duration { return m.wall })
	rss = pick(runs, func(m measured) int64 { return m.rssKiB })
	b.rows = append(b.rows,
		row{"end-to-end `--json`, 1 MiB bundle of 5,000 MCP servers: wall", ms(median(walls)) + spread(walls), "— (50 ms in-process)", ""},
		row{"end-to-end `--json`, 1 MiB bundle: peak RSS", mb(median(rss)), "—", ""},
	)

	runs, err = b.series(big, max(b.o.runs/4, 5), 0, limit, "--plain")
	if err != nil {
		return err
	}
	walls = pick(runs, func(m measured) time.Duration { return m.wall })
	b.rows = append(b.rows, row{"end-to-end `--plain`, 1 MiB bundle: wall", ms(median(walls)) + spread(walls), "—", ""})
	return nil
}

// serverLatency is the median time a bare HTTP GET of url takes, a new
// connection each time as reqdoctor makes: the server's own share of a run.
func serverLatency(url string, n int) (time.Duration, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	var ds []time.Duration
	for range n {
		start := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ds = append(ds, time.Since(start))
	}
	return median(ds), nil
}

func (b *bench) deadline(hang home) error {
	var late []time.Duration
	for range 5 {
		m, err := b.once(hang, 30*time.Second, "--json", "--timeout", "2s")
		if err != nil {
			return err
		}
		if m.exit != 124 {
			return fmt.Errorf("never-answering server: exit %d, want 124; stdout: %.400s", m.exit, m.stdout)
		}
		late = append(late, m.wall-2*time.Second)
	}
	l := median(late)
	b.rows = append(b.rows, row{"deadline: `--timeout 2s`, server never answers: exit − 2.000 s", fmt.Sprintf("%+.1f ms", float64(l)/1e6) + spread(late),
		"0 … +50 ms", verdict(l >= 0 && l <= 50*time.Millisecond)})
	return nil
}

// tmux drives a private tmux server whose socket lies in the harness's
// temporary folder, so the user's sessions are never touched and nothing
// is left behind.
type tmux struct{ socket string }

func (t tmux) cmd(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tmux", append([]string{"-S", t.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

func (t tmux) kill() { _, _ = t.cmd("kill-server") }

// start starts the server with an idle session, so the server does not
// exit (and race the next new-session) each time a measured session ends.
func (t tmux) start() error {
	atExit(t.kill)
	_, err := t.cmd("new-session", "-d", "-s", "keep", "sleep 900")
	return err
}

// launchScript writes a script that waits for Enter (so the clock can
// start at a known moment), then becomes cmdline with a clean environment.
func (b *bench) launchScript(name string, env []string, cmdline []string) (string, error) {
	var s strings.Builder
	s.WriteString("#!/bin/sh\nread x\nexec env -i")
	for _, e := range append(env, cmdline...) {
		s.WriteString(" " + shellQuote(e))
	}
	s.WriteString("\n")
	p := filepath.Join(b.tmp, name+".sh")
	return p, os.WriteFile(p, []byte(s.String()), 0o700)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// frameOnce starts script in a fresh 100×40 pane, presses Enter and times
// until want shows in the pane's raw output (streamed by pipe-pane).
func (b *bench) frameOnce(t tmux, script, want string, i int) (time.Duration, error) {
	out := filepath.Join(b.tmp, fmt.Sprintf("pane-%d.out", i))
	if _, err := t.cmd("new-session", "-d", "-s", "f", "-x", "100", "-y", "40", script); err != nil {
		return 0, err
	}
	defer func() { _, _ = t.cmd("kill-session", "-t", "f") }()
	if _, err := t.cmd("pipe-pane", "-t", "f", "cat > "+shellQuote(out)); err != nil {
		return 0, err
	}
	time.Sleep(300 * time.Millisecond) // let the shell reach `read` and cat start
	start := time.Now()
	if _, err := t.cmd("send-keys", "-t", "f", "Enter"); err != nil {
		return 0, err
	}
	for time.Since(start) < 5*time.Second {
		data, _ := os.ReadFile(out)
		if bytes.Contains(data, []byte(want)) {
			return time.Since(start), nil
		}
		time.Sleep(200 * time.Microsecond)
	}
	return 0, fmt.Errorf("%q did not show within 5 s", want)
}

func (b *bench) firstFrame(fast home) error {
	t := tmux{socket: filepath.Join(b.tmp, "tmux-frame.sock")}
	defer t.kill()
	if err := t.start(); err != nil {
		return err
	}
	env := b.env(fast, "xterm-256color")
	tui, err := b.launchScript("tui", env, append([]string{b.o.bin}, args(fast, "--tui")...))
	if err != nil {
		return err
	}
	// The baseline prints the same word at once: what tmux, the script and
	// the polling cost on their own.
	base, err := b.launchScript("baseline", env, []string{"/bin/echo", "reqdoctor"})
	if err != nil {
		return err
	}
	var raw, baseline []time.Duration
	for i := range b.o.frameRuns {
		d, err := b.frameOnce(t, base, "reqdoctor", 2*i)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		baseline = append(baseline, d)
		d, err = b.frameOnce(t, tui, "reqdoctor", 2*i+1)
		if err != nil {
			return err
		}
		raw = append(raw, d)
	}
	net := median(raw) - median(baseline)
	b.rows = append(b.rows, row{"TUI first frame (tmux, title line shown), net of the tmux baseline",
		fmt.Sprintf("%s (raw %s, baseline %s, n=%d)", ms(net), ms(median(raw)), ms(median(baseline)), len(raw)),
		"≤ 50 ms", verdict(net <= 50*time.Millisecond)})
	return nil
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}

// procCPU is utime+stime of pid, all threads, from /proc/PID/stat.
func procCPU(pid int, hz float64) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return time.Duration((u + st) / hz * float64(time.Second)), nil
}

func (b *bench) waiting(hang home) error {
	t := tmux{socket: filepath.Join(b.tmp, "tmux-wait.sock")}
	defer t.kill()
	if err := t.start(); err != nil {
		return err
	}
	hz := clockTicks()
	script, err := b.launchScript("wait", b.env(hang, "xterm-256color"), append([]string{b.o.bin}, args(hang, "--tui", "--timeout", "10s")...))
	if err != nil {
		return err
	}
	var whole, steady []float64
	for range b.o.waitRuns {
		if _, err := t.cmd("new-session", "-d", "-s", "w", "-x", "100", "-y", "40", script); err != nil {
			return err
		}
		out, err := t.cmd("display-message", "-p", "-t", "w", "#{pane_pid}")
		if err != nil {
			return err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			return fmt.Errorf("pane pid %q: %v", out, err)
		}
		time.Sleep(200 * time.Millisecond)
		if _, err := t.cmd("send-keys", "-t", "w", "Enter"); err != nil {
			return err
		}
		start := time.Now()
		time.Sleep(time.Second)
		c1, err := procCPU(pid, hz)
		if err != nil {
			return err
		}
		t1 := time.Now()
		time.Sleep(time.Until(start.Add(9800 * time.Millisecond)))
		c2, err := procCPU(pid, hz)
		if err != nil {
			return err
		}
		t2 := time.Now()
		whole = append(whole, 100*float64(c2)/float64(t2.Sub(start)))
		steady = append(steady, 100*float64(c2-c1)/float64(t2.Sub(t1)))
		_, _ = t.cmd("send-keys", "-t", "w", "q")
		time.Sleep(500 * time.Millisecond)
		_, _ = t.cmd("kill-session", "-t", "w")
	}
	w := median(whole)
	b.rows = append(b.rows,
		row{"waiting: TUI CPU during a 10 s hang (launch → 9.8 s, incl. start-up)", fmt.Sprintf("%.2f %% of one core (n=%d)", w, len(whole)), "≤ 2 %", verdict(w <= 2)},
		row{"waiting: TUI CPU, steady state (1 s → 9.8 s)", fmt.Sprintf("%.2f %% of one core", median(steady)), "≤ 2 %", verdict(median(steady) <= 2)},
	)
	return nil
}

func (b *bench) sizes() {
	for _, p := range []struct{ label, path string }{{"binary size, plain `go build`", b.o.bin}, {"binary size, `-ldflags=\"-s -w\"`", b.o.binStripped}} {
		if p.path == "" {
			continue
		}
		if fi, err := os.Stat(p.path); err == nil {
			b.rows = append(b.rows, row{p.label, fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6), "—", ""})
		}
	}
}

// goTargets are the Go benchmarks with a target of BENCHMARKS.md.
var goTargets = map[string]time.Duration{
	"ParseMergeValidate5000Servers":        50 * time.Millisecond,
	"ParseMergeValidateBundle200Fragments": 50 * time.Millisecond,
	"ViewFinished5000Rows":                 2 * time.Millisecond,
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)

// goBench summarises `go test -bench -count N` output: the median per
// benchmark of ns/op, and of B/op and allocs/op when reported.
func (b *bench) goBench(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	type acc struct{ ns, bytes, allocs []float64 }
	got := map[string]*acc{}
	var order []string
	for _, line := range strings.Split(string(data), "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		a := got[m[1]]
		if a == nil {
			a = &acc{}
			got[m[1]] = a
			order = append(order, m[1])
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		a.ns = append(a.ns, ns)
		f := strings.Fields(m[4])
		for i := 1; i < len(f); i++ {
			v, _ := strconv.ParseFloat(f[i-1], 64)
			switch f[i] {
			case "B/op":
				a.bytes = append(a.bytes, v)
			case "allocs/op":
				a.allocs = append(a.allocs, v)
			}
		}
	}
	if len(order) == 0 {
		return fmt.Errorf("%s: no benchmark results", path)
	}
	for _, name := range order {
		a := got[name]
		d := time.Duration(median(a.ns))
		res := fmt.Sprintf("%s/op", fmtDur(d))
		if len(a.bytes) > 0 {
			res += fmt.Sprintf(", %.1f MB/op", median(a.bytes)/1e6)
		}
		if len(a.allocs) > 0 {
			res += fmt.Sprintf(", %s allocs/op", fmtCount(median(a.allocs)))
		}
		res += fmt.Sprintf(" (n=%d)", len(a.ns))
		r := row{"Go: `Benchmark" + name + "`", res, "—", ""}
		if t, ok := goTargets[name]; ok {
			r.target = "≤ " + fmtDur(t)
			r.verdict = verdict(d <= t)
			if d > t {
				r.verdict += fmt.Sprintf(" (%.1f×)", float64(d)/float64(t))
			}
		}
		b.rows = append(b.rows, r)
	}
	return nil
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	}
}

func fmtCount(v float64) string {
	if v >= 1e3 {
		return fmt.Sprintf("%.0fk", math.Round(v/1e3))
	}
	return fmt.Sprintf("%.0f", v)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func (b *bench) print() {
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	fmt.Printf("Machine: %d CPUs (nproc), %s, %s, %s/%s; %s\n\n", runtime.NumCPU(), cpuModel(), goVersion, runtime.GOOS, runtime.GOARCH,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| figure | median | target | |")
	fmt.Println("|---|---|---|---|")
	for _, r := range b.rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.figure, r.result, r.target, r.verdict)
	}
}
